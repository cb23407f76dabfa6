package gatewayapi

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadL4Routes checks which versions of TLSRoute and TCPRoute are
// read: the ones the module's types decode, and no others.
func TestLoadL4Routes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		apiVersion, kind string
		tls, tcp         int
		rule             string // of the one finding, if any
	}{
		{"gateway.networking.k8s.io/v1", "TLSRoute", 1, 0, ""},
		{"gateway.networking.k8s.io/v1alpha3", "TLSRoute", 1, 0, ""},
		{"gateway.networking.k8s.io/v1alpha2", "TLSRoute", 1, 0, ""},
		{"gateway.networking.k8s.io/v1", "TCPRoute", 0, 1, ""},
		{"gateway.networking.k8s.io/v1alpha2", "TCPRoute", 0, 1, ""},
		{"gateway.networking.k8s.io/v1alpha3", "TCPRoute", 0, 0, "document"},
		{"gateway.networking.k8s.io/v1alpha2", "UDPRoute", 0, 0, "unsupported-kind"},
	} {
		t.Run(tc.apiVersion+"/"+tc.kind, func(t *testing.T) {
			t.Parallel()
			data := "apiVersion: " + tc.apiVersion + "\nkind: " + tc.kind + "\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: edge}]\n  rules: [{backendRefs: [{name: s, port: 1}]}]\n"
			set, diags, err := Load(fstest.MapFS{"r.yaml": {Data: []byte(data)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.TLSRoutes) != tc.tls || len(set.TCPRoutes) != tc.tcp {
				t.Errorf("got %d TLSRoutes and %d TCPRoutes, want %d and %d", len(set.TLSRoutes), len(set.TCPRoutes), tc.tls, tc.tcp)
			}
			var rules []string
			for _, d := range diags {
				rules = append(rules, d.Rule)
			}
			if got := strings.Join(rules, ","); got != tc.rule {
				t.Errorf("findings %v, want rule %q", diags, tc.rule)
			}
			if tc.tls+tc.tcp == 1 && set.Empty() {
				t.Error("a set with a route reports itself empty")
			}
		})
	}
}

// TestPassthroughConflictOlderWins attaches two TLSRoutes that share a
// server name, in either order of the input: the older keeps it.
func TestPassthroughConflictOlderWins(t *testing.T) {
	t.Parallel()
	gateway := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge}
spec:
  gatewayClassName: x
  listeners: [{name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 1}]}
---
apiVersion: v1
kind: Service
metadata: {name: t}
spec: {ports: [{port: 1}]}
`
	route := func(name, stamp, svc string) string {
		return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {name: " + name + ", creationTimestamp: \"" + stamp + "\"}\nspec:\n  parentRefs: [{name: edge}]\n  hostnames: [a.example.com]\n  rules: [{backendRefs: [{name: " + svc + ", port: 1}]}]\n"
	}
	older, newer := route("zz-old", "2020-01-01T00:00:00Z", "s"), route("aa-new", "2024-01-01T00:00:00Z", "t")
	for _, order := range [][]string{{older, newer}, {newer, older}} {
		set, diags, err := Load(fstest.MapFS{"g.yaml": {Data: []byte(gateway + order[0] + order[1])}}, Options{})
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		res, diags := Lower(set, nil)
		if diags.HasErrors() || len(diags) != 1 || diags[0].Rule != "Conflicted" || !strings.Contains(diags[0].Message, `"default/aa-new"`) {
			t.Fatalf("findings %v, want one Conflicted warning about aa-new", diags)
		}
		chains := res.Gateways[0].Listeners[0].Chains
		if len(chains) != 1 || chains[0].Name != "tlsroute/default/zz-old" || chains[0].Passthrough.Clusters[0].Cluster != "default.s.1" {
			t.Errorf("chains %+v, want only zz-old's, to default.s.1", chains)
		}
	}
}
