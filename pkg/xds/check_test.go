package xds

import (
	"fmt"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/ir"
)

// testGateway is a small valid gateway: an HTTP and an HTTPS listener, a
// TLS virtual host, two static clusters and one of a Kubernetes Service.
func testGateway() *ir.Gateway {
	route := func(cluster string) *ir.Route {
		return &ir.Route{Match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, Forward: []ir.WeightedCluster{{Cluster: cluster, Weight: 1}}}
	}
	return &ir.Gateway{
		Name: "edge", NodeID: "edge", NodeCluster: "edge", XDSDir: "/etc/envoy/xds",
		Listeners: []*ir.Listener{
			{Name: "http", Address: "0.0.0.0", Port: 80, Protocol: ir.HTTP, Routes: &ir.RouteTable{Name: "http",
				VirtualHosts: []*ir.VirtualHost{{Name: "www", Domains: []string{"www.example.com"}, Routes: []*ir.Route{route("web")}}}}},
			{Name: "https", Address: "0.0.0.0", Port: 443, Protocol: ir.HTTPS, TLS: &ir.ListenerTLS{MinVersion: "1.2"},
				Chains: []*ir.FilterChain{{Name: "cert", ServerNames: []string{"shop.example.com"}, Certificate: ir.CertRef{Name: "cert"},
					Routes: &ir.RouteTable{Name: "https.cert", VirtualHosts: []*ir.VirtualHost{{Name: "shop", Domains: []string{"shop.example.com"}, Routes: []*ir.Route{route("shop")}}}}}}},
		},
		Clusters: []*ir.Cluster{
			{Name: "pay", Discovery: ir.Kubernetes, Service: &ir.Service{Namespace: "shop", Name: "pay", Port: "http"}, ConnectTimeout: time.Second, LB: ir.RoundRobin},
			{Name: "shop", Discovery: ir.Static, Endpoints: []ir.Endpoint{{Address: "10.0.0.2", Port: 80}}, ConnectTimeout: time.Second, LB: ir.RoundRobin},
			{Name: "web", Discovery: ir.Static, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80}}, ConnectTimeout: time.Second, LB: ir.RoundRobin},
		},
		Secrets: []*ir.Secret{{Name: "cert", Chain: "/c.crt", Key: "/c.key"}},
	}
}

func TestCheckAcceptsTranslation(t *testing.T) {
	t.Parallel()
	g := testGateway()
	if err := g.Validate(); err != nil {
		t.Fatalf("test gateway is invalid: %v", err)
	}
	for _, mode := range []Mode{Static, Files, ADS} {
		if err := Check(Translate(g, mode)[0], mode); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
}

// hcm opens the connection manager of a listener's first filter chain,
// lets edit change it, and packs it back.
func hcm(t *testing.T, l *listenerv3.Listener, edit func(*hcmv3.HttpConnectionManager)) {
	t.Helper()
	f := l.FilterChains[0].Filters[0]
	m := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: toAny(m)}
}

// TestCheckCatchesBrokenResources breaks one thing at a time and expects
// Check to name it.
func TestCheckCatchesBrokenResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    Mode
		breakIt func(t *testing.T, r *Resources)
		want    string
	}{
		{"route to a missing cluster", Files, func(t *testing.T, r *Resources) {
			r.Routes[0].VirtualHosts[0].Routes[0].GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nope"}
		}, `route to unknown cluster "nope"`},
		{"missing route configuration", Files, func(t *testing.T, r *Resources) {
			r.Routes = r.Routes[1:]
		}, `route configuration "http" does not exist`},
		{"unused route configuration", Files, func(t *testing.T, r *Resources) {
			r.Routes = append(r.Routes, &routev3.RouteConfiguration{Name: "orphan"})
		}, `route configuration "orphan" is used by no listener`},
		{"missing secret", Files, func(t *testing.T, r *Resources) {
			r.Secrets = nil
		}, `secret "cert" does not exist`},
		{"duplicate domain", Files, func(t *testing.T, r *Resources) {
			vh := proto.Clone(r.Routes[0].VirtualHosts[0]).(*routev3.VirtualHost)
			vh.Name = "www2"
			r.Routes[0].VirtualHosts = append(r.Routes[0].VirtualHosts, vh)
		}, `domain "www.example.com" is in virtual hosts "www" and "www2"`},
		{"duplicate filter chain match", Files, func(t *testing.T, r *Resources) {
			l := r.Listeners[1]
			fc := proto.Clone(l.FilterChains[0]).(*listenerv3.FilterChain)
			fc.Name = "copy"
			l.FilterChains = append(l.FilterChains, fc)
		}, `filter chains "cert" and "copy" both match shop.example.com`},
		{"invalid message inside an Any", Files, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) { m.StatPrefix = "" })
		}, "HttpConnectionManager.StatPrefix: value length must be at least 1 runes"},
		{"invalid route deep in a large virtual host", Files, func(t *testing.T, r *Resources) {
			vh := r.Routes[0].VirtualHosts[0]
			for i := range 2 * checkPiece {
				rt := proto.Clone(vh.Routes[0]).(*routev3.Route)
				rt.Name = fmt.Sprintf("copy%d", i)
				vh.Routes = append(vh.Routes, rt)
			}
			vh.Routes[checkPiece+7].Match = nil
		}, "route copy518: invalid Route.Match: value is required"},
		{"invalid field of a large virtual host", Files, func(t *testing.T, r *Resources) {
			vh := r.Routes[0].VirtualHosts[0]
			for range 2 * checkPiece {
				vh.Routes = append(vh.Routes, proto.Clone(vh.Routes[0]).(*routev3.Route))
			}
			vh.Domains = nil
		}, "VirtualHost.Domains: value must contain at least 1 item(s)"},
		{"invalid top-level field", Files, func(t *testing.T, r *Resources) {
			r.Clusters[0].LbPolicy = 99
		}, "invalid Cluster.LbPolicy: value must be one of the defined enum values"},
		{"duplicate cluster", Files, func(t *testing.T, r *Resources) {
			r.Clusters = append(r.Clusters, proto.Clone(r.Clusters[0]).(*clusterv3.Cluster))
		}, `cluster "pay" is defined twice`},
		{"RDS in a static bootstrap", Static, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) {
				m.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http", ConfigSource: adsSource()}}
			})
		}, "a static bootstrap cannot use RDS"},
		{"missing endpoints", Files, func(t *testing.T, r *Resources) {
			r.Endpoints = nil
		}, `cluster "pay": endpoints "k8s/shop/pay:http" do not exist`},
		{"unused endpoints", ADS, func(t *testing.T, r *Resources) {
			r.Endpoints = append(r.Endpoints, &endpointv3.ClusterLoadAssignment{ClusterName: "k8s/shop/gone:80"})
		}, `endpoints "k8s/shop/gone:80" are used by no cluster`},
		{"endpoints twice", ADS, func(t *testing.T, r *Resources) {
			r.Endpoints = append(r.Endpoints, r.Endpoints[0])
		}, `endpoints "k8s/shop/pay:http" are defined twice`},
		{"endpoints from a file over ADS", ADS, func(t *testing.T, r *Resources) {
			r.Clusters[0].EdsClusterConfig.EdsConfig = pathSource("/etc/envoy/xds", EndpointsFile("k8s/shop/pay:http"))
		}, `cluster "pay": endpoints "k8s/shop/pay:http" do not come over ADS`},
		{"endpoints from another file", Files, func(t *testing.T, r *Resources) {
			r.Clusters[0].EdsClusterConfig.EdsConfig = pathSource("/etc/envoy/xds", "eds-other.yaml")
		}, `cluster "pay": endpoints "k8s/shop/pay:http" are not read from their file`},
		{"EDS in a static bootstrap", Static, func(t *testing.T, r *Resources) {
			r.Clusters[0] = Translate(testGateway(), ADS)[0].Clusters[0]
		}, `cluster "pay": a static bootstrap cannot use EDS`},
		{"inline route to a missing cluster", Static, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) {
				m.GetRouteConfig().VirtualHosts[0].Routes[0].GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "gone"}
			})
		}, `route to unknown cluster "gone"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Translate(testGateway(), tc.mode)[0]
			tc.breakIt(t, r)
			err := Check(r, tc.mode)
			if err == nil {
				t.Fatalf("Check accepted the broken resources")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestServiceName(t *testing.T) {
	t.Parallel()
	for _, s := range []ir.Service{{Namespace: "shop", Name: "pay", Port: "http"}, {Namespace: "a-b", Name: "c", Port: "8443"}} {
		name := ServiceName(s)
		back, ok := ParseServiceName(name)
		if !ok || back != s {
			t.Errorf("%q parses to %+v, %v; want %+v", name, back, ok, s)
		}
	}
	for _, name := range []string{"", "pay", "k8s/", "k8s/shop", "k8s/shop/pay", "k8s/shop/pay:", "k8s//pay:80", "k8s/shop/:80", "k8s/shop/a/b:80", "k8s/shop/pay:80:90", "eds/shop/pay:80"} {
		if s, ok := ParseServiceName(name); ok {
			t.Errorf("%q parses to %+v", name, s)
		}
	}
	if got, want := EndpointsFile("k8s/shop/pay:http"), "eds-k8s.shop.pay.http.yaml"; got != want {
		t.Errorf("EndpointsFile = %q, want %q", got, want)
	}
}
