package routesim_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/source"
)

// listenersRepo has every kind of listener edgectl compiles: plain HTTP
// with the default path handling, plain HTTP that rejects escaped slashes,
// HTTPS with a terminated host (the fallback), a passthrough host and
// HTTP/3 (a QUIC listener on UDP), and a TCP proxy.
var listenersRepo = map[string]string{
	"edgectl.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: listeners}
`,
	"gateway.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  http3: true
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: strict, port: 8080, protocol: HTTP, paths: {escapedSlashes: Reject}}
  - {name: https, port: 443, protocol: HTTPS}
  - {name: db, port: 5432, protocol: TCP, tcp: {backend: db}}
  - {name: cache, port: 6379, protocol: TCP, tcp: {backends: [{name: web, weight: 3}, {name: db, weight: 1}]}}
`,
	"hosts.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: shop}
spec:
  files: {certificateChain: /tls/shop.crt, privateKey: /tls/shop.key}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec:
  endpoints: [{address: 10.0.0.1, port: 80}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: vault}
spec:
  endpoints: [{address: 10.0.0.2, port: 8200}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: db}
spec:
  endpoints: [{address: 10.0.0.3, port: 5432}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: shop}
spec:
  gateway: edge
  hostnames: [shop.example.com]
  tls: {certificate: shop, fallback: true}
  httpsRedirect: false
  routes: [{name: all, backend: web}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: vault}
spec:
  gateway: edge
  hostnames: [vault.example.com]
  passthrough: {backend: vault}
`,
}

// TestCompiledListeners routes requests through what edgectl compiles for
// its listener features, so the simulator follows the choices made there:
// escaped slashes are unescaped and redirected by default, a passthrough
// or TCP chain is a connection to a cluster rather than an HTTP route, a
// client without SNI gets the fallback, and the QUIC listener (UDP) leaves
// the simulator's TCP listeners alone.
func TestCompiledListeners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range listenersRepo {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{ResourcesOnly: true})
	if err != nil || diags.HasErrors() {
		t.Fatalf("compile: %v\n%v", err, diags)
	}
	r := res.Resources[0]
	if !strings.Contains(names(r.Listeners), "https.quic") {
		t.Fatalf("no QUIC listener among %s", names(r.Listeners))
	}
	g, err := routesim.NewGateway(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		req         routesim.Request
		action      routesim.Action
		status      int
		location    string
		cluster     string
		chain       string
		notHTTPNote bool
	}{
		{name: "escaped slash redirected by default",
			req:    routesim.Request{Authority: "shop.example.com", Path: "/a%2Fb"},
			action: routesim.Redirect, status: 307, location: "/a/b"},
		{name: "escaped slash rejected where asked",
			req:    routesim.Request{Authority: "shop.example.com:8080", Path: "/a%2Fb"},
			action: routesim.DirectResponse, status: 400},
		{name: "plain path forwarded",
			req:    routesim.Request{Authority: "shop.example.com", Path: "/a/b"},
			action: routesim.Forward, cluster: "web"},
		{name: "SNI of the terminated host",
			req:    routesim.Request{Scheme: "https", SNI: "shop.example.com", Authority: "shop.example.com", Path: "/"},
			action: routesim.Forward, cluster: "web", chain: "shop"},
		{name: "no SNI takes the fallback",
			req:    routesim.Request{Scheme: "https", Authority: "shop.example.com", Path: "/"},
			action: routesim.Forward, cluster: "web", chain: "edgectl-fallback"},
		{name: "passthrough SNI goes to its backend as bytes",
			req:    routesim.Request{Scheme: "https", SNI: "vault.example.com", Authority: "vault.example.com", Path: "/v1/secret"},
			action: routesim.Forward, cluster: "vault", chain: "passthrough.vault", notHTTPNote: true},
		{name: "TCP listener is not HTTP",
			req:    routesim.Request{Authority: "db.example.com:5432", Path: "/"},
			action: routesim.Forward, cluster: "db", notHTTPNote: true},
		{name: "weighted TCP listener: the first share",
			req:    routesim.Request{Authority: "cache:6379", Random: 2},
			action: routesim.Forward, cluster: "web", notHTTPNote: true},
		{name: "weighted TCP listener: the last share",
			req:    routesim.Request{Authority: "cache:6379", Random: 7},
			action: routesim.Forward, cluster: "db", notHTTPNote: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := tc.req
			got := g.Route(&req)
			if got.Action != tc.action || tc.status != 0 && got.Status != tc.status || got.Location != tc.location ||
				tc.cluster != "" && got.Cluster != tc.cluster || tc.chain != "" && got.FilterChain != tc.chain {
				t.Errorf("got %s %d %q cluster %q chain %q, want %s %d %q cluster %q chain %q (notes %q)",
					got.Action, got.Status, got.Location, got.Cluster, got.FilterChain,
					tc.action, tc.status, tc.location, tc.cluster, tc.chain, got.Notes)
			}
			if note := strings.Join(got.Notes, " "); tc.notHTTPNote != strings.Contains(note, "not routed as HTTP") {
				t.Errorf("notes %q: want a note that it is not HTTP: %v", note, tc.notHTTPNote)
			}
		})
	}
}

func names[T interface{ GetName() string }](items []T) string {
	var out []string
	for _, it := range items {
		out = append(out, it.GetName())
	}
	return strings.Join(out, ",")
}
