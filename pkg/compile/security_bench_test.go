package compile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkBuildSecurity builds the bundle of the generated 10,000-route
// gateway (translation, Envoy validation, encoding) as compiled, and with
// JWT, ext_authz, CORS, an IP allow-list and local and global rate limits
// on every virtual host: the cost of the security filters is the
// difference between the two.
func BenchmarkBuildSecurity(b *testing.B) {
	dir := b.TempDir()
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: 10000, Governed: true, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	src, err := source.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	res, diags, err := Compile(context.Background(), src, Options{ResourcesOnly: true})
	if err != nil || diags.HasErrors() {
		b.Fatalf("compile: %v\n%v", err, diags)
	}
	plain := res.Gateways[0]
	for _, bc := range []struct {
		name string
		g    *ir.Gateway
	}{{"security=none", plain}, {"security=every-vhost", withSecurity(plain)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(bc.g, bundle.Meta{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withSecurity is a copy of g with rules on every virtual host, and what
// they refer to.
func withSecurity(g *ir.Gateway) *ir.Gateway {
	out := *g
	cluster := func(name string) *ir.Cluster {
		return &ir.Cluster{Name: name, Discovery: ir.Static, Endpoints: []ir.Endpoint{{Address: "10.9.9.9", Port: 9000}}, ConnectTimeout: time.Second, LB: ir.RoundRobin, HTTP2: true}
	}
	out.Clusters = append(slices.Clone(g.Clusters), cluster("sec-authz"), cluster("sec-jwks"), cluster("sec-rls"))
	slices.SortFunc(out.Clusters, func(a, b *ir.Cluster) int { return strings.Compare(a.Name, b.Name) })
	out.JWTProviders = []*ir.JWTProvider{{Name: "idp", Issuer: "https://idp.example.com",
		RemoteJWKS: &ir.RemoteJWKS{URI: "https://idp.example.com/jwks", Cluster: "sec-jwks"}}}
	out.AuthServices = []*ir.AuthService{{Name: "authz", GRPC: true, Cluster: "sec-authz", Timeout: time.Second}}
	out.RateLimitServices = []*ir.RateLimitService{{Name: "rls", Cluster: "sec-rls", Domain: "edge"}}
	sec := &ir.Security{
		IP:             &ir.IPRule{Allow: []string{"10.0.0.0/8"}},
		CORS:           &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchSuffix, Value: ".example.com"}}, Methods: []string{"GET"}},
		JWT:            &ir.JWTRule{Providers: []string{"idp"}},
		ExtAuth:        &ir.ExtAuthRule{Service: "authz"},
		LocalRateLimit: &ir.LocalRateLimitRule{Requests: 100, Per: time.Second, By: &ir.RateKey{Kind: ir.KeyClient}},
		RateLimit:      &ir.RateLimitRule{Service: "rls", Limits: []ir.RateLimit{{Requests: 1000, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}}}},
	}
	out.Listeners = nil
	for _, l := range g.Listeners {
		l2 := *l
		l2.Routes = secureTable(l.Routes, sec)
		l2.Chains = nil
		for _, fc := range l.Chains {
			fc2 := *fc
			fc2.Routes = secureTable(fc.Routes, sec)
			l2.Chains = append(l2.Chains, &fc2)
		}
		out.Listeners = append(out.Listeners, &l2)
	}
	return &out
}

func secureTable(t *ir.RouteTable, sec *ir.Security) *ir.RouteTable {
	if t == nil {
		return nil
	}
	out := *t
	out.VirtualHosts = nil
	for _, vh := range t.VirtualHosts {
		vh2 := *vh
		vh2.Security = sec
		out.VirtualHosts = append(out.VirtualHosts, &vh2)
	}
	return &out
}
