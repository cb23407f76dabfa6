package policy

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

func pos(line int) diag.Pos { return diag.Pos{File: "api.yaml", Line: line, Col: 3} }

func from(level ir.SettingLevel, line int) ir.Origin {
	return ir.Origin{Level: level, Name: "x", Pos: pos(line)}
}

func route(name, prefix string, line int, s *ir.Security) *ir.Route {
	return &ir.Route{
		Name:    name,
		Match:   ir.Match{PathKind: ir.PathPrefix, Path: prefix},
		Forward: []ir.WeightedCluster{{Cluster: "api", Weight: 1}},
		Origin:  pos(line), Security: s,
	}
}

// gateway serves the virtual hosts on an HTTPS listener, and the first
// one again on plain HTTP, where it only redirects.
func gateway(vhs ...*ir.VirtualHost) *ir.Gateway {
	redirect := &ir.VirtualHost{Name: vhs[0].Name, Domains: vhs[0].Domains, Security: vhs[0].Security, Routes: []*ir.Route{{
		Match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, Redirect: &ir.Redirect{Scheme: "https", Code: 301}, Origin: pos(1),
	}}}
	return &ir.Gateway{Name: "edge", Listeners: []*ir.Listener{
		{Name: "http", Protocol: ir.HTTP, Routes: &ir.RouteTable{Name: "http", VirtualHosts: []*ir.VirtualHost{redirect}}},
		{Name: "https", Protocol: ir.HTTPS, Chains: []*ir.FilterChain{{Name: "c", Routes: &ir.RouteTable{Name: "https", VirtualHosts: vhs}}}},
	}}
}

func projectWith(b intent.BuiltinPolicies) *intent.Project {
	return &intent.Project{Spec: intent.ProjectSpec{Policies: &intent.Policies{Builtin: b}}}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	jwt := &ir.JWTRule{Providers: []string{"idp"}, From: from(ir.LevelVirtualHost, 5)}
	ext := &ir.ExtAuthRule{Service: "authz", From: from(ir.LevelGateway, 90)}
	tests := []struct {
		name   string
		params intent.BuiltinParams
		vhs    []*ir.VirtualHost
		want   []string
	}{
		{
			name:   "inherited from the virtual host",
			params: intent.BuiltinParams{Hosts: []string{"*.acme.io"}},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: jwt}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, nil), route("", "/v1/users", 12, nil),
			}}},
		},
		{
			name:   "gateway default folded in",
			params: intent.BuiltinParams{},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{ExtAuth: ext}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, nil),
			}}},
		},
		{
			name:   "route disables it",
			params: intent.BuiltinParams{Hosts: []string{"api.acme.io"}},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: jwt}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, &ir.Security{JWT: &ir.JWTRule{Disabled: true, From: from(ir.LevelRoute, 11)}}),
				route("users", "/v1/users", 14, nil),
			}}},
			want: []string{"api.yaml:11:3: error: api.acme.io route orders (prefix /v1/orders): jwt is disabled at the route level, but the authRequired policy requires authentication [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "route disables jwt but keeps ext_authz",
			params: intent.BuiltinParams{},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: jwt, ExtAuth: ext}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, &ir.Security{JWT: &ir.JWTRule{Disabled: true, From: from(ir.LevelRoute, 11)}}),
			}}},
		},
		{
			name:   "optional jwt does not authenticate",
			params: intent.BuiltinParams{},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: jwt}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, &ir.Security{JWT: &ir.JWTRule{Optional: true, Providers: []string{"idp"}, From: from(ir.LevelRoute, 11)}}),
			}}},
			want: []string{"api.yaml:11:3: error: api.acme.io route orders (prefix /v1/orders): jwt is optional at the route level, so requests without a token get through, but the authRequired policy requires authentication [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "nothing set: one finding for the host",
			params: intent.BuiltinParams{Hosts: []string{"*.acme.io"}},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io", "api2.acme.io"}, Routes: []*ir.Route{
				route("orders", "/v1/orders", 10, nil), route("users", "/v1/users", 12, nil), route("", "/", 14, nil),
			}}},
			want: []string{"api.yaml:10:3: error: 3 routes of api.acme.io (and 1 more), the first route orders (prefix /v1/orders), have no authentication, which the authRequired policy requires: set jwt, extAuth or basicAuth [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "an include disables it for its routes",
			params: intent.BuiltinParams{},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: jwt}, Routes: func() []*ir.Route {
				off := &ir.Security{JWT: &ir.JWTRule{Disabled: true, From: from(ir.LevelInclude, 30)}}
				return []*ir.Route{route("a", "/public/a", 31, off), route("b", "/public/b", 32, off), route("c", "/private", 33, nil)}
			}()}},
			want: []string{"api.yaml:30:3: error: 2 routes of api.acme.io, the first route a (prefix /public/a): jwt is disabled at the include level, but the authRequired policy requires authentication [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "other hosts are not covered",
			params: intent.BuiltinParams{Hosts: []string{"*.acme.io"}},
			vhs:    []*ir.VirtualHost{{Name: "status", Domains: []string{"status.example.com"}, Routes: []*ir.Route{route("", "/", 10, nil)}}},
		},
		{
			name:   "paths: only routes that can serve them",
			params: intent.BuiltinParams{Paths: []string{"/admin"}},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{
				route("public", "/public", 10, nil),
				{Name: "seg", Match: ir.Match{PathKind: ir.PathSegment, Path: "/adm"}, Respond: &ir.Respond{Status: 200}, Origin: pos(11)},
				{Name: "re-public", Match: ir.Match{PathKind: ir.PathRegex, Path: "/v[0-9]+/public"}, Forward: []ir.WeightedCluster{{Cluster: "api"}}, Origin: pos(12)},
				{Name: "re-admin", Match: ir.Match{PathKind: ir.PathRegex, Path: "/admin/[a-z]+"}, Forward: []ir.WeightedCluster{{Cluster: "api"}}, Origin: pos(13)},
				{Name: "exact", Match: ir.Match{PathKind: ir.PathExact, Path: "/admin/x"}, Forward: []ir.WeightedCluster{{Cluster: "api"}}, Origin: pos(14),
					Security: &ir.Security{BasicAuth: &ir.BasicAuthRule{UsersFile: "/etc/envoy/users"}}},
			}}},
			want: []string{"api.yaml:13:3: error: api.acme.io route re-admin (regex /admin/[a-z]+) has no authentication, which the authRequired policy requires: set jwt, extAuth or basicAuth [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "a catch-all route serves the prefix too",
			params: intent.BuiltinParams{Paths: []string{"/admin"}},
			vhs:    []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{route("all", "/", 10, nil)}}},
			want:   []string{"api.yaml:10:3: error: api.acme.io route all (prefix /) has no authentication, which the authRequired policy requires: set jwt, extAuth or basicAuth [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "the finding is at the rule closest to the route",
			params: intent.BuiltinParams{},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: &ir.JWTRule{Disabled: true, From: from(ir.LevelVirtualHost, 4)}},
				Routes: []*ir.Route{route("a", "/", 10, &ir.Security{ExtAuth: &ir.ExtAuthRule{Disabled: true, From: from(ir.LevelRoute, 11)}})}}},
			want: []string{"api.yaml:11:3: error: api.acme.io route a (prefix /): extAuth is disabled at the route level, but the authRequired policy requires authentication [edgectl.builtin.auth_required.violation]"},
		},
		{
			name:   "warning severity",
			params: intent.BuiltinParams{Severity: "warning"},
			vhs: []*ir.VirtualHost{{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{JWT: &ir.JWTRule{Disabled: true, From: from(ir.LevelVirtualHost, 4)}},
				Routes: []*ir.Route{route("a", "/", 10, nil)}}},
			want: []string{"api.yaml:4:3: warning: api.acme.io route a (prefix /): jwt is disabled at the virtual host level, but the authRequired policy requires authentication [edgectl.builtin.auth_required.violation]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.params
			got := lines(Security(projectWith(intent.BuiltinPolicies{AuthRequired: &p}), []*ir.Gateway{gateway(tc.vhs...)}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRateLimitRequired(t *testing.T) {
	t.Parallel()
	local := &ir.LocalRateLimitRule{Requests: 100, Per: 60e9, From: from(ir.LevelVirtualHost, 5)}
	tests := []struct {
		name string
		vh   *ir.VirtualHost
		want []string
	}{
		{
			name: "inherited local limit",
			vh:   &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{LocalRateLimit: local}, Routes: []*ir.Route{route("a", "/", 10, nil)}},
		},
		{
			name: "global limit on the route",
			vh: &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{route("a", "/", 10, &ir.Security{RateLimit: &ir.RateLimitRule{
				Service: "rls", Limits: []ir.RateLimit{{Requests: 10, Unit: "second"}}, From: from(ir.LevelRoute, 11)}})}},
		},
		{
			name: "global rule without limits counts nothing",
			vh: &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{route("a", "/", 10, &ir.Security{RateLimit: &ir.RateLimitRule{
				Service: "rls", From: from(ir.LevelRoute, 11)}})}},
			want: []string{"api.yaml:10:3: error: api.acme.io route a (prefix /) has no rate limit, which the rateLimitRequired policy requires: set rateLimit or localRateLimit [edgectl.builtin.rate_limit_required.violation]"},
		},
		{
			name: "route disables the inherited limit",
			vh: &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{LocalRateLimit: local}, Routes: []*ir.Route{
				route("a", "/", 10, &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Disabled: true, From: from(ir.LevelRoute, 11)}})}},
			want: []string{"api.yaml:11:3: error: api.acme.io route a (prefix /): localRateLimit is disabled at the route level, but the rateLimitRequired policy requires a rate limit [edgectl.builtin.rate_limit_required.violation]"},
		},
		{
			name: "redirects are not covered",
			vh: &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{{Match: ir.Match{PathKind: ir.PathPrefix, Path: "/old"},
				Redirect: &ir.Redirect{Path: "/new", Code: 301}, Origin: pos(10)}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := lines(Security(projectWith(intent.BuiltinPolicies{RateLimitRequired: &intent.BuiltinParams{Hosts: []string{"api.acme.io"}}}), []*ir.Gateway{gateway(tc.vh)}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCORSOrigins(t *testing.T) {
	t.Parallel()
	allowed := []string{"https://app.acme.io", "https://*.example.com", "**.partner.io", "https://beta-**"}
	tests := []struct {
		name    string
		origins []ir.StringMatch
		want    []string // the origins reported
	}{
		{"exact allowed", []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.acme.io"}}, nil},
		{"exact allowed, case folded", []ir.StringMatch{{Kind: ir.MatchExact, Value: "HTTPS://App.Acme.io"}}, nil},
		{"one label glob", []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://shop.example.com"}}, nil},
		{"one label glob does not cross dots", []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://a.b.example.com"}}, []string{"https://a.b.example.com"}},
		{"exact outside", []ir.StringMatch{{Kind: ir.MatchExact, Value: "http://app.acme.io"}}, []string{"http://app.acme.io"}},
		{"suffix under a ** pattern", []ir.StringMatch{{Kind: ir.MatchSuffix, Value: ".eu.partner.io"}}, nil},
		{"suffix wider than every pattern", []ir.StringMatch{{Kind: ir.MatchSuffix, Value: ".example.com"}}, []string{"any origin ending in .example.com"}},
		{"prefix under a ** pattern", []ir.StringMatch{{Kind: ir.MatchPrefix, Value: "https://beta-eu"}}, nil},
		{"plain regex", []ir.StringMatch{{Kind: ir.MatchRegex, Value: `^https://app\.acme\.io$`}}, nil},
		{"real regex", []ir.StringMatch{{Kind: ir.MatchRegex, Value: `https://.*\.acme\.io`}}, []string{`origins matching the regex https://.*\.acme\.io`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cors := &ir.CORSRule{Origins: tc.origins, From: from(ir.LevelVirtualHost, 7)}
			vh := &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Security: &ir.Security{CORS: cors}, Routes: []*ir.Route{route("a", "/", 10, nil), route("b", "/b", 11, nil)}}
			ds := Security(projectWith(intent.BuiltinPolicies{CORSOrigins: &intent.BuiltinParams{Allowed: allowed}}), []*ir.Gateway{gateway(vh)})
			var got []string
			for _, d := range ds {
				if d.Pos != pos(7) || d.Rule != RuleCORSOrigins {
					t.Errorf("finding %s: want it at the CORS rule", d)
				}
				got = append(got, strings.TrimPrefix(strings.Split(d.Message, ", outside")[0], "CORS lets in "))
			}
			for i := range got {
				got[i] = strings.TrimSuffix(got[i], " (a regex cannot be checked against the allowed list; write exact or suffix origins)")
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCORSOriginsDisabledAndRouteRules(t *testing.T) {
	t.Parallel()
	open := []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://evil.io"}}
	vh := &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"},
		Security: &ir.Security{CORS: &ir.CORSRule{Disabled: true, Origins: open, From: from(ir.LevelVirtualHost, 7)}},
		Routes: []*ir.Route{
			route("a", "/a", 10, &ir.Security{CORS: &ir.CORSRule{Origins: open, From: from(ir.LevelRoute, 11)}}),
		}}
	got := lines(Security(projectWith(intent.BuiltinPolicies{CORSOrigins: &intent.BuiltinParams{Allowed: []string{"https://app.acme.io"}}}), []*ir.Gateway{gateway(vh)}))
	want := []string{"api.yaml:11:3: error: CORS lets in https://evil.io, outside the origins the corsOrigins policy allows (https://app.acme.io) [edgectl.builtin.cors_origins.violation]"}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIPAllowlist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		allow []string
		want  []string
	}{
		{"inside", []string{"10.1.0.0/16", "192.168.1.7/32"}, nil},
		{"equal", []string{"10.0.0.0/8"}, nil},
		{"wider", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}},
		{"wider from the same address", []string{"10.0.0.0/7"}, []string{"10.0.0.0/7"}},
		{"beside", []string{"11.0.0.0/8", "10.2.0.0/16"}, []string{"11.0.0.0/8"}},
		{"other family", []string{"::/0", "2001:db8::/48"}, []string{"::/0"}},
		{"mapped v4", []string{"::ffff:10.1.0.0/112"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ip := &ir.IPRule{Allow: tc.allow, Deny: []string{"0.0.0.0/0"}, From: from(ir.LevelRoute, 20)}
			vh := &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{
				route("a", "/a", 10, &ir.Security{IP: ip}), route("b", "/b", 11, &ir.Security{IP: ip}),
				route("c", "/c", 12, &ir.Security{IP: &ir.IPRule{Disabled: true, Allow: []string{"0.0.0.0/0"}}}),
			}}
			ds := Security(projectWith(intent.BuiltinPolicies{IPAllowlist: &intent.BuiltinParams{Allowed: []string{"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"}}}), []*ir.Gateway{gateway(vh)})
			var got []string
			for _, d := range ds {
				if d.Pos != pos(20) {
					t.Errorf("finding %s: want it at the IP rule", d)
				}
				got = append(got, strings.TrimPrefix(strings.Split(d.Message, ", outside")[0], "IP allow list admits "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExtAuthFailOpen(t *testing.T) {
	t.Parallel()
	g := gateway(&ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{route("a", "/", 10, nil)}})
	g.AuthServices = []*ir.AuthService{{Name: "closed", Origin: pos(40)}, {Name: "open", FailOpen: true, Origin: pos(50)}}
	got := lines(Security(projectWith(intent.BuiltinPolicies{ExtAuthFailOpen: &intent.BuiltinParams{}}), []*ir.Gateway{g}))
	want := []string{"api.yaml:50:3: error: auth service open fails open: while it is unreachable, requests pass unchecked; the extAuthFailOpen policy requires it to fail closed [edgectl.builtin.ext_auth_fail_open.violation]"}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Off, the policy reports nothing; lowering's warning stands.
	if ds := Security(projectWith(intent.BuiltinPolicies{}), []*ir.Gateway{g}); len(ds) != 0 {
		t.Errorf("switched off, got %v", lines(ds))
	}
	warn := diag.List{{Pos: pos(51), Severity: diag.Warning, Rule: RuleAuthFailOpenWarning, Message: "fails open"}, {Pos: pos(1), Severity: diag.Warning, Rule: "other"}}
	if got := Superseded(projectWith(intent.BuiltinPolicies{}), slices.Clone(warn)); len(got) != 2 {
		t.Errorf("switched off, Superseded kept %d of 2", len(got))
	}
	if got := Superseded(projectWith(intent.BuiltinPolicies{ExtAuthFailOpen: &intent.BuiltinParams{}}), slices.Clone(warn)); len(got) != 1 || got[0].Rule != "other" {
		t.Errorf("switched on, Superseded kept %v", got)
	}
}

// TestSecurityNotesThePolicy reads the parameters from an edgectl.yaml, so
// each finding notes the line that switches its policy on, and checks that
// the parameters' own mistakes are findings at their position.
func TestSecurityNotesThePolicy(t *testing.T) {
	t.Parallel()
	proj := `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: p}
spec:
  policies:
    builtin:
      authRequired:
        hosts: ["*.acme.io"]
        paths: [/admin, /admin]
      ipAllowlist:
        allowed: [10.0.0.0/8, 10.1.2.3/16, nonsense]
      corsOrigins:
        allowed: []
`
	m, ds, err := intent.Load(fstest.MapFS{"edgectl.yaml": {Data: []byte(proj)}}, intent.Options{})
	if err != nil || ds.HasErrors() {
		t.Fatalf("load: %v %v", err, ds)
	}
	gotParams := lines(CheckParams(m.Project))
	wantParams := []string{
		"edgectl.yaml:9:16: error: authRequired: paths lists \"/admin\" twice [invalid-value]",
		"edgectl.yaml:11:31: error: ipAllowlist: allowed[1]: \"10.1.2.3/16\" has bits set past its prefix length; write 10.1.0.0/16 [invalid-value]",
		"edgectl.yaml:11:44: error: ipAllowlist: allowed[2]: \"nonsense\" is not a CIDR range such as 10.0.0.0/8 [invalid-value]",
		"edgectl.yaml:13:18: error: corsOrigins: allowed is empty, so the policy cannot be satisfied; list at least one [invalid-value]",
	}
	if !slices.Equal(gotParams, wantParams) {
		t.Errorf("parameter findings:\n%s\nwant:\n%s", strings.Join(gotParams, "\n"), strings.Join(wantParams, "\n"))
	}
	vh := &ir.VirtualHost{Name: "api", Domains: []string{"api.acme.io"}, Routes: []*ir.Route{route("a", "/", 10, nil)}}
	found := Security(m.Project, []*ir.Gateway{gateway(vh)})
	if len(found) != 1 {
		t.Fatalf("got %v, want one finding", lines(found))
	}
	want := diag.Related{Pos: diag.Pos{File: "edgectl.yaml", Line: 7, Col: 7}, Message: "the authRequired policy is switched on here"}
	if !slices.Equal(found[0].Related, []diag.Related{want}) {
		t.Errorf("related %v, want %v", found[0].Related, want)
	}
}
