package serve

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// servicePort resolves the port a Backend names to the name EndpointSlices
// know it by. Slices name each port after the Service's port and carry
// the pods' port numbers, not the Service's, so a port given by number
// needs the Service. why says what is missing when ok is false.
func servicePort(port string, svc *corev1.Service) (name string, why string, ok bool) {
	n, err := strconv.Atoi(port)
	if err != nil {
		return port, "", true // a name
	}
	if svc == nil {
		return "", "the Service does not exist", false
	}
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == n && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
			return p.Name, "", true
		}
	}
	return "", fmt.Sprintf("the Service has no TCP port %d", n), false
}

// endpointHealth maps the conditions of an endpoint to what Envoy and gRPC
// make of it:
//
//   - ready → HEALTHY. An unknown (unset) ready counts as ready, as the
//     API asks of consumers.
//   - terminating but still serving → DRAINING: no new requests (Envoy
//     treats it as unhealthy, gRPC leaves it out), while requests under
//     way finish.
//   - anything else, not ready or terminating and no longer serving →
//     UNHEALTHY.
//
// An endpoint marked both ready and terminating (a Service with
// publishNotReadyAddresses) is HEALTHY: ready is explicit there.
func endpointHealth(c discoveryv1.EndpointConditions) corev3.HealthStatus {
	ready := c.Ready == nil || *c.Ready
	serving := ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	terminating := c.Terminating != nil && *c.Terminating
	switch {
	case c.Ready != nil && *c.Ready:
		return corev3.HealthStatus_HEALTHY
	case terminating && serving:
		return corev3.HealthStatus_DRAINING
	case !terminating && ready:
		return corev3.HealthStatus_HEALTHY
	}
	return corev3.HealthStatus_UNHEALTHY
}

// healthRank orders statuses for an endpoint listed twice: the healthier
// listing wins.
func healthRank(h corev3.HealthStatus) int {
	switch h {
	case corev3.HealthStatus_HEALTHY:
		return 0
	case corev3.HealthStatus_DRAINING:
		return 1
	}
	return 2
}

// assignment builds the endpoints of one Service port from the Service
// and its EndpointSlices, for the EDS service name name:
//
//   - every endpoint of an IPv4 or IPv6 slice that has the port (by name;
//     TCP), at its first address and the slice's number for the port. FQDN
//     slices are skipped: EDS carries addresses.
//   - one locality per zone (endpoint.zone → locality.zone; none is the
//     empty zone), in zone order, weighted by its number of HEALTHY
//     endpoints (at least 1, as gRPC drops a locality of weight 0), so that
//     a client that weighs localities (gRPC does) spreads load per endpoint.
//   - each endpoint's health from its conditions (endpointHealth); an
//     address and port in several slices, as while a controller moves it,
//     is listed once, the healthiest listing first by slice name winning.
//   - endpoints sorted by address and port: the same slices give the same
//     bytes, whatever order the API server lists them in.
//
// why is set when the Service port cannot be resolved; the assignment then
// has no endpoints.
func assignment(name, port string, svc *corev1.Service, endpointSlices []*discoveryv1.EndpointSlice) (*endpointv3.ClusterLoadAssignment, string) {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	portName, why, ok := servicePort(port, svc)
	if !ok {
		return cla, why
	}
	type ep struct {
		addr   string
		port   uint32
		zone   string
		health corev3.HealthStatus
	}
	found := map[string]*ep{}
	sorted := slices.SortedFunc(slices.Values(endpointSlices), func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range sorted {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var number uint32
		for _, p := range s.Ports {
			if p.Port == nil || *p.Port <= 0 || (p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP) {
				continue
			}
			if p.Name != nil && *p.Name == portName || p.Name == nil && portName == "" {
				number = uint32(*p.Port)
				break
			}
		}
		if number == 0 {
			continue
		}
		for _, e := range s.Endpoints {
			if len(e.Addresses) == 0 || net.ParseIP(e.Addresses[0]) == nil {
				continue
			}
			cur := &ep{addr: e.Addresses[0], port: number, health: endpointHealth(e.Conditions)}
			if e.Zone != nil {
				cur.zone = *e.Zone
			}
			key := net.JoinHostPort(cur.addr, strconv.Itoa(int(number)))
			if prev, seen := found[key]; !seen || healthRank(cur.health) < healthRank(prev.health) {
				found[key] = cur
			}
		}
	}
	eps := make([]*ep, 0, len(found))
	for _, e := range found {
		eps = append(eps, e)
	}
	slices.SortFunc(eps, func(a, b *ep) int {
		return cmp.Or(strings.Compare(a.zone, b.zone), strings.Compare(a.addr, b.addr), cmp.Compare(a.port, b.port))
	})
	var loc *endpointv3.LocalityLbEndpoints
	healthy := uint32(0)
	for _, e := range eps {
		if loc == nil || loc.Locality.Zone != e.zone {
			loc = &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Zone: e.zone}}
			cla.Endpoints = append(cla.Endpoints, loc)
			healthy = 0
		}
		loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{
				Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: e.addr, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: e.port},
				}},
			}}},
			HealthStatus: e.health,
		})
		if e.health == corev3.HealthStatus_HEALTHY {
			healthy++
		}
		loc.LoadBalancingWeight = wrapperspb.UInt32(max(healthy, 1))
	}
	return cla, ""
}
