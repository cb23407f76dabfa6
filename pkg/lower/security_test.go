package lower

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// lowerRepo loads a repository held in memory and lowers it.
func lowerRepo(t *testing.T, files map[string]string) ([]*ir.Gateway, diag.List) {
	t.Helper()
	fsys := fstest.MapFS{"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: t}\n")}}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	m, diags, err := intent.Load(fsys, intent.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return Lower(m)
}

// secBase is a gateway with an HTTPS listener, the backends and
// certificates the cases use, and the shared security definitions.
const secBase = `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS}
  httpsRedirect: false
  defaults:
    security:
      ipFilter: {deny: [192.0.2.0/24]}
      localRateLimit: {requests: 1000, per: 1s}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: api}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: idp}
spec:
  endpoints: [{address: idp.example.com, port: 443}]
  tls: {sni: idp.example.com}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: authz}
spec: {endpoints: [{address: 10.0.0.2, port: 9000}], protocol: GRPC}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: limits}
spec: {endpoints: [{address: 10.0.0.3, port: 8081}], protocol: GRPC}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: wild}
spec: {files: {certificateChain: /c.pem, privateKey: /k.pem}}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: partners-ca}
spec: {ca: {file: /partners.pem}}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthProvider
metadata: {name: corp}
spec:
  issuer: https://idp.example.com
  audiences: [web, api]
  jwks: {remote: {backend: idp, uri: "https://idp.example.com/.well-known/jwks.json", cacheDuration: 5m}}
  headers: [{name: X-Token, prefix: "Bearer "}]
  claimsToHeaders: [{claim: sub, header: X-User}]
  clockSkew: 30s
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthProvider
metadata: {name: partners}
spec:
  issuer: partners
  jwks: {file: /etc/envoy/partners.jwks}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthService
metadata: {name: opa}
spec:
  grpc: {backend: authz}
  timeout: 1s
  headers: {toBackend: [X-User-Id], toClient: [WWW-Authenticate]}
  body: {maxBytes: 8192}
---
apiVersion: edgectl.dev/v1alpha1
kind: RateLimitService
metadata: {name: global}
spec: {backend: limits, domain: edge}
`

const secAPI = `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: api}
spec:
  gateway: edge
  hostnames: [api.example.com]
  tls: {certificate: wild}
  security:
    jwt: {providers: [partners, corp]}
    localRateLimit: {requests: 100, per: 1m, by: {clientIP: true}, headers: true}
  routes:
  - name: health
    match: {path: {exact: /healthz}}
    backend: api
    security:
      jwt: {disabled: true}
  - name: orders
    match: {path: {prefix: /orders}}
    backend: api
    security:
      extAuth: {service: opa, context: {b: "2", a: "1"}}
  includes:
  - routeSet: admin
    match: {path: {prefix: /admin}}
    security:
      ipFilter: {allow: [10.0.0.0/8, 2001:db8::/32, 172.16.0.1]}
      jwt: {providers: [corp], optional: true}
---
apiVersion: edgectl.dev/v1alpha1
kind: RouteSet
metadata: {name: admin}
spec:
  routes:
  - name: users
    match: {path: {prefix: /admin/users}}
    backend: api
    security:
      jwt: {providers: [corp]}
      rateLimit:
        service: global
        limits:
        - {requests: 10, unit: minute, by: [{clientIP: true}, {header: X-Tenant}]}
        - {requests: 1000, unit: hour, by: [{genericKey: admin}, {team: true}]}
  - name: rest
    backend: api
`

func findRoute(vh *ir.VirtualHost, name string) *ir.Route {
	for _, r := range vh.Routes {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func chainVHost(g *ir.Gateway, listener, vhost string) (*ir.FilterChain, *ir.VirtualHost) {
	for _, li := range g.Listeners {
		if li.Name != listener {
			continue
		}
		if li.Routes != nil {
			for _, vh := range li.Routes.VirtualHosts {
				if vh.Name == vhost {
					return nil, vh
				}
			}
		}
		for _, c := range li.Chains {
			for _, vh := range c.Routes.VirtualHosts {
				if vh.Name == vhost {
					return c, vh
				}
			}
		}
	}
	return nil, nil
}

// TestSecurityInheritance follows one repository's rules through the four
// levels: gateway defaults fold into the virtual host, a route's own rule
// wins over its include's, an include's over the virtual host's, and
// disabled is kept as a rule of its own.
func TestSecurityInheritance(t *testing.T) {
	t.Parallel()
	// One team, so limits may count by team.
	project := "apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: t}\nspec:\n  teams: [{name: web, platform: true, paths: [\"**\"]}]\n"
	gws, diags := lowerRepo(t, map[string]string{"edgectl.yaml": project, "base.yaml": secBase, "api.yaml": secAPI})
	if diags.HasErrors() {
		t.Fatalf("unexpected findings: %v", diags)
	}
	g := gws[0]
	chain, vh := chainVHost(g, "https", "api")
	if vh == nil || chain == nil {
		t.Fatal("virtual host api is not on listener https")
	}
	sec := vh.Security
	if sec == nil {
		t.Fatal("virtual host api has no security")
	}
	if got := sec.JWT.Providers; !slices.Equal(got, []string{"corp", "partners"}) {
		t.Errorf("vhost JWT providers = %v, want sorted [corp partners]", got)
	}
	if o := sec.JWT.From; o.Level != ir.LevelVirtualHost || o.Name != "api" || o.Pos.File != "api.yaml" || o.Pos.Line != 9 {
		t.Errorf("vhost JWT origin = %+v, want virtualHost api at api.yaml:9", o)
	}
	if sec.IP == nil || sec.IP.From.Level != ir.LevelGateway || !slices.Equal(sec.IP.Deny, []string{"192.0.2.0/24"}) {
		t.Errorf("vhost IP rule = %+v, want the gateway default deny 192.0.2.0/24", sec.IP)
	}
	if r := sec.LocalRateLimit; r == nil || r.Requests != 100 || r.Per != time.Minute || r.By == nil || r.By.Kind != ir.KeyClient || !r.Headers || r.Status != 429 || r.From.Level != ir.LevelVirtualHost {
		t.Errorf("vhost local rate limit = %+v, want the virtual host's own 100/1m per client, status 429", r)
	}

	health := findRoute(vh, "health")
	if health.Security == nil || health.Security.JWT == nil || !health.Security.JWT.Disabled || health.Security.JWT.From.Level != ir.LevelRoute {
		t.Errorf("route health JWT = %+v, want disabled by the route", health.Security)
	}
	if eff := vh.Effective(health); eff.IP == nil || eff.IP.From.Level != ir.LevelGateway {
		t.Errorf("route health effective IP = %+v, want the gateway's", eff.IP)
	}

	orders := findRoute(vh, "orders")
	if e := orders.Security.ExtAuth; e == nil || e.Service != "opa" || len(e.Context) != 2 || e.Context[0].Name != "a" {
		t.Errorf("route orders extAuth = %+v, want opa with context sorted by name", e)
	}
	if orders.Security.JWT != nil {
		t.Errorf("route orders sets no JWT rule of its own, got %+v", orders.Security.JWT)
	}

	users := findRoute(vh, "users")
	if j := users.Security.JWT; j == nil || j.Optional || j.From.Level != ir.LevelRoute || !slices.Equal(j.Providers, []string{"corp"}) {
		t.Errorf("route users JWT = %+v, want the route's own required corp", j)
	}
	if ip := users.Security.IP; ip == nil || ip.From.Level != ir.LevelInclude || ip.From.Name != "admin" ||
		!slices.Equal(ip.Allow, []string{"10.0.0.0/8", "172.16.0.1/32", "2001:db8::/32"}) {
		t.Errorf("route users IP = %+v, want the include's allow list in canonical form", ip)
	}
	if rl := users.Security.RateLimit; rl == nil || rl.Service != "global" || len(rl.Limits) != 2 ||
		rl.Limits[0].By[1].Kind != ir.KeyHeader || rl.Limits[0].By[1].Header != "x-tenant" || rl.Limits[1].By[1].Kind != ir.KeyTeam {
		t.Errorf("route users rate limit = %+v", rl)
	}
	rest := findRoute(vh, "rest")
	if j := rest.Security.JWT; j == nil || !j.Optional || j.From.Level != ir.LevelInclude {
		t.Errorf("route rest JWT = %+v, want the include's optional corp", j)
	}

	// Only what is used lands in the gateway, with its cluster.
	var names []string
	for _, p := range g.JWTProviders {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"corp", "partners"}) {
		t.Errorf("gateway JWT providers = %v", names)
	}
	if len(g.AuthServices) != 1 || g.AuthServices[0].Timeout != time.Second || !g.AuthServices[0].GRPC ||
		!slices.Equal(g.AuthServices[0].UpstreamHeaders, []string{"x-user-id"}) {
		t.Errorf("gateway auth services = %+v", g.AuthServices)
	}
	if len(g.RateLimitServices) != 1 || g.RateLimitServices[0].Domain != "edge" {
		t.Errorf("gateway rate-limit services = %+v", g.RateLimitServices)
	}
	var clusters []string
	for _, c := range g.Clusters {
		clusters = append(clusters, c.Name)
	}
	if !slices.Equal(clusters, []string{"api", "authz", "idp", "limits"}) {
		t.Errorf("gateway clusters = %v, want the backends of the providers and services too", clusters)
	}
	corp := g.JWTProviders[0]
	if corp.RemoteJWKS == nil || corp.RemoteJWKS.Cluster != "idp" || *corp.RemoteJWKS.CacheDuration != 5*time.Minute ||
		!slices.Equal(corp.Audiences, []string{"api", "web"}) || corp.FromHeaders[0].Name != "x-token" || corp.ClaimHeaders[0].Header != "x-user" {
		t.Errorf("provider corp = %+v", corp)
	}
	if g.JWTProviders[1].LocalJWKSFile != "/etc/envoy/partners.jwks" {
		t.Errorf("provider partners = %+v", g.JWTProviders[1])
	}
}

// TestSecurityUnused: a provider no rule of a gateway names stays out of
// it, with its backend's cluster.
func TestSecurityUnused(t *testing.T) {
	t.Parallel()
	vh := `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com]
  routes: [{backend: api}]
`
	gws, diags := lowerRepo(t, map[string]string{"base.yaml": secBase, "www.yaml": vh})
	if diags.HasErrors() {
		t.Fatalf("unexpected findings: %v", diags)
	}
	g := gws[0]
	if len(g.JWTProviders)+len(g.AuthServices)+len(g.RateLimitServices) != 0 {
		t.Errorf("gateway holds unused definitions: %+v %+v %+v", g.JWTProviders, g.AuthServices, g.RateLimitServices)
	}
	if len(g.Clusters) != 1 {
		t.Errorf("clusters = %d, want only api", len(g.Clusters))
	}
	_, v := chainVHost(g, "http", "www")
	if v.Security == nil || v.Security.IP == nil || v.Security.LocalRateLimit == nil || v.Security.JWT != nil {
		t.Errorf("www security = %+v, want exactly the gateway defaults", v.Security)
	}
}

// TestClientCertificateChains: virtual hosts that share a certificate
// share a filter chain only when they ask clients for certificates alike.
func TestClientCertificateChains(t *testing.T) {
	t.Parallel()
	vh := func(name, host, cc string) string {
		return `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: ` + name + `}
spec:
  gateway: edge
  hostnames: [` + host + `]
  listeners: [https]
  tls:
    certificate: wild` + cc + `
  routes: [{backend: api}]
`
	}
	mtls := `
    clientCertificates:
      ca: partners-ca
      subjectAltNames: [{type: URI, prefix: "spiffe://partners/"}, {type: DNS, regex: "[a-z]+\\.partners\\.example"}]
      crlFile: /etc/envoy/partners.crl
      forward: {mode: sanitize-set, fields: [uri, subject]}`
	gws, diags := lowerRepo(t, map[string]string{"base.yaml": secBase,
		"www.yaml": vh("www", "www.example.com", ""),
		"pay.yaml": vh("pay", "pay.example.com", mtls),
		"api.yaml": vh("api", "api.example.com", mtls),
		"b2b.yaml": vh("b2b", "b2b.example.com", "\n    clientCertificates: {ca: partners-ca, optional: true}"),
	})
	if diags.HasErrors() {
		t.Fatalf("unexpected findings: %v", diags)
	}
	g := gws[0]
	var got []string
	for _, li := range g.Listeners {
		for _, c := range li.Chains {
			desc := li.Name + " " + c.Name + " " + strings.Join(c.ServerNames, ",") + " " + c.Routes.Name
			if cc := c.ClientCertificates; cc != nil {
				desc += " ca=" + cc.CA.Name
				if cc.Optional {
					desc += " optional"
				}
			}
			got = append(got, desc)
		}
	}
	want := []string{
		"https wild www.example.com https.wild",
		"https wild.api api.example.com,pay.example.com https.wild.api ca=partners-ca",
		"https wild.b2b b2b.example.com https.wild.b2b ca=partners-ca optional",
	}
	if !slices.Equal(got, want) {
		t.Errorf("chains:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c, _ := chainVHost(g, "https", "pay")
	cc := c.ClientCertificates
	if cc.CRLFile != "/etc/envoy/partners.crl" || len(cc.SubjectAltNames) != 2 || cc.SubjectAltNames[0].Type != "URI" ||
		cc.SubjectAltNames[0].Kind != ir.MatchPrefix || cc.Forward == nil || !slices.Equal(cc.Forward.Fields, []string{"subject", "uri"}) {
		t.Errorf("client certificates = %+v", cc)
	}
	var secrets []string
	for _, s := range g.Secrets {
		secrets = append(secrets, s.Name)
	}
	if !slices.Equal(secrets, []string{"partners-ca", "wild"}) {
		t.Errorf("secrets = %v, want the client CA too", secrets)
	}
}

// TestCIDRs: ranges come out canonical and sorted; a bare address is a
// range of one; a range with host bits set is refused with both readings.
func TestCIDRs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		errs []string
	}{
		{"canonical", []string{"10.0.0.0/8", "192.168.0.0/16"}, []string{"10.0.0.0/8", "192.168.0.0/16"}, nil},
		{"sorted and deduplicated", []string{"192.168.0.0/16", "10.0.0.0/8", "10.0.0.0/8"}, []string{"10.0.0.0/8", "192.168.0.0/16"}, nil},
		{"bare addresses", []string{"203.0.113.7", "2001:db8::1"}, []string{"2001:db8::1/128", "203.0.113.7/32"}, nil},
		{"ipv6 range", []string{"2001:DB8::/32"}, []string{"2001:db8::/32"}, nil},
		{"host bits", []string{"10.1.2.3/16"}, nil, []string{"write 10.1.0.0/16 for the range, or 10.1.2.3/32 for the one address"}},
		{"prefix too long", []string{"10.0.0.0/33"}, nil, []string{`"10.0.0.0/33" is not an address range`}},
		{"zone", []string{"fe80::1%eth0"}, nil, []string{`"fe80::1%eth0" is not an address range`}},
		{"name", []string{"office"}, nil, []string{`"office" is not an address range`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := &lowerer{m: &intent.Model{}}
			got := l.cidrs(&intent.Doc{File: "x.yaml"}, []any{"allow"}, tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("cidrs(%v) = %v, want %v", tc.in, got, tc.want)
			}
			if len(l.diags) != len(tc.errs) {
				t.Fatalf("findings = %v, want %d", l.diags, len(tc.errs))
			}
			for i, e := range tc.errs {
				if d := l.diags[i]; d.Rule != "invalid-cidr" || !strings.Contains(d.Message, e) {
					t.Errorf("finding %d = %s [%s], want one containing %q", i, d.Message, d.Rule, e)
				}
			}
		})
	}
}

// TestInheritanceWorkedExample is the worked example of docs/security.md:
// for each route and feature, the level whose setting applies.
func TestInheritanceWorkedExample(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"edge.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP}]
  defaults:
    security:
      ipFilter: {deny: [192.0.2.0/24]}
      localRateLimit: {requests: 1000, per: 1s}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: api}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthProvider
metadata: {name: acme-id}
spec: {issuer: https://id.acme.io, jwks: {file: /etc/envoy/acme-id.jwks}}
`,
		"api.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: api}
spec:
  gateway: edge
  hostnames: [api.acme.io]
  security:
    jwt: {providers: [acme-id]}
    localRateLimit: {requests: 100, per: 1s, by: {clientIP: true}}
  routes:
  - name: health
    match: {path: {exact: /healthz}}
    backend: api
    security:
      jwt: {disabled: true}
  - name: orders
    match: {path: {prefix: /v1/orders}}
    backend: api
  includes:
  - routeSet: admin
    match: {path: {prefix: /admin}}
    security:
      ipFilter: {allow: [10.0.0.0/8]}
---
apiVersion: edgectl.dev/v1alpha1
kind: RouteSet
metadata: {name: admin}
spec:
  routes:
  - name: users
    match: {path: {prefix: /admin/users}}
    backend: api
    security:
      basicAuth: {usersFile: /etc/envoy/htpasswd/admin}
`,
	}
	gws, diags := lowerRepo(t, files)
	if diags.HasErrors() {
		t.Fatalf("unexpected findings: %v", diags)
	}
	_, vh := chainVHost(gws[0], "http", "api")
	level := func(disabled bool, o ir.Origin) string {
		if disabled {
			return "off(" + string(o.Level) + ")"
		}
		return string(o.Level)
	}
	for _, tc := range []struct {
		route                 string
		ip, jwt, local, basic string
	}{
		{"health", "gateway", "off(route)", "virtualHost", "-"},
		{"orders", "gateway", "virtualHost", "virtualHost", "-"},
		{"users", "include", "virtualHost", "virtualHost", "route"},
	} {
		t.Run(tc.route, func(t *testing.T) {
			t.Parallel()
			r := findRoute(vh, tc.route)
			if r == nil {
				t.Fatalf("no route %q", tc.route)
			}
			eff := vh.Effective(r)
			got := []string{"-", "-", "-", "-"}
			if eff.IP != nil {
				got[0] = level(eff.IP.Disabled, eff.IP.From)
			}
			if eff.JWT != nil {
				got[1] = level(eff.JWT.Disabled, eff.JWT.From)
			}
			if eff.LocalRateLimit != nil {
				got[2] = level(eff.LocalRateLimit.Disabled, eff.LocalRateLimit.From)
			}
			if eff.BasicAuth != nil {
				got[3] = level(eff.BasicAuth.Disabled, eff.BasicAuth.From)
			}
			if want := []string{tc.ip, tc.jwt, tc.local, tc.basic}; !slices.Equal(got, want) {
				t.Errorf("ipFilter, jwt, localRateLimit, basicAuth from %v, want %v", got, want)
			}
			if tc.route == "users" && (len(eff.IP.Deny) != 0 || !slices.Equal(eff.IP.Allow, []string{"10.0.0.0/8"})) {
				t.Errorf("users IP rule = %+v, want the include's allow list alone", eff.IP)
			}
			if eff.LocalRateLimit.Requests != 100 {
				t.Errorf("local limit = %d requests, want the virtual host's 100", eff.LocalRateLimit.Requests)
			}
		})
	}
}

// TestSecurityFindings covers findings the golden cases of pkg/compile do
// not: each repository gets exactly the findings listed.
func TestSecurityFindings(t *testing.T) {
	t.Parallel()
	vh := func(spec string) string {
		return `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com]
` + spec + `  routes: [{backend: api}]
`
	}
	for _, tc := range []struct {
		name, spec string
		want       []string // "line:col rule"
	}{
		{"client certificates over plain HTTP", `  httpsRedirect: false
  tls:
    certificate: wild
    clientCertificates: {ca: partners-ca}
`, []string{"10:5 tls"}},
		{"client certificates behind a redirect", `  httpsRedirect: true
  tls:
    certificate: wild
    clientCertificates: {ca: partners-ca}
`, nil},
		{"client certificates on HTTPS only", `  listeners: [https]
  httpsRedirect: false
  tls:
    certificate: wild
    clientCertificates: {ca: partners-ca}
`, nil},
		{"disabled everywhere is fine", `  security:
    jwt: {disabled: true}
    extAuth: {disabled: true}
    basicAuth: {disabled: true}
    ipFilter: {disabled: true}
    cors: {disabled: true}
    localRateLimit: {disabled: true}
    rateLimit: {disabled: true}
`, nil},
		{"extAuth context without a service", `  security:
    extAuth: {context: {a: b}}
`, []string{"8:5 invalid-value"}},
		{"rate limit without limits", `  security:
    rateLimit: {service: global}
`, []string{"8:5 invalid-value"}},
		{"local limit below 50ms", `  security:
    localRateLimit: {requests: 1, per: 10ms}
`, []string{"8:40 invalid-value"}},
		{"local limit by two keys", `  security:
    localRateLimit: {requests: 1, per: 1s, by: {clientIP: true, header: x-key}}
`, []string{"8:65 oneof"}},
		{"optional token without providers", `  security:
    jwt: {optional: true}
`, []string{"8:5 invalid-value"}},
		{"unknown provider among known", `  security:
    jwt: {providers: [corp, corpp]}
`, []string{"8:29 unknown-reference"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := lowerRepo(t, map[string]string{"base.yaml": secBase, "www.yaml": vh(tc.spec)})
			var got []string
			for _, d := range diags {
				if d.Pos.File == "www.yaml" && d.Severity == diag.Error {
					got = append(got, fmt.Sprintf("%d:%d %s", d.Pos.Line, d.Pos.Col, d.Rule))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v\n%v", got, tc.want, diags)
			}
		})
	}
}
