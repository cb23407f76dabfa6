package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// secRoute is a forwarding route with its own rules.
func secRoute(name, path string, s *ir.Security) *ir.Route {
	return &ir.Route{Name: name, Match: ir.Match{PathKind: ir.PathPrefix, Path: path}, Forward: []ir.WeightedCluster{{Cluster: "api", Weight: 1}}, Security: s}
}

func secGateway(vh *ir.VirtualHost, certs *ir.ClientCertificates) *ir.Gateway {
	return &ir.Gateway{Name: "edge", Listeners: []*ir.Listener{{Name: "https", Protocol: ir.HTTPS, Chains: []*ir.FilterChain{{
		Name: "api-cert", ServerNames: vh.Domains, ClientCertificates: certs,
		Routes: &ir.RouteTable{Name: "https", VirtualHosts: []*ir.VirtualHost{vh}},
	}}}}}
}

func apiHost(s *ir.Security, routes ...*ir.Route) *ir.VirtualHost {
	return &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Security: s, Routes: routes}
}

func dur(d time.Duration) *time.Duration { return &d }

// lines renders changes as the text output's words, loosening marked.
func securityLines(cs []SecurityChange) []string {
	var out []string
	for _, c := range cs {
		mark := "+"
		if c.Loosening {
			mark = "!"
		}
		out = append(out, mark+" "+c.Where+": "+c.Change)
	}
	return out
}

func TestSecurityChanges(t *testing.T) {
	t.Parallel()
	jwt := &ir.JWTRule{Providers: []string{"idp"}}
	tests := []struct {
		name       string
		base, head *ir.VirtualHost
		want       []string
	}{
		{
			name: "route makes JWT optional",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("orders", "/v1/orders", nil), secRoute("", "/v1/users", nil)),
			head: apiHost(&ir.Security{JWT: jwt}, secRoute("orders", "/v1/orders", &ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}, Optional: true}}), secRoute("", "/v1/users", nil)),
			want: []string{"! api.acme.io /v1/orders (route orders): JWT now optional (was required)"},
		},
		{
			name: "route disables JWT, another requires it again",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", nil), secRoute("b", "/b", &ir.Security{JWT: &ir.JWTRule{Disabled: true}})),
			head: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", &ir.Security{JWT: &ir.JWTRule{Disabled: true}}), secRoute("b", "/b", nil)),
			want: []string{
				"! api.acme.io /a (route a): JWT now disabled (was required)",
				"+ api.acme.io /b (route b): JWT now required (was disabled)",
			},
		},
		{
			name: "JWT providers",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"partner"}}}, secRoute("a", "/a", nil)),
			want: []string{
				"! the one route of api.acme.io: JWT now accepts tokens of provider partner",
				"+ the one route of api.acme.io: JWT no longer accepts tokens of provider idp",
			},
		},
		{
			name: "ext_authz removed from the host",
			base: apiHost(&ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "authz"}}, secRoute("a", "/a", nil), secRoute("b", "/b", nil)),
			head: apiHost(nil, secRoute("a", "/a", nil), secRoute("b", "/b", nil)),
			want: []string{"! all 2 routes of api.acme.io: ext_authz removed (was service authz)"},
		},
		{
			name: "ext_authz and basic auth added",
			base: apiHost(nil, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "authz"}, BasicAuth: &ir.BasicAuthRule{UsersFile: "/etc/envoy/users"}}, secRoute("a", "/a", nil)),
			want: []string{
				"+ the one route of api.acme.io: ext_authz added (service authz)",
				"+ the one route of api.acme.io: basic auth added (users from /etc/envoy/users)",
			},
		},
		{
			name: "rate limit raised on the host, collapsed, route with its own limit apart",
			base: apiHost(&ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 100, Per: time.Minute}},
				secRoute("a", "/a", nil), secRoute("b", "/b", nil), secRoute("c", "/c", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 5, Per: time.Second}})),
			head: apiHost(&ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 1000, Per: time.Minute}},
				secRoute("a", "/a", nil), secRoute("b", "/b", nil), secRoute("c", "/c", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 2, Per: time.Second}})),
			want: []string{
				"! 2 routes of api.acme.io that inherit the host's rule: local rate limit raised 100 → 1000/min",
				"+ api.acme.io /c (route c): local rate limit lowered 5 → 2/s",
			},
		},
		{
			name: "local rate limit: another period, another key, disabled",
			base: apiHost(&ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 600, Per: time.Minute}}, secRoute("a", "/a", nil), secRoute("b", "/b", nil)),
			head: apiHost(&ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 5, Per: time.Second, By: &ir.RateKey{Kind: ir.KeyClient}}},
				secRoute("a", "/a", nil), secRoute("b", "/b", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Disabled: true}})),
			want: []string{
				"! 1 route of api.acme.io that inherits the host's rule: local rate limit counted per client (was per all clients together)",
				"! api.acme.io /b (route b): local rate limit disabled (was 600/min)",
				"+ 1 route of api.acme.io that inherits the host's rule: local rate limit lowered 600/min → 5/s",
			},
		},
		{
			name: "global rate limits by key",
			base: apiHost(&ir.Security{RateLimit: &ir.RateLimitRule{Service: "rls", Limits: []ir.RateLimit{
				{Requests: 100, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}},
				{Requests: 10, Unit: "second", By: []ir.RateKey{{Kind: ir.KeyHeader, Header: "x-api-key"}}},
			}}}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{RateLimit: &ir.RateLimitRule{Service: "rls", Limits: []ir.RateLimit{
				{Requests: 1000, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}},
				{Requests: 50, Unit: "hour", By: []ir.RateKey{{Kind: ir.KeyPath}}},
			}}}, secRoute("a", "/a", nil)),
			want: []string{
				"! the one route of api.acme.io: rate limit per client raised 100 → 1000/min",
				"! the one route of api.acme.io: rate limit removed: 10/s per header x-api-key",
				"+ the one route of api.acme.io: rate limit added: 50/h per path",
			},
		},
		{
			name: "IP allow and deny lists",
			base: apiHost(&ir.Security{IP: &ir.IPRule{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.9.0.0/16"}}}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{IP: &ir.IPRule{Allow: []string{"0.0.0.0/0", "10.0.0.0/8"}, Deny: []string{"10.8.0.0/16"}}}, secRoute("a", "/a", nil)),
			want: []string{
				"! the one route of api.acme.io: IP allow list now includes 0.0.0.0/0",
				"! the one route of api.acme.io: IP deny list no longer includes 10.9.0.0/16",
				"+ the one route of api.acme.io: IP deny list now includes 10.8.0.0/16",
			},
		},
		{
			name: "IP allow list added to a route, removed from the host",
			base: apiHost(&ir.Security{IP: &ir.IPRule{Allow: []string{"10.0.0.0/8"}}}, secRoute("a", "/a", nil), secRoute("b", "/b", nil)),
			head: apiHost(nil, secRoute("a", "/a", nil), secRoute("b", "/b", &ir.Security{IP: &ir.IPRule{Allow: []string{"192.168.0.0/16"}}})),
			want: []string{
				"! 1 route of api.acme.io that inherits the host's rule: IP allow list removed: every address may connect (was 10.0.0.0/8)",
				"! api.acme.io /b (route b): IP allow list now includes 192.168.0.0/16",
				"+ api.acme.io /b (route b): IP allow list no longer includes 10.0.0.0/8",
			},
		},
		{
			name: "CORS",
			base: apiHost(&ir.Security{CORS: &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.acme.io"}}, Methods: []string{"GET"}, MaxAge: dur(time.Hour)}}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{CORS: &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchSuffix, Value: ".example.com"}}, Methods: []string{"GET", "POST"}, Credentials: true, MaxAge: dur(10 * time.Minute)}}, secRoute("a", "/a", nil)),
			want: []string{
				"! the one route of api.acme.io: CORS now allows *.example.com",
				"! the one route of api.acme.io: CORS now allows method POST",
				"! the one route of api.acme.io: CORS now allows credentials",
				"+ the one route of api.acme.io: CORS no longer allows https://app.acme.io",
				"+ the one route of api.acme.io: CORS preflight cached 10m0s (was 1h0m0s)",
			},
		},
		{
			name: "CORS disabled on a route",
			base: apiHost(&ir.Security{CORS: &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.acme.io"}}}}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{CORS: &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.acme.io"}}}}, secRoute("a", "/a", &ir.Security{CORS: &ir.CORSRule{Disabled: true}})),
			want: []string{"+ api.acme.io /a (route a): CORS removed (allowed https://app.acme.io)"},
		},
		{
			name: "nothing changes",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 1, Per: time.Second}})),
			head: apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}}, secRoute("a", "/a", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 1, Per: time.Second}})),
		},
		{
			name: "a route that now sets what it inherited is no change",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", &ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}})),
		},
		{
			name: "a new route is compared with what it would inherit",
			base: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", nil)),
			head: apiHost(&ir.Security{JWT: jwt}, secRoute("a", "/a", nil), secRoute("b", "/b", &ir.Security{JWT: &ir.JWTRule{Disabled: true}}),
				secRoute("c", "/c", &ir.Security{JWT: jwt}), secRoute("d", "/d", nil)),
			want: []string{"! api.acme.io /b (route b) (new route, against the host's rules): JWT now disabled (was required)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := securityLines(compareSecurity(secGateway(tc.base, nil), secGateway(tc.head, nil)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestClientCertificateChanges(t *testing.T) {
	t.Parallel()
	ca := ir.CertRef{Name: "partner-ca"}
	required := &ir.ClientCertificates{CA: ca, SubjectAltNames: []ir.SANMatch{{Type: "DNS", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "pay.partner.io"}}}}
	tests := []struct {
		name       string
		base, head *ir.ClientCertificates
		want       []string
	}{
		{"made optional", required, &ir.ClientCertificates{CA: ca, Optional: true, SubjectAltNames: required.SubjectAltNames},
			[]string{"! api.acme.io (listener https, certificate api-cert): client certificates now optional (was required)"}},
		{"no longer asked for", required, nil,
			[]string{"! api.acme.io (listener https, certificate api-cert): client certificates now not asked for (was required)"}},
		{"required", nil, required,
			[]string{"+ api.acme.io (listener https, certificate api-cert): client certificates now required (was not asked for)"}},
		{"another CA, any name, a revocation list", required, &ir.ClientCertificates{CA: ir.CertRef{Name: "other-ca"}, CRLFile: "/etc/envoy/crl.pem"},
			[]string{
				"! api.acme.io (listener https, certificate api-cert): client certificates verified by CA other-ca (was partner-ca)",
				"! api.acme.io (listener https, certificate api-cert): client certificates: any subject alternative name accepted (was DNS exact pay.partner.io)",
				"+ api.acme.io (listener https, certificate api-cert): client certificates: revocation list /etc/envoy/crl.pem now checked",
			}},
		{"unchanged", required, required, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vh := apiHost(nil, secRoute("a", "/a", nil))
			got := securityLines(compareSecurity(secGateway(vh, tc.base), secGateway(vh, tc.head)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestServiceChanges(t *testing.T) {
	t.Parallel()
	vh := apiHost(nil, secRoute("a", "/a", nil))
	base, head := secGateway(vh, nil), secGateway(vh, nil)
	base.AuthServices = []*ir.AuthService{{Name: "authz"}, {Name: "legacy", FailOpen: true}}
	head.AuthServices = []*ir.AuthService{{Name: "authz", FailOpen: true}, {Name: "legacy"}}
	base.RateLimitServices = []*ir.RateLimitService{{Name: "rls"}}
	head.RateLimitServices = []*ir.RateLimitService{{Name: "rls", FailOpen: true}}
	base.JWTProviders = []*ir.JWTProvider{{Name: "idp", Issuer: "https://idp.acme.io", Audiences: []string{"api"}, LocalJWKSFile: "/etc/jwks.json"}}
	head.JWTProviders = []*ir.JWTProvider{{Name: "idp", Issuer: "https://idp.acme.io", Audiences: []string{"api", "web"}, LocalJWKSFile: "/etc/jwks.json"}}
	got := securityLines(compareSecurity(base, head))
	want := []string{
		"! auth service authz: now fails open: requests pass unchecked while it is unreachable",
		"! rate-limit service rls: now fails open: requests pass unchecked while it is unreachable",
		"! JWT provider idp: now accepts audience web",
		"+ auth service legacy: now fails closed (was open)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSecurityCollapses holds the diff of a host-wide change to one line
// however many routes inherit it, and to linear work.
func TestSecurityCollapses(t *testing.T) {
	t.Parallel()
	routes := func() []*ir.Route {
		var out []*ir.Route
		for i := range 3000 {
			out = append(out, secRoute(fmt.Sprintf("r%d", i), fmt.Sprintf("/r%d", i), nil))
		}
		return out
	}
	base := apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}}, routes()...)
	head := apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}, Optional: true}}, routes()...)
	got := compareSecurity(secGateway(base, nil), secGateway(head, nil))
	want := []string{"! all 3,000 routes of api.acme.io: JWT now optional (was required)"}
	if !slices.Equal(securityLines(got), want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(securityLines(got), "\n"), strings.Join(want, "\n"))
	}
	if got[0].Routes != 3000 || got[0].Route != "" || got[0].VirtualHost != "api" {
		t.Errorf("change %+v: want 3000 routes of virtual host api, no single route", got[0])
	}
}

// TestSecurityRendering checks the section in each output: loosening
// first and marked, and the JSON form carrying every field.
func TestSecurityRendering(t *testing.T) {
	t.Parallel()
	base := apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}}, secRoute("orders", "/v1/orders", nil), secRoute("users", "/v1/users", nil))
	head := apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}, ExtAuth: &ir.ExtAuthRule{Service: "authz"}},
		secRoute("orders", "/v1/orders", &ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}, Optional: true}}), secRoute("users", "/v1/users", nil))
	side := func(vh *ir.VirtualHost) map[string]*Gateway {
		return map[string]*Gateway{"edge": {IR: secGateway(vh, nil), Resources: &xds.Resources{}}}
	}
	r, err := Compare(side(base), side(head))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := WriteText(&text, r, Labels{Base: "main", Head: "HEAD"}, false); err != nil {
		t.Fatal(err)
	}
	wantText := `  Security (loosening changes first):
    loosens   api.acme.io /v1/orders (route orders): JWT now optional (was required)
    tightens  all 2 routes of api.acme.io: ext_authz added (service authz)
`
	if !strings.Contains(text.String(), wantText) {
		t.Errorf("text output:\n%s\nwant it to contain:\n%s", text.String(), wantText)
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, r, Labels{Base: "main", Head: "HEAD"}); err != nil {
		t.Fatal(err)
	}
	wantMD := "> [!CAUTION]\n> 1 security change would loosen the protection of requests.\n\n" +
		"| security | where | change |\n|---|---|---|\n" +
		"| **loosens** | api.acme.io /v1/orders (route orders) | JWT now optional (was required) |\n" +
		"| tightens | all 2 routes of api.acme.io | ext_authz added (service authz) |\n"
	if !strings.Contains(md.String(), wantMD) {
		t.Errorf("markdown output:\n%s\nwant it to contain:\n%s", md.String(), wantMD)
	}
	b, err := json.Marshal(r.Gateways[0].Security)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `[{"virtualHost":"api","hostnames":["api.acme.io"],"route":"/v1/orders (route orders)","routes":1,"loosening":true,"change":"JWT now optional (was required)","where":"api.acme.io /v1/orders (route orders)"},` +
		`{"virtualHost":"api","hostnames":["api.acme.io"],"routes":2,"loosening":false,"change":"ext_authz added (service authz)","where":"all 2 routes of api.acme.io"}]`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, wantJSON)
	}
}

// BenchmarkCompareSecurity compares two versions of a host of 10,000
// routes, a tenth of them with rules of their own.
func BenchmarkCompareSecurity(b *testing.B) {
	side := func(limit uint32) *ir.Gateway {
		var rs []*ir.Route
		for i := range 10000 {
			var s *ir.Security
			if i%10 == 0 {
				s = &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: limit, Per: time.Second}}
			}
			rs = append(rs, secRoute(fmt.Sprintf("r%d", i), fmt.Sprintf("/r%d", i), s))
		}
		return secGateway(apiHost(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"idp"}}, LocalRateLimit: &ir.LocalRateLimitRule{Requests: limit, Per: time.Minute}}, rs...), nil)
	}
	base, head := side(10), side(20)
	b.ResetTimer()
	for range b.N {
		compareSecurity(base, head)
	}
}
