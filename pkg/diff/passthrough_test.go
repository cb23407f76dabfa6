package diff

import (
	"slices"
	"testing"

	"github.com/edgectl/edgectl/pkg/ir"
)

// TestPassthroughHosts shows a TLS passthrough host in the hosts section:
// added with where its connections go, and changed when they go elsewhere
// or when the host switches between passthrough and terminated TLS.
func TestPassthroughHosts(t *testing.T) {
	t.Parallel()
	passthrough := func(clusters ...ir.WeightedCluster) *ir.Gateway {
		return &ir.Gateway{Name: "edge", Listeners: []*ir.Listener{{Name: "https", Protocol: ir.HTTPS, Chains: []*ir.FilterChain{{
			Name: "passthrough.vault", ServerNames: []string{"vault.example.com"}, PassthroughHost: "vault", Team: "infra",
			Passthrough: &ir.TCPProxy{Clusters: clusters},
		}}}}}
	}
	terminated := &ir.Gateway{Name: "edge", Listeners: []*ir.Listener{{Name: "https", Protocol: ir.HTTPS, Chains: []*ir.FilterChain{{
		Name: "vault-cert", ServerNames: []string{"vault.example.com"}, Certificate: ir.CertRef{Name: "vault-cert"},
		Routes: &ir.RouteTable{Name: "https.vault-cert", VirtualHosts: []*ir.VirtualHost{{Name: "vault", Team: "infra", Domains: []string{"vault.example.com"}}}},
	}}}}}
	empty := &ir.Gateway{Name: "edge"}
	tests := []struct {
		name       string
		base, head *ir.Gateway
		status     string
		changes    []string
	}{
		{"added", empty, passthrough(ir.WeightedCluster{Cluster: "vault"}), Added, []string{"TLS passed through to vault"}},
		{"removed", passthrough(ir.WeightedCluster{Cluster: "vault"}), empty, Removed, []string{"TLS passed through to vault"}},
		{"split between backends", passthrough(ir.WeightedCluster{Cluster: "vault"}),
			passthrough(ir.WeightedCluster{Cluster: "vault", Weight: 3}, ir.WeightedCluster{Cluster: "vault-v2", Weight: 1}),
			Changed, []string{"TLS passed through to: vault → vault 75%, vault-v2 25%"}},
		{"terminated from now on", passthrough(ir.WeightedCluster{Cluster: "vault"}), terminated,
			Changed, []string{"TLS passed through to: vault → none", "TLS: none → certificate vault-cert"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := compareHosts(tc.base, tc.head)
			if len(got) != 1 {
				t.Fatalf("%d host diffs, want 1: %+v", len(got), got)
			}
			d := got[0]
			if d.Name != "vault" || d.Team != "infra" || d.Status != tc.status || !slices.Equal(d.Changes, tc.changes) {
				t.Errorf("got %+v, want status %s changes %q", d, tc.status, tc.changes)
			}
		})
	}
}
