package lower

import (
	"slices"
	"testing"
	"time"

	"github.com/edgectl/edgectl/pkg/ir"
)

const listenerBase = `apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: site}
spec:
  files: {certificateChain: /tls/site.crt, privateKey: /tls/site.key}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec:
  endpoints: [{address: 10.0.0.1, port: 80}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: db}
spec:
  endpoints: [{address: 10.0.0.2, port: 5432}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: site}
spec:
  gateway: edge
  hostnames: [www.example.com]
  tls: {certificate: site}
  httpsRedirect: false
  routes: [{backend: web}]
`

// TestListenerSettings lowers what listeners say about connections: the
// defaults when they say nothing, each field replacing its default, and
// where HTTP/3 and TCP end up.
func TestListenerSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		listeners string
		gateway   string
		check     func(t *testing.T, ls map[string]*ir.Listener)
	}{
		{"defaults", "  - {name: http, port: 80, protocol: HTTP}\n  - {name: https, port: 443, protocol: HTTPS}\n", "", func(t *testing.T, ls map[string]*ir.Listener) {
			for _, l := range ls {
				if *l.HTTP != *ir.DefaultHTTPSettings() || l.HTTP3 || l.ProxyProtocol || l.MaxConnections != 0 {
					t.Errorf("listener %s settings %+v", l.Name, l.HTTP)
				}
			}
		}},
		{"every field replaces its default", `  - name: http
    port: 80
    protocol: HTTP
    proxyProtocol: true
    maxConnections: 7
    maxRequestHeadersKB: 16
    timeouts: {idle: 1m, streamIdle: 2m, requestHeaders: 3s, request: 4m, maxConnectionDuration: 5h}
    http2: {maxConcurrentStreams: 8, initialStreamWindowSize: 70000, initialConnectionWindowSize: 80000}
    paths: {normalize: false, mergeSlashes: false, escapedSlashes: Keep}
  - {name: https, port: 443, protocol: HTTPS}
`, "", func(t *testing.T, ls map[string]*ir.Listener) {
			want := ir.HTTPSettings{IdleTimeout: time.Minute, StreamIdleTimeout: 2 * time.Minute, RequestHeadersTimeout: 3 * time.Second,
				RequestTimeout: 4 * time.Minute, MaxConnectionDuration: 5 * time.Hour, MaxRequestHeadersKB: 16, MaxConcurrentStreams: 8,
				InitialStreamWindow: 70000, InitialConnWindow: 80000, EscapedSlashes: ir.KeepEscaped}
			l := ls["http"]
			if *l.HTTP != want || !l.ProxyProtocol || l.MaxConnections != 7 {
				t.Errorf("listener %+v settings %+v", l, l.HTTP)
			}
		}},
		{"gateway HTTP/3 reaches HTTPS listeners that do not opt out", `  - {name: http, port: 80, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS}
  - {name: alt, port: 8443, protocol: HTTPS, http3: false}
`, "  http3: true\n", func(t *testing.T, ls map[string]*ir.Listener) {
			if ls["http"].HTTP3 || !ls["https"].HTTP3 || ls["alt"].HTTP3 {
				t.Errorf("http3: http %v https %v alt %v", ls["http"].HTTP3, ls["https"].HTTP3, ls["alt"].HTTP3)
			}
			for _, fc := range ls["https"].Chains {
				if fc.Routes.AltSvc != `h3=":443"; ma=86400` {
					t.Errorf("chain %s alt-svc %q", fc.Name, fc.Routes.AltSvc)
				}
			}
			for _, fc := range ls["alt"].Chains {
				if fc.Routes.AltSvc != "" {
					t.Errorf("chain %s of a listener without HTTP/3 has alt-svc", fc.Name)
				}
			}
		}},
		{"TCP listener: no HTTP settings, weighted clusters", `  - {name: http, port: 80, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS}
  - {name: db, port: 5432, protocol: TCP, tcp: {backends: [{name: db, weight: 3}, {name: web, weight: 1}], idleTimeout: 1m}}
`, "", func(t *testing.T, ls map[string]*ir.Listener) {
			l := ls["db"]
			if l.HTTP != nil || l.TCP == nil || *l.TCP.IdleTimeout != time.Minute ||
				!slices.Equal(l.TCP.Clusters, []ir.WeightedCluster{{Cluster: "db", Weight: 3}, {Cluster: "web", Weight: 1}}) {
				t.Errorf("listener %+v tcp %+v", l, l.TCP)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gw := "apiVersion: edgectl.dev/v1alpha1\nkind: Gateway\nmetadata: {name: edge}\nspec:\n" + tc.gateway + "  listeners:\n" + tc.listeners
			gws, diags := lowerRepo(t, map[string]string{"gateway.yaml": gw, "base.yaml": listenerBase})
			if diags.HasErrors() || len(gws) != 1 {
				t.Fatalf("lower: %v", diags)
			}
			ls := map[string]*ir.Listener{}
			for _, l := range gws[0].Listeners {
				ls[l.Name] = l
			}
			tc.check(t, ls)
		})
	}
}
