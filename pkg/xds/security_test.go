package xds

import (
	"slices"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

func durOf(d time.Duration) *time.Duration { return &d }

// secGateway is testGateway with what security rules refer to: clusters
// for an authorization service, a key set and a rate-limit service, two
// JWT providers, two authorization services, two rate-limit services and a
// client CA. The virtual host "www" of the HTTP listener gets vh as its
// security, and its routes are "/" (team web) plus extra.
func secGateway(vh *ir.Security, extra ...*ir.Route) *ir.Gateway {
	g := testGateway()
	static := func(name, addr string) *ir.Cluster {
		return &ir.Cluster{Name: name, Discovery: ir.Static, Endpoints: []ir.Endpoint{{Address: addr, Port: 80}}, ConnectTimeout: time.Second, LB: ir.RoundRobin, HTTP2: true}
	}
	g.Clusters = append(g.Clusters, static("authz", "10.0.1.1"), static("jwks", "10.0.1.2"), static("rls", "10.0.1.3"))
	slices.SortFunc(g.Clusters, func(a, b *ir.Cluster) int { return strings.Compare(a.Name, b.Name) })
	g.Secrets = append(g.Secrets, &ir.Secret{Name: "client-ca", CA: "/etc/ca.pem"})
	g.JWTProviders = []*ir.JWTProvider{
		{Name: "corp", Issuer: "https://corp.example.com", LocalJWKSFile: "/etc/envoy/corp.jwks"},
		{Name: "idp", Issuer: "https://idp.example.com", Audiences: []string{"api", "web"},
			RemoteJWKS:  &ir.RemoteJWKS{URI: "https://idp.example.com/jwks", Cluster: "jwks", Timeout: durOf(2 * time.Second), CacheDuration: durOf(10 * time.Minute)},
			FromHeaders: []ir.TokenHeader{{Name: "Authorization", Prefix: "Bearer "}}, FromParams: []string{"token"}, FromCookies: []string{"jwt"},
			Forward: true, ClaimHeaders: []ir.ClaimHeader{{Claim: "sub", Header: "x-user"}}, ClockSkew: durOf(30 * time.Second)},
	}
	g.AuthServices = []*ir.AuthService{
		{Name: "grpc-authz", GRPC: true, Cluster: "authz", Timeout: time.Second},
		{Name: "http-authz", Cluster: "authz", PathPrefix: "/check", Timeout: 500 * time.Millisecond,
			RequestHeaders: []string{"cookie"}, UpstreamHeaders: []string{"x-user"}, ClientHeaders: []string{"www-authenticate"},
			Body: &ir.AuthBody{MaxBytes: 8192, AllowPartial: true}, FailOpen: true},
	}
	g.RateLimitServices = []*ir.RateLimitService{
		{Name: "rls", Cluster: "rls", Domain: "edge", Timeout: durOf(100 * time.Millisecond)},
		{Name: "rls-open", Cluster: "rls", FailOpen: true}, // the domain is its name
	}
	www := g.Listeners[0].Routes.VirtualHosts[0]
	www.Team = "web"
	www.Security = vh
	www.Routes[0].Name = "root"
	www.Routes[0].Team = "web"
	www.Routes = append(www.Routes, extra...)
	return g
}

func secRoute(name, team string, s *ir.Security) *ir.Route {
	return &ir.Route{Name: name, Team: team, Match: ir.Match{PathKind: ir.PathPrefix, Path: "/" + name}, Forward: []ir.WeightedCluster{{Cluster: "web", Weight: 1}}, Security: s}
}

// hcmAt opens the connection manager of a listener's filter chain.
func hcmAt(t *testing.T, l *listenerv3.Listener, chain int) *hcmv3.HttpConnectionManager {
	t.Helper()
	m := &hcmv3.HttpConnectionManager{}
	if err := l.FilterChains[chain].Filters[0].GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func filterNames(h *hcmv3.HttpConnectionManager) []string {
	var out []string
	for _, f := range h.HttpFilters {
		out = append(out, f.Name)
	}
	return out
}

// filterConfig opens the configuration of an HTTP filter in a chain.
func filterConfig[T proto.Message](t *testing.T, h *hcmv3.HttpConnectionManager, name string, into T) T {
	t.Helper()
	for _, f := range h.HttpFilters {
		if f.Name == name {
			if !f.Disabled {
				t.Errorf("filter %s is enabled in the chain; every security filter is enabled per route", name)
			}
			if err := f.GetTypedConfig().UnmarshalTo(into); err != nil {
				t.Fatal(err)
			}
			return into
		}
	}
	t.Fatalf("no filter %s in %v", name, filterNames(h))
	return into
}

// perFilter opens a typed_per_filter_config entry: whether there is one,
// whether it disables the filter, and its configuration unpacked into into.
func perFilter(t *testing.T, configs map[string]*anypb.Any, name string, into proto.Message) (present, off bool) {
	t.Helper()
	a, ok := configs[name]
	if !ok {
		return false, false
	}
	if a.MessageIs(&routev3.FilterConfig{}) {
		fc := &routev3.FilterConfig{}
		if err := a.UnmarshalTo(fc); err != nil {
			t.Fatal(err)
		}
		if fc.Disabled {
			return true, true
		}
		a = fc.Config
	}
	if into != nil {
		if err := a.UnmarshalTo(into); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return true, false
}

func checkAllModes(t *testing.T, g *ir.Gateway) {
	t.Helper()
	if err := g.Validate(); err != nil {
		t.Fatalf("test gateway is invalid: %v", err)
	}
	modes := []Mode{Static, Files, ADS}
	for i, r := range Translate(g, modes...) {
		if err := Check(r, modes[i]); err != nil {
			t.Errorf("%s: %v", modes[i], err)
		}
	}
}

func everyRule() *ir.Security {
	return &ir.Security{
		IP:             &ir.IPRule{Allow: []string{"10.0.0.0/8"}},
		CORS:           &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.example.com"}}},
		JWT:            &ir.JWTRule{Providers: []string{"idp"}},
		BasicAuth:      &ir.BasicAuthRule{UsersFile: "/etc/envoy/users.htpasswd"},
		ExtAuth:        &ir.ExtAuthRule{Service: "http-authz"},
		LocalRateLimit: &ir.LocalRateLimitRule{Requests: 10, Per: time.Second},
		RateLimit:      &ir.RateLimitRule{Service: "rls", Limits: []ir.RateLimit{{Requests: 100, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}}}},
	}
}

func TestFilterOrder(t *testing.T) {
	t.Parallel()
	g := secGateway(everyRule(), secRoute("admin", "web", &ir.Security{
		ExtAuth:   &ir.ExtAuthRule{Service: "grpc-authz"},
		RateLimit: &ir.RateLimitRule{Service: "rls-open", Limits: []ir.RateLimit{{Requests: 5, Unit: "second"}}},
	}))
	checkAllModes(t, g)
	for _, mode := range []Mode{Static, Files, ADS, StaticSpliced} {
		h := hcmAt(t, Translate(g, mode)[0].Listeners[0], 0)
		want := []string{
			"envoy.filters.http.rbac",
			"envoy.filters.http.cors",
			"envoy.filters.http.jwt_authn",
			"envoy.filters.http.basic_auth",
			"envoy.filters.http.ext_authz/grpc-authz",
			"envoy.filters.http.ext_authz/http-authz",
			"envoy.filters.http.local_ratelimit",
			"envoy.filters.http.ratelimit/rls",
			"envoy.filters.http.ratelimit/rls-open",
			"envoy.filters.http.router",
		}
		if diff := cmp.Diff(want, filterNames(h)); diff != "" {
			t.Errorf("%s: filter chain (-want +got):\n%s", mode, diff)
		}
		for _, f := range h.HttpFilters {
			if f.Disabled != (f.Name != "envoy.filters.http.router") {
				t.Errorf("%s: filter %s disabled=%v", mode, f.Name, f.Disabled)
			}
		}
	}
}

func TestFiltersOnlyWhenUsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		vh     *ir.Security
		routes []*ir.Route
		want   []string // the HTTP listener's filters, router aside
	}{
		{"no security", nil, nil, nil},
		{"empty security", &ir.Security{}, nil, nil},
		{"only disabled rules", &ir.Security{JWT: &ir.JWTRule{Disabled: true}, IP: &ir.IPRule{Disabled: true}},
			[]*ir.Route{secRoute("a", "web", &ir.Security{CORS: &ir.CORSRule{Disabled: true}})}, nil},
		{"a route's rule", nil, []*ir.Route{secRoute("a", "web", &ir.Security{CORS: &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchSuffix, Value: ".example.com"}}}})},
			[]string{"envoy.filters.http.cors"}},
		{"only the service used", &ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "grpc-authz"}}, nil,
			[]string{"envoy.filters.http.ext_authz/grpc-authz"}},
		{"virtual host and route", &ir.Security{IP: &ir.IPRule{Deny: []string{"192.0.2.0/24"}}},
			[]*ir.Route{secRoute("a", "web", &ir.Security{LocalRateLimit: &ir.LocalRateLimitRule{Requests: 1, Per: time.Minute}})},
			[]string{"envoy.filters.http.rbac", "envoy.filters.http.local_ratelimit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := secGateway(tc.vh, tc.routes...)
			checkAllModes(t, g)
			r := Translate(g, Files)[0]
			got := filterNames(hcmAt(t, r.Listeners[0], 0))
			if diff := cmp.Diff(append(tc.want, "envoy.filters.http.router"), got); diff != "" {
				t.Errorf("HTTP listener's filters (-want +got):\n%s", diff)
			}
			// The HTTPS listener serves no rule at all.
			if got := filterNames(hcmAt(t, r.Listeners[1], 0)); !slices.Equal(got, []string{"envoy.filters.http.router"}) {
				t.Errorf("HTTPS listener's filters = %v, want only the router", got)
			}
		})
	}
}

// TestInheritance holds typed_per_filter_config to ir's rule: the virtual
// host's rules on the virtual host, a route's entries only where it sets a
// rule, a route's disabled rule switching off only what the virtual host
// switched on.
func TestInheritance(t *testing.T) {
	t.Parallel()
	vh := &ir.Security{
		JWT:     &ir.JWTRule{Providers: []string{"idp"}},
		ExtAuth: &ir.ExtAuthRule{Service: "http-authz"},
	}
	g := secGateway(vh,
		secRoute("inherits", "web", nil),
		secRoute("public", "web", &ir.Security{JWT: &ir.JWTRule{Disabled: true}, ExtAuth: &ir.ExtAuthRule{Disabled: true}}),
		secRoute("optional", "web", &ir.Security{JWT: &ir.JWTRule{Providers: []string{"corp", "idp"}, Optional: true}}),
		secRoute("other-service", "web", &ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "grpc-authz"}}),
		secRoute("cors-off", "web", &ir.Security{CORS: &ir.CORSRule{Disabled: true}}),
	)
	checkAllModes(t, g)
	rc := Translate(g, Files)[0].Routes[0]
	vhost := rc.VirtualHosts[0]
	jwt := &jwtv3.PerRouteConfig{}
	if ok, off := perFilter(t, vhost.TypedPerFilterConfig, filterJWT, jwt); !ok || off || jwt.GetRequirementName() != "idp" {
		t.Errorf("virtual host: jwt entry present=%v disabled=%v requirement %q", ok, off, jwt.GetRequirementName())
	}
	if ok, off := perFilter(t, vhost.TypedPerFilterConfig, "envoy.filters.http.ext_authz/http-authz", nil); !ok || off {
		t.Errorf("virtual host: ext_authz entry present=%v disabled=%v", ok, off)
	}
	routes := map[string]*routev3.Route{}
	for _, r := range vhost.Routes {
		routes[r.Name] = r
	}
	for _, name := range []string{"root", "inherits", "cors-off"} {
		if c := routes[name].TypedPerFilterConfig; len(c) != 0 {
			t.Errorf("route %s sets nothing that changes what it inherits, yet has entries %v", name, slices.Sorted(mapsKeys(c)))
		}
	}
	pub := routes["public"].TypedPerFilterConfig
	for _, name := range []string{filterJWT, "envoy.filters.http.ext_authz/http-authz"} {
		if ok, off := perFilter(t, pub, name, nil); !ok || !off {
			t.Errorf("route public: %s present=%v disabled=%v, want disabled", name, ok, off)
		}
	}
	if ok, _ := perFilter(t, routes["optional"].TypedPerFilterConfig, filterJWT, jwt); !ok || jwt.GetRequirementName() != "corp|idp|allow-missing" {
		t.Errorf("route optional: requirement %q", jwt.GetRequirementName())
	}
	other := routes["other-service"].TypedPerFilterConfig
	if ok, off := perFilter(t, other, "envoy.filters.http.ext_authz/http-authz", nil); !ok || !off {
		t.Errorf("route other-service: the virtual host's service is not switched off")
	}
	if ok, off := perFilter(t, other, "envoy.filters.http.ext_authz/grpc-authz", nil); !ok || off {
		t.Errorf("route other-service: its own service is not switched on")
	}
	// The connection manager's jwt_authn has a requirement for each rule,
	// and only the providers they name.
	h := hcmAt(t, Translate(g, Files)[0].Listeners[0], 0)
	ja := filterConfig(t, h, filterJWT, &jwtv3.JwtAuthentication{})
	wantReqs := map[string]*jwtv3.JwtRequirement{
		"idp": {RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "idp"}},
		"corp|idp|allow-missing": {RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: []*jwtv3.JwtRequirement{
			{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "corp"}},
			{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "idp"}},
			{RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}},
		}}}},
	}
	if diff := cmp.Diff(wantReqs, ja.RequirementMap, protocmp.Transform()); diff != "" {
		t.Errorf("requirement_map (-want +got):\n%s", diff)
	}
	if got := slices.Sorted(mapsKeys(ja.Providers)); !slices.Equal(got, []string{"corp", "idp"}) {
		t.Errorf("providers = %v", got)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestJWTProvider(t *testing.T) {
	t.Parallel()
	g := secGateway(&ir.Security{JWT: &ir.JWTRule{Providers: []string{"corp", "idp"}}})
	checkAllModes(t, g)
	ja := filterConfig(t, hcmAt(t, Translate(g, Files)[0].Listeners[0], 0), filterJWT, &jwtv3.JwtAuthentication{})
	want := map[string]*jwtv3.JwtProvider{
		"corp": {Issuer: "https://corp.example.com", JwksSourceSpecifier: &jwtv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_Filename{Filename: "/etc/envoy/corp.jwks"}}}},
		"idp": {
			Issuer: "https://idp.example.com", Audiences: []string{"api", "web"},
			JwksSourceSpecifier: &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{
				HttpUri: &corev3.HttpUri{Uri: "https://idp.example.com/jwks", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "jwks"},
					Timeout: durationpb.New(2 * time.Second)},
				CacheDuration: durationpb.New(10 * time.Minute),
			}},
			FromHeaders:      []*jwtv3.JwtHeader{{Name: "Authorization", ValuePrefix: "Bearer "}},
			FromParams:       []string{"token"},
			FromCookies:      []string{"jwt"},
			Forward:          true,
			ClaimToHeaders:   []*jwtv3.JwtClaimToHeader{{HeaderName: "x-user", ClaimName: "sub"}},
			ClockSkewSeconds: 30,
		},
	}
	if diff := cmp.Diff(want, ja.Providers, protocmp.Transform()); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	want2 := &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: []*jwtv3.JwtRequirement{
		{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "corp"}},
		{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "idp"}},
	}}}}
	if diff := cmp.Diff(want2, ja.RequirementMap["corp|idp"], protocmp.Transform()); diff != "" {
		t.Errorf("requirement (-want +got):\n%s", diff)
	}
}

func TestExtAuthz(t *testing.T) {
	t.Parallel()
	g := secGateway(&ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "http-authz", Context: []ir.Header{{Name: "team", Value: "web"}}}},
		secRoute("admin", "web", &ir.Security{ExtAuth: &ir.ExtAuthRule{Service: "grpc-authz"}}))
	checkAllModes(t, g)
	r := Translate(g, Files)[0]
	h := hcmAt(t, r.Listeners[0], 0)
	ms := func(names ...string) *matcherv3.ListStringMatcher {
		out := &matcherv3.ListStringMatcher{}
		for _, n := range names {
			out.Patterns = append(out.Patterns, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}, IgnoreCase: true})
		}
		return out
	}
	wantHTTP := &extauthzv3.ExtAuthz{
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    true,
		StatPrefix:          "http-authz",
		AllowedHeaders:      ms("cookie"),
		WithRequestBody:     &extauthzv3.BufferSettings{MaxRequestBytes: 8192, AllowPartialMessage: true},
		Services: &extauthzv3.ExtAuthz_HttpService{HttpService: &extauthzv3.HttpService{
			ServerUri:  &corev3.HttpUri{Uri: "http://http-authz", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "authz"}, Timeout: durationpb.New(500 * time.Millisecond)},
			PathPrefix: "/check",
			AuthorizationResponse: &extauthzv3.AuthorizationResponse{
				AllowedUpstreamHeaders: ms("x-user"),
				AllowedClientHeaders:   ms("www-authenticate"),
			},
		}},
	}
	if diff := cmp.Diff(wantHTTP, filterConfig(t, h, "envoy.filters.http.ext_authz/http-authz", &extauthzv3.ExtAuthz{}), protocmp.Transform()); diff != "" {
		t.Errorf("HTTP ext_authz (-want +got):\n%s", diff)
	}
	wantGRPC := &extauthzv3.ExtAuthz{
		TransportApiVersion: corev3.ApiVersion_V3,
		StatPrefix:          "grpc-authz",
		Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "authz"}},
			Timeout:         durationpb.New(time.Second),
		}},
	}
	if diff := cmp.Diff(wantGRPC, filterConfig(t, h, "envoy.filters.http.ext_authz/grpc-authz", &extauthzv3.ExtAuthz{}), protocmp.Transform()); diff != "" {
		t.Errorf("gRPC ext_authz, failing closed (-want +got):\n%s", diff)
	}
	per := &extauthzv3.ExtAuthzPerRoute{}
	perFilter(t, r.Routes[0].VirtualHosts[0].TypedPerFilterConfig, "envoy.filters.http.ext_authz/http-authz", per)
	wantPer := &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: &extauthzv3.CheckSettings{
		ContextExtensions: map[string]string{"team": "web"}}}}
	if diff := cmp.Diff(wantPer, per, protocmp.Transform()); diff != "" {
		t.Errorf("per-route (-want +got):\n%s", diff)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	g := secGateway(&ir.Security{BasicAuth: &ir.BasicAuthRule{UsersFile: "/etc/envoy/a.htpasswd"}},
		secRoute("ops", "web", &ir.Security{BasicAuth: &ir.BasicAuthRule{UsersFile: "/etc/envoy/b.htpasswd"}}))
	checkAllModes(t, g)
	r := Translate(g, Files)[0]
	if n := strings.Count(strings.Join(filterNames(hcmAt(t, r.Listeners[0], 0)), " "), "basic_auth"); n != 1 {
		t.Errorf("%d basic_auth filters, want one for both files", n)
	}
	vh := r.Routes[0].VirtualHosts[0]
	for _, tc := range []struct {
		configs map[string]*anypb.Any
		file    string
	}{{vh.TypedPerFilterConfig, "/etc/envoy/a.htpasswd"}, {vh.Routes[1].TypedPerFilterConfig, "/etc/envoy/b.htpasswd"}} {
		got := &basicauthv3.BasicAuthPerRoute{}
		perFilter(t, tc.configs, filterBasicAuth, got)
		if f := got.GetUsers().GetFilename(); f != tc.file {
			t.Errorf("users file %q, want %q", f, tc.file)
		}
	}
}

func TestIPRule(t *testing.T) {
	t.Parallel()
	cidr := func(addr string, bits uint32) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: &corev3.CidrRange{AddressPrefix: addr, PrefixLen: wrapperspb.UInt32(bits)}}}
	}
	or := func(ids ...*rbacconfigv3.Principal) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_OrIds{OrIds: &rbacconfigv3.Principal_Set{Ids: ids}}}
	}
	policy := func(action rbacconfigv3.RBAC_Action, p *rbacconfigv3.Principal) *rbacv3.RBACPerRoute {
		return &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{Action: action, Policies: map[string]*rbacconfigv3.Policy{
			"edgectl-ip": {Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}}, Principals: []*rbacconfigv3.Principal{p}}}}}}
	}
	tests := []struct {
		name string
		rule ir.IPRule
		want *rbacv3.RBACPerRoute
	}{
		{"allow one", ir.IPRule{Allow: []string{"10.0.0.0/8"}}, policy(rbacconfigv3.RBAC_ALLOW, cidr("10.0.0.0", 8))},
		{"allow several", ir.IPRule{Allow: []string{"10.0.0.0/8", "2001:db8::/32"}}, policy(rbacconfigv3.RBAC_ALLOW, or(cidr("10.0.0.0", 8), cidr("2001:db8::", 32)))},
		{"deny only", ir.IPRule{Deny: []string{"192.0.2.7/32"}}, policy(rbacconfigv3.RBAC_DENY, cidr("192.0.2.7", 32))},
		{"allow minus deny", ir.IPRule{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.1.0.0/16", "10.2.0.0/16"}},
			policy(rbacconfigv3.RBAC_ALLOW, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: &rbacconfigv3.Principal_Set{Ids: []*rbacconfigv3.Principal{
				cidr("10.0.0.0", 8),
				{Identifier: &rbacconfigv3.Principal_NotId{NotId: or(cidr("10.1.0.0", 16), cidr("10.2.0.0", 16))}},
			}}}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := secGateway(nil, secRoute("a", "web", &ir.Security{IP: &tc.rule}))
			checkAllModes(t, g)
			r := Translate(g, Files)[0]
			got := &rbacv3.RBACPerRoute{}
			perFilter(t, r.Routes[0].VirtualHosts[0].Routes[1].TypedPerFilterConfig, filterRBAC, got)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// remote_ip is the address after the trusted hops, which the
			// connection manager computes from these.
			h := hcmAt(t, r.Listeners[0], 0)
			if !h.GetUseRemoteAddress().GetValue() {
				t.Errorf("use_remote_address is off: remote_ip would be a proxy's")
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	rule := &ir.CORSRule{
		Origins:       []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://app.example.com"}, {Kind: ir.MatchSuffix, Value: ".example.org"}, {Kind: ir.MatchRegex, Value: `https://[a-z]+\.example\.net`}},
		Methods:       []string{"GET", "POST"},
		Headers:       []string{"authorization", "content-type"},
		ExposeHeaders: []string{"x-request-id"},
		MaxAge:        durOf(10 * time.Minute),
		Credentials:   true,
	}
	g := secGateway(&ir.Security{CORS: rule})
	checkAllModes(t, g)
	got := &corsv3.CorsPolicy{}
	perFilter(t, Translate(g, Files)[0].Routes[0].VirtualHosts[0].TypedPerFilterConfig, filterCORS, got)
	want := &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{
			{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "https://app.example.com"}},
			{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".example.org"}},
			{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `https://[a-z]+\.example\.net`}}},
		},
		AllowMethods:     "GET,POST",
		AllowHeaders:     "authorization,content-type",
		ExposeHeaders:    "x-request-id",
		MaxAge:           "600",
		AllowCredentials: wrapperspb.Bool(true),
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLocalRateLimit(t *testing.T) {
	t.Parallel()
	bucket := &typev3.TokenBucket{MaxTokens: 20, TokensPerFill: wrapperspb.UInt32(20), FillInterval: durationpb.New(time.Minute)}
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	keyed := func(action *routev3.RateLimit_Action, key string) *localratelimitv3.LocalRateLimit {
		return &localratelimitv3.LocalRateLimit{
			StatPrefix: "local_rate_limit", TokenBucket: bucket, FilterEnabled: all, FilterEnforced: all,
			RateLimits: []*routev3.RateLimit{{Actions: []*routev3.RateLimit_Action{action}}},
			Descriptors: []*commonratelimitv3.LocalRateLimitDescriptor{{
				Entries: []*commonratelimitv3.RateLimitDescriptor_Entry{{Key: key}}, TokenBucket: bucket}},
			AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(false),
			MaxDynamicDescriptors:           wrapperspb.UInt32(maxDynamicDescriptors),
		}
	}
	tests := []struct {
		name string
		rule ir.LocalRateLimitRule
		want *localratelimitv3.LocalRateLimit
	}{
		{"shared bucket", ir.LocalRateLimitRule{Requests: 20, Per: time.Minute},
			&localratelimitv3.LocalRateLimit{StatPrefix: "local_rate_limit", TokenBucket: bucket, FilterEnabled: all, FilterEnforced: all}},
		{"status and headers", ir.LocalRateLimitRule{Requests: 20, Per: time.Minute, Status: 503, Headers: true},
			&localratelimitv3.LocalRateLimit{StatPrefix: "local_rate_limit", TokenBucket: bucket, FilterEnabled: all, FilterEnforced: all,
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable}, EnableXRatelimitHeaders: commonratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03}},
		{"per client", ir.LocalRateLimitRule{Requests: 20, Per: time.Minute, By: &ir.RateKey{Kind: ir.KeyClient}},
			keyed(&routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}, "remote_address")},
		{"per header", ir.LocalRateLimitRule{Requests: 20, Per: time.Minute, By: &ir.RateKey{Kind: ir.KeyHeader, Header: "X-Api-Key"}},
			keyed(&routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
				HeaderName: "X-Api-Key", DescriptorKey: "header:x-api-key"}}}, "header:x-api-key")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := secGateway(&ir.Security{LocalRateLimit: &tc.rule})
			checkAllModes(t, g)
			got := &localratelimitv3.LocalRateLimit{}
			perFilter(t, Translate(g, Files)[0].Routes[0].VirtualHosts[0].TypedPerFilterConfig, filterLocalRateLimit, got)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGlobalRateLimit(t *testing.T) {
	t.Parallel()
	g := secGateway(&ir.Security{RateLimit: &ir.RateLimitRule{Service: "rls", From: ir.Origin{Level: ir.LevelVirtualHost, Name: "www"}, Limits: []ir.RateLimit{
		{Requests: 1000, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}},
		{Requests: 10, Unit: "second", By: []ir.RateKey{{Kind: ir.KeyHeader, Header: "x-api-key"}, {Kind: ir.KeyPath}}},
	}}})
	checkAllModes(t, g)
	r := Translate(g, Files)[0]
	got := filterConfig(t, hcmAt(t, r.Listeners[0], 0), "envoy.filters.http.ratelimit/rls", &ratelimitv3.RateLimit{})
	want := &ratelimitv3.RateLimit{Domain: "edge", StatPrefix: "rls", Timeout: durationpb.New(100 * time.Millisecond), FailureModeDeny: true,
		RateLimitService: rateLimitFilterConfig(g.RateLimitServices[0]).RateLimitService}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
	if c := got.GetRateLimitService().GetGrpcService().GetEnvoyGrpc().GetClusterName(); c != "rls" || got.GetRateLimitService().GetTransportApiVersion() != corev3.ApiVersion_V3 {
		t.Errorf("rate_limit_service: cluster %q, version %v", c, got.GetRateLimitService().GetTransportApiVersion())
	}
	per := &ratelimitv3.RateLimitPerRoute{}
	perFilter(t, r.Routes[0].VirtualHosts[0].TypedPerFilterConfig, "envoy.filters.http.ratelimit/rls", per)
	generic := func(k, v string) *routev3.RateLimit_Action {
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: k, DescriptorValue: v}}}
	}
	header := func(h, k string) *routev3.RateLimit_Action {
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: h, DescriptorKey: k}}}
	}
	wantPer := &ratelimitv3.RateLimitPerRoute{RateLimits: []*routev3.RateLimit{
		{Actions: []*routev3.RateLimit_Action{generic("edgectl_limit", "virtualHost:www/0"),
			{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}}},
		{Actions: []*routev3.RateLimit_Action{generic("edgectl_limit", "virtualHost:www/1"), header("x-api-key", "header:x-api-key"), header(":path", "path")}},
	}}
	if diff := cmp.Diff(wantPer, per, protocmp.Transform()); diff != "" {
		t.Errorf("per-route (-want +got):\n%s", diff)
	}
}

func TestClientCertificates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cc          *ir.ClientCertificates
		wantRequire bool
		wantMode    hcmv3.HttpConnectionManager_ForwardClientCertDetails
		wantDetails *hcmv3.HttpConnectionManager_SetCurrentClientCertDetails
	}{
		{"required, forwarded", &ir.ClientCertificates{
			CA:              ir.CertRef{Name: "client-ca"},
			SubjectAltNames: []ir.SANMatch{{Type: "DNS", StringMatch: ir.StringMatch{Kind: ir.MatchSuffix, Value: ".partner.example"}}, {Type: "URI", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "spiffe://partner/pay"}}},
			CRLFile:         "/etc/envoy/partner.crl",
			Forward:         &ir.ClientCertForwarding{Mode: "sanitize-set", Fields: []string{"cert", "subject", "uri"}},
		}, true, hcmv3.HttpConnectionManager_SANITIZE_SET, &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{Subject: wrapperspb.Bool(true), Cert: true, Uri: true}},
		{"optional, from SDS, not forwarded", &ir.ClientCertificates{CA: ir.CertRef{Name: "partner-ca", SDS: true, SDSName: "partner-ca"}, Optional: true},
			false, hcmv3.HttpConnectionManager_SANITIZE, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := secGateway(nil)
			g.SDS = &ir.SDSServer{Address: "127.0.0.1", Port: 8234}
			g.Listeners[1].Chains[0].ClientCertificates = tc.cc
			checkAllModes(t, g)
			l := Translate(g, Files)[0].Listeners[1]
			ctx := &tlsv3.DownstreamTlsContext{}
			if err := l.FilterChains[0].TransportSocket.GetTypedConfig().UnmarshalTo(ctx); err != nil {
				t.Fatal(err)
			}
			if got := ctx.GetRequireClientCertificate().GetValue(); got != tc.wantRequire {
				t.Errorf("require_client_certificate = %v", got)
			}
			cvc := ctx.GetCommonTlsContext().GetCombinedValidationContext()
			if got := cvc.GetValidationContextSdsSecretConfig().GetName(); got != tc.cc.CA.Name {
				t.Errorf("CA secret %q, want %q", got, tc.cc.CA.Name)
			}
			if tc.cc.CA.SDS && cvc.GetValidationContextSdsSecretConfig().GetSdsConfig().GetApiConfigSource() == nil {
				t.Errorf("the CA does not come from the SDS server")
			}
			def := cvc.GetDefaultValidationContext()
			if got := def.GetCrl().GetFilename(); got != tc.cc.CRLFile {
				t.Errorf("crl %q", got)
			}
			if len(def.GetMatchTypedSubjectAltNames()) != len(tc.cc.SubjectAltNames) {
				t.Errorf("SAN matchers %v", def.GetMatchTypedSubjectAltNames())
			}
			for i, m := range def.GetMatchTypedSubjectAltNames() {
				if m.SanType.String() != tc.cc.SubjectAltNames[i].Type {
					t.Errorf("SAN matcher %d: type %s", i, m.SanType)
				}
			}
			h := hcmAt(t, l, 0)
			if h.ForwardClientCertDetails != tc.wantMode {
				t.Errorf("forward_client_cert_details = %v", h.ForwardClientCertDetails)
			}
			if diff := cmp.Diff(tc.wantDetails, h.SetCurrentClientCertDetails, protocmp.Transform()); diff != "" {
				t.Errorf("set_current_client_cert_details (-want +got):\n%s", diff)
			}
		})
	}
	// Without client certificates, the chain asks for none.
	l := Translate(secGateway(nil), Files)[0].Listeners[1]
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := l.FilterChains[0].TransportSocket.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.RequireClientCertificate != nil || ctx.GetCommonTlsContext().GetValidationContextType() != nil {
		t.Errorf("a chain without client certificates validates them: %v", ctx)
	}
}

// TestCheckCatchesBrokenSecurity breaks one security reference at a time.
func TestCheckCatchesBrokenSecurity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    Mode
		breakIt func(t *testing.T, r *Resources)
		want    string
	}{
		{"ext_authz on a missing cluster", Files, func(t *testing.T, r *Resources) {
			r.Clusters = slices.DeleteFunc(r.Clusters, func(c *clusterv3.Cluster) bool { return c.Name == "authz" })
		}, `unknown cluster "authz"`},
		{"JWKS from a missing cluster", Files, func(t *testing.T, r *Resources) {
			r.Clusters = slices.DeleteFunc(r.Clusters, func(c *clusterv3.Cluster) bool { return c.Name == "jwks" })
		}, `https://idp.example.com/jwks names unknown cluster "jwks"`},
		{"rate-limit service on a missing cluster", Static, func(t *testing.T, r *Resources) {
			r.Clusters = slices.DeleteFunc(r.Clusters, func(c *clusterv3.Cluster) bool { return c.Name == "rls" })
		}, `gRPC service on unknown cluster "rls"`},
		{"gRPC service on an HTTP/1 cluster", Files, func(t *testing.T, r *Resources) {
			for _, c := range r.Clusters {
				if c.Name == "authz" {
					c.TypedExtensionProtocolOptions = nil
				}
			}
		}, `gRPC service on cluster "authz", which does not speak HTTP/2`},
		{"per-route config of a filter not in the chain", Files, func(t *testing.T, r *Resources) {
			r.Routes[0].VirtualHosts[0].Routes[0].TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.ext_authz/nope": disabled()}
		}, `configures HTTP filter "envoy.filters.http.ext_authz/nope", which the connection manager does not have`},
		{"inline per-route config of a filter not in the chain", Static, func(t *testing.T, r *Resources) {
			for _, l := range r.Listeners[:1] {
				f := l.FilterChains[0].Filters[0]
				m := &hcmv3.HttpConnectionManager{}
				_ = f.GetTypedConfig().UnmarshalTo(m)
				m.HttpFilters = slices.DeleteFunc(m.HttpFilters, func(f *hcmv3.HttpFilter) bool { return f.Name == filterCORS })
				f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: toAny(m)}
			}
		}, `configures HTTP filter "envoy.filters.http.cors"`},
		{"per-route config of the wrong type", Files, func(t *testing.T, r *Resources) {
			r.Routes[0].VirtualHosts[0].TypedPerFilterConfig[filterCORS] = enabled(&rbacv3.RBACPerRoute{})
		}, "with envoy.extensions.filters.http.rbac.v3.RBACPerRoute, not envoy.extensions.filters.http.cors.v3.CorsPolicy"},
		{"wrapped per-route config of the wrong type", Files, func(t *testing.T, r *Resources) {
			r.Routes[0].VirtualHosts[0].TypedPerFilterConfig[filterCORS] = toAny(&routev3.FilterConfig{Config: toAny(&jwtv3.PerRouteConfig{})})
		}, "with envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig, not envoy.extensions.filters.http.cors.v3.CorsPolicy"},
		{"JWT requirement not in the filter", Files, func(t *testing.T, r *Resources) {
			r.Routes[0].VirtualHosts[0].TypedPerFilterConfig[filterJWT] = enabled(jwtPerRoute(&ir.JWTRule{Providers: []string{"corp"}}))
		}, `asks for JWT requirement "corp", which the connection manager's jwt_authn does not have`},
		{"JWT requirement naming a missing provider", Files, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) {
				for _, f := range m.HttpFilters {
					if f.Name == filterJWT {
						ja := &jwtv3.JwtAuthentication{}
						_ = f.GetTypedConfig().UnmarshalTo(ja)
						delete(ja.Providers, "idp")
						ja.Providers["other"] = jwtProvider(&ir.JWTProvider{Issuer: "x", LocalJWKSFile: "/x"})
						f.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: toAny(ja)}
					}
				}
			})
		}, `JWT requirement "idp" names unknown provider "idp"`},
		{"router not last", Files, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) {
				m.HttpFilters = append(m.HttpFilters[len(m.HttpFilters)-1:], m.HttpFilters[:len(m.HttpFilters)-1]...)
			})
		}, "the router must be the last HTTP filter"},
		{"filter twice", Files, func(t *testing.T, r *Resources) {
			hcm(t, r.Listeners[0], func(m *hcmv3.HttpConnectionManager) {
				m.HttpFilters = append([]*hcmv3.HttpFilter{m.HttpFilters[0]}, m.HttpFilters...)
			})
		}, `HTTP filter "envoy.filters.http.cors" is in the chain twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := secGateway(&ir.Security{
				CORS:      &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://a.example"}}},
				JWT:       &ir.JWTRule{Providers: []string{"idp"}},
				ExtAuth:   &ir.ExtAuthRule{Service: "grpc-authz"},
				RateLimit: &ir.RateLimitRule{Service: "rls", Limits: []ir.RateLimit{{Requests: 1, Unit: "second"}}},
			})
			r := Translate(g, tc.mode)[0]
			if err := Check(r, tc.mode); err != nil {
				t.Fatalf("the unbroken resources fail: %v", err)
			}
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

// TestHoistKeepsEffectiveConfigs: entries most virtual hosts share move to
// the route configuration, and every route still meets, filter by filter,
// the configuration it met before (a FilterConfig that disables a filter
// and no entry at all are the same: each security filter is off by
// default).
func TestHoistKeepsEffectiveConfigs(t *testing.T) {
	t.Parallel()
	cors := &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://a.example"}}}
	other := &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://b.example"}}}
	jwt := &ir.JWTRule{Providers: []string{"idp"}}
	vh := func(name string, s *ir.Security, routes ...*ir.Route) *ir.VirtualHost {
		if len(routes) == 0 {
			routes = []*ir.Route{secRoute(name+"-root", "web", nil)}
		}
		return &ir.VirtualHost{Name: name, Team: "web", Domains: []string{name + ".example.com"}, Security: s, Routes: routes}
	}
	table := &ir.RouteTable{Name: "t", VirtualHosts: []*ir.VirtualHost{
		vh("a", &ir.Security{CORS: cors, JWT: jwt}),
		vh("b", &ir.Security{CORS: cors, JWT: jwt}, secRoute("b-open", "web", &ir.Security{JWT: &ir.JWTRule{Disabled: true}}), secRoute("b-in", "web", nil)),
		vh("c", &ir.Security{CORS: cors, JWT: jwt}),
		vh("d", &ir.Security{CORS: other, JWT: jwt}),
		vh("e", nil, secRoute("e-cors", "web", &ir.Security{CORS: cors})),
	}}
	hoisted := routeConfiguration(table)
	flat := &routev3.RouteConfiguration{Name: table.Name}
	for _, v := range table.VirtualHosts {
		flat.VirtualHosts = append(flat.VirtualHosts, virtualHost(v))
	}
	if _, ok := hoisted.TypedPerFilterConfig[filterCORS]; !ok {
		t.Errorf("the CORS policy of three virtual hosts out of five is not hoisted")
	}
	if _, ok := hoisted.TypedPerFilterConfig[filterJWT]; !ok {
		t.Errorf("the JWT requirement of four virtual hosts out of five is not hoisted")
	}
	effective := func(rc *routev3.RouteConfiguration, v, r int, name string) string {
		for _, m := range []map[string]*anypb.Any{rc.VirtualHosts[v].Routes[r].TypedPerFilterConfig, rc.VirtualHosts[v].TypedPerFilterConfig, rc.TypedPerFilterConfig} {
			if a, ok := m[name]; ok {
				if proto.Equal(a, disabledAny) {
					return "off"
				}
				return a.TypeUrl + string(a.Value)
			}
		}
		return "off"
	}
	for v := range table.VirtualHosts {
		for r := range table.VirtualHosts[v].Routes {
			for _, name := range []string{filterCORS, filterJWT} {
				if got, want := effective(hoisted, v, r, name), effective(flat, v, r, name); got != want {
					t.Errorf("virtual host %s route %d, %s: hoisting changed what applies", table.VirtualHosts[v].Name, r, name)
				}
			}
		}
	}
	// And Envoy gets what it accepts.
	g := secGateway(nil)
	g.Listeners[0].Routes = table
	checkAllModes(t, g)
}
