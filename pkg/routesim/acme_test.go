package routesim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/source"
)

// TestAcmeExample compiles examples/acme and routes requests through the
// file-based xDS resources of its edge gateway. The expectations are
// checked by hand against the example's intents: the plain HTTP listener
// on 8080 redirects hosts with TLS to HTTPS on 8443 and serves the others,
// the HTTPS listener on 8443 picks its filter chain by SNI, and every
// connection manager strips the Host port.
func TestAcmeExample(t *testing.T) {
	t.Parallel()
	src, err := source.Dir("../../examples/acme")
	if err != nil {
		t.Fatal(err)
	}
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{ResourcesOnly: true})
	if err != nil || diags.HasErrors() {
		t.Fatalf("compile: %v\n%v", err, diags)
	}
	// acme has two gateways: the public edge, and the internal one in front
	// of the orders database.
	byName := map[string]*routesim.Gateway{}
	var names []string
	edge := -1
	for i, gw := range res.Gateways {
		names = append(names, gw.Name)
		if gw.Name == "edge" {
			edge = i
		}
		sim, err := routesim.NewGateway(res.Resources[i])
		if err != nil {
			t.Fatalf("gateway %s: %v", gw.Name, err)
		}
		byName[gw.Name] = sim
	}
	if diff := cmp.Diff([]string{"edge", "internal"}, names); diff != "" {
		t.Fatalf("gateways (-want +got)\n%s", diff)
	}
	g := byName["edge"]
	// Every route configuration has an entrance: the plain one on the HTTP
	// listener, those of the certificates' filter chains on TLS.
	entrances := g.Entrances()
	for _, rc := range res.Resources[edge].Routes {
		want := routesim.Entrance{Port: 8443, TLS: true}
		if rc.Name == "http" {
			want = routesim.Entrance{Port: 8080}
		}
		if got, ok := entrances[rc.Name]; !ok || got != want {
			t.Errorf("entrance of %s: %+v (%v), want %+v", rc.Name, got, ok, want)
		}
	}

	// want is what a request should produce; zero fields are not checked.
	type want struct {
		Listener, FilterChain, VirtualHost, Route string
		Action                                    routesim.Action
		Status                                    int
		Cluster, Location, Body, Path, Host       string
		Timeout                                   time.Duration
		RequestHeaders, ResponseHeaders           []routesim.Header
		Removed                                   []string
		Mirrors                                   []routesim.Mirror
	}
	for _, tc := range []struct {
		name, method, url string
		headers           []routesim.Header
		random            uint64
		want              want
	}{
		{name: "plain HTTP to a TLS host is redirected to 8443",
			method: "GET", url: "http://www.acme.io:8080/products/1?x=1",
			want: want{Listener: "http", VirtualHost: "www", Action: routesim.Redirect, Status: 301,
				Location: "https://www.acme.io:8443/products/1?x=1"}},
		{name: "legacy catalog keeps its path under /products",
			method: "GET", url: "http://shop.acme.io:8080/catalog/shoes?color=red",
			want: want{VirtualHost: "legacy", Route: "old-catalog", Action: routesim.Redirect, Status: 308,
				Location: "https://www.acme.io/products/shoes?color=red"}},
		{name: "legacy domain lands on the home page without query",
			method: "GET", url: "http://acme.io:8080/about?utm=1",
			want: want{Route: "everything-else", Action: routesim.Redirect, Status: 301, Location: "https://www.acme.io/"}},
		{name: "health check",
			method: "HEAD", url: "http://status.acme.io:8080/healthz",
			want: want{Route: "healthz", Action: routesim.DirectResponse, Status: 200, Body: "ok\n"}},
		{name: "health check wants GET or HEAD",
			method: "POST", url: "http://status.acme.io:8080/healthz",
			want: want{Route: "not-found", Action: routesim.DirectResponse, Status: 404}},
		{name: "event ingest with a device id",
			method: "POST", url: "http://events.acme.io:8080/ingest?device=A1B2C3D4E5F6",
			want: want{Route: "ingest", Action: routesim.Forward, Cluster: "events", Timeout: 2 * time.Second, Path: "/ingest?device=A1B2C3D4E5F6", Host: "events.acme.io"}},
		{name: "event ingest with a bad device id",
			method: "POST", url: "http://events.acme.io:8080/ingest?device=nope",
			want: want{Route: "reject", Action: routesim.DirectResponse, Status: 405}},
		{name: "beta testers reach v2",
			method: "GET", url: "https://api.acme.io:8443/v1/orders/7",
			headers: []routesim.Header{{Name: "X-Acme-Beta", Value: "true"}},
			want:    want{Listener: "https", FilterChain: "wildcard-acme", VirtualHost: "shop-api", Route: "orders-beta", Cluster: "shop-api-v2"}},
		{name: "orders canary: 95 of 100 to shop-api",
			method: "GET", url: "https://api.acme.io:8443/v1/orders", random: 194,
			want: want{Route: "orders", Cluster: "shop-api", Timeout: 10 * time.Second}},
		{name: "orders canary: 5 of 100 to v2",
			method: "GET", url: "https://api.acme.io:8443/v1/orders", random: 97,
			want: want{Route: "orders", Cluster: "shop-api-v2"}},
		{name: "search without q falls through to the API",
			method: "GET", url: "https://api.acme.io:8443/v1/search",
			headers: []routesim.Header{{Name: "x-debug", Value: "1"}},
			want: want{Route: "api", Cluster: "shop-api", Timeout: 15 * time.Second,
				RequestHeaders: []routesim.Header{{Name: "x-acme-edge", Value: "edge"}}, Removed: []string{"x-debug"}}},
		{name: "search",
			method: "GET", url: "https://api.acme.io:8443/v1/search?q=shoes",
			want: want{Route: "search", Cluster: "catalog", Timeout: 3 * time.Second}},
		{name: "product images from the object store",
			method: "GET", url: "https://www.acme.io:8443/img/42.png",
			want: want{FilterChain: "www-acme", Route: "product-images", Cluster: "images",
				Path: "/acme-images/42.png", Host: "acme-images.storage.example.net",
				ResponseHeaders: []routesim.Header{{Name: "cache-control", Value: "public, max-age=86400"}, {Name: "strict-transport-security", Value: "max-age=31536000; includeSubDomains"}}}},
		{name: "admin is on the internal host",
			method: "GET", url: "https://www.acme.io:8443/admin/users",
			want: want{Route: "admin", Action: routesim.Redirect, Status: 302, Location: "https://admin.acme.internal:9443/admin/users"}},
		{name: "a 3-D Secure challenge goes to identity",
			method: "GET", url: "https://www.acme.io:8443/checkout/3ds/start",
			headers: []routesim.Header{{Name: "x-acme-3ds-challenge", Value: "1"}},
			want:    want{Route: "challenge", Cluster: "login-web", Timeout: 10 * time.Second}},
		{name: "checkout without the challenge header",
			method: "GET", url: "https://www.acme.io:8443/checkout/3ds/start",
			want: want{Route: "checkout", Cluster: "payments-checkout"}},
		{name: "a charge without an idempotency key is refused",
			method: "POST", url: "https://pay.acme.io:8443/v2/charges",
			want: want{Route: "charge-without-key", Action: routesim.DirectResponse, Status: 400,
				Body: `{"error":"Idempotency-Key header required"}`, ResponseHeaders: []routesim.Header{{Name: "content-type", Value: "application/json"}}}},
		{name: "a charge goes to the canary 10 times in 100, mirrored",
			method: "POST", url: "https://pay.acme.io:8443/v2/charges", random: 95,
			headers: []routesim.Header{{Name: "idempotency-key", Value: "k1"}, {Name: "content-type", Value: "application/json"}},
			want:    want{Route: "charge", Cluster: "payments-v2", Timeout: 30 * time.Second, Mirrors: []routesim.Mirror{{Cluster: "fraud-shadow", Percent: 12.5}}}},
		{name: "gRPC on the auth host",
			method: "POST", url: "https://auth.acme.io:8443/acme.auth.v1.Auth/Login",
			headers: []routesim.Header{{Name: "content-type", Value: "application/grpc"}},
			want:    want{FilterChain: "auth-acme", Route: "grpc", Cluster: "auth-grpc", Timeout: 30 * time.Second}},
		{name: "vault's server name is passed through, not routed",
			method: "GET", url: "https://vault.acme.io:8443/v1/sys/health",
			want: want{Listener: "https", FilterChain: "passthrough.vault", Cluster: "vault"}},
		{name: "vault is not served in clear",
			method: "GET", url: "http://vault.acme.io:8080/v1/sys/health",
			want: want{Listener: "http", Action: routesim.NoRoute, Status: 404}},
		{name: "an unknown SNI finds no filter chain",
			method: "GET", url: "https://unknown.acme.io:8443/",
			want: want{Listener: "https", Action: routesim.NoListener}},
		{name: "no listener on 443",
			method: "GET", url: "https://www.acme.io/",
			want: want{Action: routesim.NoListener}},
	} {
		req, err := routesim.ParseURL(tc.method, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		req.Headers, req.Random = tc.headers, tc.random
		r := g.Route(req)
		got := want{Action: tc.want.Action}
		w := tc.want
		pick := func(dst *string, src, wanted string) {
			if wanted != "" {
				*dst = src
			}
		}
		pick(&got.Listener, r.Listener, w.Listener)
		pick(&got.FilterChain, r.FilterChain, w.FilterChain)
		pick(&got.VirtualHost, r.VirtualHost, w.VirtualHost)
		pick(&got.Route, r.Route, w.Route)
		pick(&got.Cluster, r.Cluster, w.Cluster)
		pick(&got.Location, r.Location, w.Location)
		pick(&got.Body, r.Body, w.Body)
		pick(&got.Path, r.Path, w.Path)
		pick(&got.Host, r.Host, w.Host)
		if r.Action != w.Action && !(w.Action == 0 && r.Action == routesim.Forward) {
			got.Action = r.Action
		}
		if w.Status != 0 || r.Status != 0 {
			got.Status = r.Status
		}
		if w.Timeout != 0 {
			got.Timeout = r.Timeout
		}
		if w.RequestHeaders != nil {
			got.RequestHeaders, got.Removed = r.RequestHeaders, r.RequestHeadersRemoved
		}
		if w.ResponseHeaders != nil {
			got.ResponseHeaders = r.ResponseHeaders
		}
		if w.Mirrors != nil {
			got.Mirrors = r.Mirrors
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: %s %s (-want +got)\n%s", tc.name, tc.method, tc.url, diff)
		}
	}

	// The internal gateway forwards whatever arrives on the Postgres port
	// to the orders database, and has nothing on any other port.
	internal := byName["internal"]
	for _, tc := range []struct {
		url                             string
		action                          routesim.Action
		listener, cluster, noteContains string
	}{
		{"http://db.acme.internal:5432/", routesim.Forward, "postgres", "orders-db", "TCP proxy"},
		{"http://db.acme.internal:5433/", routesim.NoListener, "", "", "no listener on port 5433"},
	} {
		req, err := routesim.ParseURL("GET", tc.url)
		if err != nil {
			t.Fatal(err)
		}
		r := internal.Route(req)
		if r.Action != tc.action || r.Listener != tc.listener || r.Cluster != tc.cluster {
			t.Errorf("internal %s: action %v, listener %q, cluster %q; want %v, %q, %q",
				tc.url, r.Action, r.Listener, r.Cluster, tc.action, tc.listener, tc.cluster)
		}
		if !strings.Contains(strings.Join(r.Notes, "; "), tc.noteContains) {
			t.Errorf("internal %s: notes %q, want one containing %q", tc.url, r.Notes, tc.noteContains)
		}
	}
}
