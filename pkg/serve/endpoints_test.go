package serve

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Builders for the table below: slices, endpoints and conditions as the
// API server holds them, and the assignment expected of them.

func slice(name string, typ discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name}, AddressType: typ, Ports: ports, Endpoints: eps}
}

func port(name string, number int32) discoveryv1.EndpointPort {
	p := discoveryv1.EndpointPort{Port: &number}
	if name != "-" { // "-": no name at all
		p.Name = &name
	}
	return p
}

func udp(p discoveryv1.EndpointPort) discoveryv1.EndpointPort {
	proto := corev1.ProtocolUDP
	p.Protocol = &proto
	return p
}

func kep(addr, zone string, c discoveryv1.EndpointConditions) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: c}
	if zone != "" {
		e.Zone = &zone
	}
	return e
}

func cond(ready, serving, terminating *bool) discoveryv1.EndpointConditions {
	return discoveryv1.EndpointConditions{Ready: ready, Serving: serving, Terminating: terminating}
}

var (
	yes   = new(true)
	no    = new(false)
	ready = cond(yes, yes, no)
)

func service(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{Spec: corev1.ServiceSpec{Ports: ports}}
}

func svcPort(name string, number int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: number, Protocol: corev1.ProtocolTCP}
}

func lbe(addr string, port uint32, h corev3.HealthStatus) *endpointv3.LbEndpoint {
	return &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{
			Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: addr, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}},
		}}},
		HealthStatus: h,
	}
}

func locality(zone string, weight uint32, eps ...*endpointv3.LbEndpoint) *endpointv3.LocalityLbEndpoints {
	return &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Zone: zone}, LoadBalancingWeight: wrapperspb.UInt32(weight), LbEndpoints: eps}
}

const (
	healthy   = corev3.HealthStatus_HEALTHY
	draining  = corev3.HealthStatus_DRAINING
	unhealthy = corev3.HealthStatus_UNHEALTHY
)

// TestAssignment holds the mapping from EndpointSlices to a
// ClusterLoadAssignment to what docs/delivery.md promises: ports by name
// and by number, conditions as health statuses, zones as localities,
// duplicates once, and the same bytes whatever order the slices come in.
func TestAssignment(t *testing.T) {
	t.Parallel()
	http := []discoveryv1.EndpointPort{port("http", 8080), port("metrics", 9090)}
	tests := []struct {
		name   string
		port   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   []*endpointv3.LocalityLbEndpoints
		why    string
	}{
		{
			name: "zones become localities weighted by healthy endpoints",
			port: "http",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-b", discoveryv1.AddressTypeIPv4, http, kep("10.0.1.7", "zone-b", ready)),
				slice("web-a", discoveryv1.AddressTypeIPv4, http,
					kep("10.0.0.9", "zone-a", ready), kep("10.0.0.10", "zone-a", ready), kep("10.0.0.11", "zone-a", cond(no, no, no))),
			},
			want: []*endpointv3.LocalityLbEndpoints{
				locality("zone-a", 2, lbe("10.0.0.10", 8080, healthy), lbe("10.0.0.11", 8080, unhealthy), lbe("10.0.0.9", 8080, healthy)),
				locality("zone-b", 1, lbe("10.0.1.7", 8080, healthy)),
			},
		},
		{
			name: "an endpoint without a zone is in the empty zone",
			port: "metrics",
			slices: []*discoveryv1.EndpointSlice{
				slice("web", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "", ready), kep("10.0.0.2", "zone-a", ready)),
			},
			want: []*endpointv3.LocalityLbEndpoints{
				locality("", 1, lbe("10.0.0.1", 9090, healthy)),
				locality("zone-a", 1, lbe("10.0.0.2", 9090, healthy)),
			},
		},
		{
			name: "conditions become health statuses",
			port: "http",
			slices: []*discoveryv1.EndpointSlice{
				slice("web", discoveryv1.AddressTypeIPv4, http,
					kep("10.0.0.1", "", cond(yes, yes, no)),  // ready
					kep("10.0.0.2", "", cond(nil, nil, nil)), // unknown: ready
					kep("10.0.0.3", "", cond(no, no, no)),    // not ready yet
					kep("10.0.0.4", "", cond(no, yes, yes)),  // terminating, still serving
					kep("10.0.0.5", "", cond(no, no, yes)),   // terminating, done serving
					kep("10.0.0.6", "", cond(yes, yes, yes)), // publishNotReadyAddresses
					kep("10.0.0.7", "", cond(nil, nil, yes)), // terminating, serving unknown: as ready
					kep("10.0.0.8", "", cond(no, yes, no)),   // not terminating: ready decides
					kep("10.0.0.9", "", cond(nil, no, yes)),  // terminating, not serving
				),
			},
			want: []*endpointv3.LocalityLbEndpoints{
				locality("", 3,
					lbe("10.0.0.1", 8080, healthy), lbe("10.0.0.2", 8080, healthy), lbe("10.0.0.3", 8080, unhealthy),
					lbe("10.0.0.4", 8080, draining), lbe("10.0.0.5", 8080, unhealthy), lbe("10.0.0.6", 8080, healthy),
					lbe("10.0.0.7", 8080, draining), lbe("10.0.0.8", 8080, unhealthy), lbe("10.0.0.9", 8080, unhealthy)),
			},
		},
		{
			name: "a port by number is found through the Service",
			port: "80",
			svc:  service(svcPort("admin", 81), svcPort("http", 80)),
			slices: []*discoveryv1.EndpointSlice{
				slice("web", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "", ready)),
			},
			want: []*endpointv3.LocalityLbEndpoints{locality("", 1, lbe("10.0.0.1", 8080, healthy))},
		},
		{
			name: "the unnamed port of a one-port Service",
			port: "80",
			svc:  service(svcPort("", 80)),
			slices: []*discoveryv1.EndpointSlice{
				slice("web", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("-", 8000)}, kep("10.0.0.1", "", ready)),
				slice("web-named", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("", 8001)}, kep("10.0.0.2", "", ready)),
			},
			want: []*endpointv3.LocalityLbEndpoints{locality("", 2, lbe("10.0.0.1", 8000, healthy), lbe("10.0.0.2", 8001, healthy))},
		},
		{
			name:   "a port by number without the Service",
			port:   "80",
			slices: []*discoveryv1.EndpointSlice{slice("web", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "", ready))},
			why:    "the Service does not exist",
		},
		{
			name:   "a port number the Service does not have",
			port:   "443",
			svc:    service(svcPort("http", 80)),
			slices: []*discoveryv1.EndpointSlice{slice("web", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "", ready))},
			why:    "the Service has no TCP port 443",
		},
		{
			name: "pods with different numbers for the port name",
			port: "http",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-1", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("http", 8080)}, kep("10.0.0.1", "", ready)),
				slice("web-2", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("http", 8081)}, kep("10.0.0.2", "", ready)),
			},
			want: []*endpointv3.LocalityLbEndpoints{locality("", 2, lbe("10.0.0.1", 8080, healthy), lbe("10.0.0.2", 8081, healthy))},
		},
		{
			name: "an endpoint in two slices is listed once, healthiest first",
			port: "http",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-1", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "zone-a", cond(no, yes, yes)), kep("10.0.0.2", "zone-a", ready)),
				slice("web-2", discoveryv1.AddressTypeIPv4, http, kep("10.0.0.1", "zone-b", ready), kep("10.0.0.2", "zone-b", ready)),
			},
			want: []*endpointv3.LocalityLbEndpoints{
				locality("zone-a", 1, lbe("10.0.0.2", 8080, healthy)),
				locality("zone-b", 1, lbe("10.0.0.1", 8080, healthy)),
			},
		},
		{
			name: "IPv6 slices count; FQDN slices, UDP ports and other ports do not",
			port: "http",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-v6", discoveryv1.AddressTypeIPv6, http, kep("fd00::1", "", ready)),
				slice("web-fqdn", discoveryv1.AddressTypeFQDN, http, kep("web.example.com", "", ready)),
				slice("web-udp", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{udp(port("http", 8080))}, kep("10.0.0.3", "", ready)),
				slice("web-other", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{port("grpc", 9000)}, kep("10.0.0.4", "", ready)),
				slice("web-empty", discoveryv1.AddressTypeIPv4, http, discoveryv1.Endpoint{}),
			},
			want: []*endpointv3.LocalityLbEndpoints{locality("", 1, lbe("fd00::1", 8080, healthy))},
		},
		{
			name: "no slices, no endpoints",
			port: "http",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := &endpointv3.ClusterLoadAssignment{ClusterName: "k8s/shop/web:" + tt.port, Endpoints: tt.want}
			// Every order of the slices gives the same assignment.
			orders := [][]*discoveryv1.EndpointSlice{tt.slices, slices.Clone(tt.slices)}
			slices.Reverse(orders[1])
			for _, in := range orders {
				got, why := assignment(want.ClusterName, tt.port, tt.svc, in)
				if why != tt.why {
					t.Errorf("why = %q, want %q", why, tt.why)
				}
				if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
					t.Errorf("assignment (-want +got):\n%s", d)
				}
				if err := got.ValidateAll(); err != nil {
					t.Errorf("Envoy would refuse it: %v", err)
				}
			}
		})
	}
}

// TestEndpointsVersion: the endpoints' version is the bundle's with a hash
// of the assignments, the same for the same endpoints, and counts as the
// bundle's version when a client acknowledges it.
func TestEndpointsVersion(t *testing.T) {
	t.Parallel()
	a := []*endpointv3.ClusterLoadAssignment{{ClusterName: "k8s/shop/web:http", Endpoints: []*endpointv3.LocalityLbEndpoints{locality("", 1, lbe("10.0.0.1", 80, healthy))}}}
	b := []*endpointv3.ClusterLoadAssignment{{ClusterName: "k8s/shop/web:http", Endpoints: []*endpointv3.LocalityLbEndpoints{locality("", 1, lbe("10.0.0.1", 80, draining))}}}
	va, vb := endpointsVersion("sha256:d1", a), endpointsVersion("sha256:d1", b)
	if va == vb || va != endpointsVersion("sha256:d1", a) {
		t.Errorf("versions %q and %q: want different for different endpoints, equal for equal ones", va, vb)
	}
	for _, tt := range []struct {
		acked string
		want  bool
	}{{"sha256:d1", true}, {va, true}, {vb, true}, {"sha256:d2", false}, {endpointsVersion("sha256:d2", a), false}, {"sha256:d1x", false}, {"", false}} {
		if got := sameVersion(tt.acked, "sha256:d1"); got != tt.want {
			t.Errorf("sameVersion(%q, sha256:d1) = %v, want %v", tt.acked, got, tt.want)
		}
	}
}
