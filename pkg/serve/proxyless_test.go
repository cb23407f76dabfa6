package serve

import (
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/xds"
)

const proxylessRepo = `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: https, port: 8443, protocol: HTTPS}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: www-cert}
spec:
  files: {certificateChain: /tls/www.crt, privateKey: /tls/www.key}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: internal-ca}
spec:
  ca: {file: /tls/ca.pem}
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com, "*.www.example.com"]
  tls: {certificate: www-cert}
  routes:
  - {match: {path: {prefix: /maglev}}, backend: maglev}
  - {match: {path: {prefix: /random}}, backend: random}
  - {match: {path: {prefix: /secure}}, backend: secure}
  - {match: {path: {prefix: /dns}}, backend: dns}
  - {backend: web, retries: {attempts: 0}}
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: plain}
spec:
  gateway: edge
  hostnames: [plain.example.com]
  routes:
  - {backend: web, retries: {attempts: 2, on: [unavailable]}}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec:
  protocol: GRPC
  endpoints: [{address: 10.0.0.1, port: 8080, weight: 3}, {address: 10.0.0.2, port: 8080}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: maglev}
spec:
  loadBalancing: Maglev
  endpoints: [{address: 10.0.1.1, port: 8080}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: random}
spec:
  loadBalancing: Random
  endpoints: [{address: 10.0.2.1, port: 8080}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: secure}
spec:
  endpoints: [{address: 10.0.3.1, port: 8443}]
  tls: {ca: internal-ca}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: dns}
spec:
  endpoints: [{address: api.internal.example.com, port: 8080}]
`

// TestProxylessForm pins the flavour served to proxyless gRPC clients.
func TestProxylessForm(t *testing.T) {
	t.Parallel()
	res := compileFiles(t, map[string]string{"edgectl.yaml": project, "edge.yaml": proxylessRepo})
	ads, err := xds.ADSForm(res.Resources[0])
	if err != nil {
		t.Fatal(err)
	}
	before := cloneResources(ads)
	pl, notes, err := proxylessForm(ads)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkProxyless(pl); err != nil {
		t.Fatal(err)
	}
	if !equalResources(before, ads) {
		t.Error("proxylessForm modified its input")
	}

	// One api_listener per exact hostname, reading the route configuration
	// that serves it; a TLS virtual host's comes from its filter chain, not
	// from the plain listener that only redirects.
	wantRoutes := map[string]string{"plain.example.com": "http", "www.example.com": "https.www-cert"}
	var names []string
	for _, l := range pl.Listeners {
		names = append(names, l.Name)
		if l.Address != nil || len(l.FilterChains) > 0 {
			t.Errorf("listener %s is not an api_listener only", l.Name)
		}
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetApiListener().GetApiListener().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		rds := hcm.GetRds()
		if rds.GetRouteConfigName() != wantRoutes[l.Name] || rds.GetConfigSource().GetAds() == nil {
			t.Errorf("listener %s reads route configuration %q (ADS: %v), want %q over ADS", l.Name, rds.GetRouteConfigName(), rds.GetConfigSource().GetAds() != nil, wantRoutes[l.Name])
		}
		if len(hcm.HttpFilters) != 1 || hcm.HttpFilters[0].Name != wellknown.Router {
			t.Errorf("listener %s: HTTP filters are not the router alone", l.Name)
		}
	}
	if !slices.Equal(names, []string{"plain.example.com", "www.example.com"}) {
		t.Errorf("listeners %v, want plain.example.com and www.example.com (no wildcard)", names)
	}

	// The route configurations, except a retry policy of no retries.
	zeroRetries := func(rc *routev3.RouteConfiguration) bool {
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				if n := rt.GetRoute().GetRetryPolicy().GetNumRetries(); n != nil && n.GetValue() == 0 {
					return true
				}
			}
		}
		return false
	}
	if !zeroRetries(find(ads.Routes, "https.www-cert")) {
		t.Fatal("the repository has no route with a retry policy of no retries")
	}
	for _, rc := range pl.Routes {
		if zeroRetries(rc) {
			t.Errorf("%s: a retry policy of no retries is left, which gRPC rejects", rc.Name)
		}
	}
	if got := routeNames(pl.Routes); !slices.Equal(got, []string{"http", "https.www-cert"}) {
		t.Errorf("route configurations %v", got)
	}
	if rc := find(pl.Routes, "http"); rc != find(ads.Routes, "http") {
		t.Error("an unchanged route configuration is copied rather than shared")
	}

	// Clusters as EDS over ADS, load balancing mapped, TLS ones left out.
	wantLB := map[string]clusterv3.Cluster_LbPolicy{
		"dns": clusterv3.Cluster_ROUND_ROBIN, "maglev": clusterv3.Cluster_RING_HASH,
		"random": clusterv3.Cluster_ROUND_ROBIN, "web": clusterv3.Cluster_ROUND_ROBIN,
	}
	if got := clusterNames(pl.Clusters); !slices.Equal(got, []string{"dns", "maglev", "random", "web"}) {
		t.Errorf("clusters %v, want every cluster but secure", got)
	}
	for _, c := range pl.Clusters {
		if c.GetType() != clusterv3.Cluster_EDS || c.GetEdsClusterConfig().GetEdsConfig().GetAds() == nil || c.GetEdsClusterConfig().GetServiceName() != c.Name {
			t.Errorf("cluster %s is not EDS over ADS", c.Name)
		}
		if c.LbPolicy != wantLB[c.Name] {
			t.Errorf("cluster %s: load balancing %s, want %s", c.Name, c.LbPolicy, wantLB[c.Name])
		}
		if c.LoadAssignment != nil || c.TransportSocket != nil || len(c.HealthChecks) > 0 || len(c.TypedExtensionProtocolOptions) > 0 {
			t.Errorf("cluster %s keeps what gRPC does not read", c.Name)
		}
	}
	for _, cla := range pl.Endpoints {
		for _, loc := range cla.Endpoints {
			if loc.Locality == nil || loc.GetLoadBalancingWeight().GetValue() == 0 {
				t.Errorf("endpoints of %s: a locality without id or weight, which gRPC ignores", cla.ClusterName)
			}
		}
	}
	web := findCLA(pl.Endpoints, "web")
	if w := web.GetEndpoints()[0].GetLbEndpoints()[0].GetLoadBalancingWeight().GetValue(); w != 3 {
		t.Errorf("web's first endpoint has weight %d, want 3", w)
	}
	if a := findCLA(pl.Endpoints, "dns").GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); a != "api.internal.example.com" {
		t.Errorf("dns endpoint address %q", a)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `cluster "secure" is left out`) || !strings.Contains(notes[0], "TLS") {
		t.Errorf("notes = %q, want one about the TLS cluster", notes)
	}
	if ads.Clusters[0].GetLoadAssignment().GetEndpoints()[0].Locality != nil {
		t.Error("proxylessForm set a locality on the input's cluster")
	}
}

// TestCheckProxyless shows the check catching what a gRPC client would
// reject or never resolve.
func TestCheckProxyless(t *testing.T) {
	t.Parallel()
	res := compileFiles(t, map[string]string{"edgectl.yaml": project, "edge.yaml": proxylessRepo})
	ads, err := xds.ADSForm(res.Resources[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		break_ func(p *proxylessResources)
		want   string
	}{
		{"route configuration missing", func(p *proxylessResources) { p.Routes = p.Routes[1:] }, "does not exist"},
		{"route configuration unused", func(p *proxylessResources) { p.Listeners = p.Listeners[1:] }, "used by no listener"},
		{"endpoints missing", func(p *proxylessResources) { p.Endpoints = p.Endpoints[1:] }, "mismatched"},
		{"invalid cluster", func(p *proxylessResources) { p.Clusters[0].ConnectTimeout.Seconds = -1 }, "ConnectTimeout"},
		{"invalid connection manager", func(p *proxylessResources) {
			p.Listeners[0].ApiListener.ApiListener = pack(&hcmv3.HttpConnectionManager{})
		}, "StatPrefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pl, _, err := proxylessForm(ads)
			if err != nil {
				t.Fatal(err)
			}
			pl.Clusters = cloneAll(pl.Clusters)
			pl.Listeners = cloneAll(pl.Listeners)
			tt.break_(pl)
			if err := checkProxyless(pl); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkProxyless = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func cloneAll[T proto.Message](xs []T) []T {
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = proto.CloneOf(x)
	}
	return out
}

func routeNames(rs []*routev3.RouteConfiguration) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func clusterNames(cs []*clusterv3.Cluster) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func find(rs []*routev3.RouteConfiguration, name string) *routev3.RouteConfiguration {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func findCLA(cs []*endpointv3.ClusterLoadAssignment, name string) *endpointv3.ClusterLoadAssignment {
	for _, c := range cs {
		if c.ClusterName == name {
			return c
		}
	}
	return nil
}

// TestProxylessKubernetes: clusters of Backends that name a Kubernetes
// Service keep its service name, two of one Service port share one
// assignment (the bundle's, which the server fills), and a TLS one is left
// out with its assignment.
func TestProxylessKubernetes(t *testing.T) {
	t.Parallel()
	repo := `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com]
  routes:
  - {match: {path: {prefix: /canary}}, backend: canary}
  - {match: {path: {prefix: /secure}}, backend: secure}
  - {backend: web}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec:
  kubernetes: {namespace: shop, service: web, port: http}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: canary}
spec:
  kubernetes: {namespace: shop, service: web, port: http}
  loadBalancing: Maglev
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: secure}
spec:
  kubernetes: {namespace: shop, service: vault, port: 8200}
  tls: {sni: vault.shop.svc}
`
	res := compileFiles(t, map[string]string{"edgectl.yaml": project, "edge.yaml": repo})
	ads, err := xds.ADSForm(res.Resources[0])
	if err != nil {
		t.Fatal(err)
	}
	pl, notes, err := proxylessForm(ads)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkProxyless(pl); err != nil {
		t.Fatal(err)
	}
	if got := clusterNames(pl.Clusters); !slices.Equal(got, []string{"canary", "web"}) {
		t.Errorf("clusters %v, want canary and web", got)
	}
	for _, c := range pl.Clusters {
		if c.GetEdsClusterConfig().GetServiceName() != "k8s/shop/web:http" || c.GetEdsClusterConfig().GetEdsConfig().GetAds() == nil {
			t.Errorf("cluster %s reads endpoints %q, want k8s/shop/web:http over ADS", c.Name, c.GetEdsClusterConfig().GetServiceName())
		}
	}
	if i := slices.IndexFunc(pl.Clusters, func(c *clusterv3.Cluster) bool { return c.Name == "canary" }); i < 0 || pl.Clusters[i].LbPolicy != clusterv3.Cluster_RING_HASH {
		t.Error("canary: Maglev is not ring hash for gRPC")
	}
	if len(pl.Endpoints) != 1 || pl.Endpoints[0] != findCLA(ads.Endpoints, "k8s/shop/web:http") {
		t.Errorf("endpoints %v, want the bundle's one for k8s/shop/web:http", pl.Endpoints)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `cluster "secure" is left out`) {
		t.Errorf("notes = %q, want one about the TLS cluster", notes)
	}
}
