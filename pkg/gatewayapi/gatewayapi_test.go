package gatewayapi

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

func TestIntersect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listener string
		route    []string
		want     []string
	}{
		{"", nil, []string{"*"}},
		{"www.example.com", nil, []string{"www.example.com"}},
		{"", []string{"b.example.com", "a.example.com"}, []string{"a.example.com", "b.example.com"}},
		{"*.example.com", []string{"www.example.com", "example.com", "www.example.org"}, []string{"www.example.com"}},
		{"*.example.com", []string{"*.eu.example.com", "a.b.example.com"}, []string{"*.eu.example.com", "a.b.example.com"}},
		{"*.example.com", []string{"*.example.com"}, []string{"*.example.com"}},
		{"api.example.com", []string{"*.example.com"}, []string{"api.example.com"}},
		{"api.example.com", []string{"*.api.example.com", "*.org"}, nil},
		{"*.eu.example.com", []string{"*.example.com"}, []string{"*.eu.example.com"}},
	} {
		var route []gwv1.Hostname
		for _, h := range tc.route {
			route = append(route, gwv1.Hostname(h))
		}
		if got := intersect(tc.listener, route); !slices.Equal(got, tc.want) {
			t.Errorf("intersect(%q, %v) = %v, want %v", tc.listener, tc.route, got, tc.want)
		}
	}
}

// TestLessOrdersBySpec checks each precedence key in turn: every pair is
// in the order the spec gives, whichever way round it is compared.
func TestLessOrdersBySpec(t *testing.T) {
	t.Parallel()
	old := &routeObj{doc: &Doc{Namespace: "b", Name: "z", Order: 5}, created: metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))}
	young := &routeObj{doc: &Doc{Namespace: "a", Name: "a", Order: 1}, created: metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))}
	sameAgeA := &routeObj{doc: &Doc{Namespace: "a", Name: "b", Order: 9}, created: old.created}
	unstamped1 := &routeObj{doc: &Doc{Namespace: "z", Name: "z", Order: 2}}
	unstamped2 := &routeObj{doc: &Doc{Namespace: "a", Name: "a", Order: 3}}
	rule := &ruleObj{}
	e := func(ro *routeObj, m matchObj) *entry { return &entry{ro: ro, rule: rule, match: &m} }
	prefix := func(n int) matchObj { return matchObj{rank: rankPrefix, pathLen: n} }
	for _, tc := range []struct {
		name          string
		first, second *entry
	}{
		{"exact before prefix", e(young, matchObj{rank: rankExact, pathLen: 2}), e(old, prefix(20))},
		{"regex before prefix", e(young, matchObj{rank: rankRegex}), e(old, prefix(20))},
		{"longer prefix", e(young, prefix(6)), e(old, prefix(5))},
		{"method", e(young, matchObj{rank: rankPrefix, pathLen: 5, method: true}), e(old, matchObj{rank: rankPrefix, pathLen: 5, headers: 3, query: 3})},
		{"more headers", e(young, matchObj{rank: rankPrefix, pathLen: 5, headers: 2}), e(old, matchObj{rank: rankPrefix, pathLen: 5, headers: 1, query: 4})},
		{"more query parameters", e(young, matchObj{rank: rankPrefix, pathLen: 5, query: 2}), e(old, matchObj{rank: rankPrefix, pathLen: 5, query: 1})},
		{"older route", e(old, prefix(5)), e(young, prefix(5))},
		{"same age: namespace/name", e(sameAgeA, prefix(5)), e(old, prefix(5))},
		{"a timestamp before none", e(young, prefix(5)), e(unstamped1, prefix(5))},
		{"no timestamps: file order", e(unstamped1, prefix(5)), e(unstamped2, prefix(5))},
	} {
		if less(tc.first, tc.second) >= 0 || less(tc.second, tc.first) <= 0 {
			t.Errorf("%s: not ordered first", tc.name)
		}
	}
}

func TestParseSDS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    ir.SDSServer
		wantErr string
	}{
		{in: "unix:/run/sds.sock", want: ir.SDSServer{Pipe: "/run/sds.sock"}},
		{in: "sds.internal:8443", want: ir.SDSServer{Address: "sds.internal", Port: 8443}},
		{in: "[::1]:8443", want: ir.SDSServer{Address: "::1", Port: 8443}},
		{in: "sds.internal", wantErr: "neither"},
		{in: "sds:0", wantErr: "no valid port"},
		{in: "unix:", wantErr: "no valid port"},
	} {
		got, err := parseSDS(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSDS(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("parseSDS(%q): %v", tc.in, err)
		case *got != tc.want:
			t.Errorf("parseSDS(%q) = %+v, want %+v", tc.in, *got, tc.want)
		}
	}
}

// TestLoadKeepsOnlyItsKinds reads a directory with other Kubernetes kinds,
// a hidden directory and YAML of every scalar type.
func TestLoadKeepsOnlyItsKinds(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: envoy}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {tier: "1"}}
spec:
  ports: [{port: 0x50, name: http}]
  publishNotReadyAddresses: true
`)},
		".github/workflow.yaml": {Data: []byte("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: hidden}\n")},
		"b.yml": {Data: []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, creationTimestamp: 2025-01-02T03:04:05Z}
spec:
  rules:
  - timeouts: {request: 5s}
`)},
		"notes.txt": {Data: []byte("kind: Gateway")},
	}
	set, diags, err := Load(fsys, Options{})
	if err != nil || len(diags) > 0 {
		t.Fatalf("Load: %v %v", err, diags)
	}
	if len(set.Services) != 1 || len(set.HTTPRoutes) != 1 || len(set.Gateways) != 0 {
		t.Fatalf("got %d services, %d routes, %d gateways", len(set.Services), len(set.HTTPRoutes), len(set.Gateways))
	}
	svc := set.Services[0].Obj
	if svc.Spec.Ports[0].Port != 80 || !svc.Spec.PublishNotReadyAddresses || svc.Labels["tier"] != "1" || svc.Namespace != "shop" {
		t.Errorf("service decoded as %+v", svc)
	}
	r := set.HTTPRoutes[0]
	if r.Doc.Namespace != "default" || r.Obj.CreationTimestamp.Year() != 2025 || *r.Obj.Spec.Rules[0].Timeouts.Request != "5s" {
		t.Errorf("route decoded as %+v in namespace %q", r.Obj, r.Doc.Namespace)
	}
	if r.Doc.Order != 1 || set.Services[0].Doc.Order != 0 {
		t.Errorf("document order: service %d, route %d", set.Services[0].Doc.Order, r.Doc.Order)
	}
	if got := r.Doc.Pos("spec", "rules", 0, "timeouts", "request"); got.File != "b.yml" || got.Line != 6 || got.Col != 25 {
		t.Errorf("position %v, want b.yml:6:25", got)
	}
}

// TestLoadSkipsForeignBrokenYAML: a file that is not YAML (a Helm
// template) and names no Gateway API kind is a warning, one that does is
// an error, and a private key is an error anywhere.
func TestLoadSkipsForeignBrokenYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		wantErr    bool
		wantRule   string
	}{
		{"helm template", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {{- include \"x\" . | nindent 4 }}\n", false, "yaml"},
		{"broken route", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: [}\n", true, "yaml"},
		{"key in a template", "kind: Secret\ndata: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIB\n  -----END RSA PRIVATE KEY-----\n", true, "private-key"},
	} {
		_, diags, err := Load(fstest.MapFS{"f.yaml": {Data: []byte(tc.data)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(diags) == 0 || diags[0].Rule != tc.wantRule || diags.HasErrors() != tc.wantErr {
			t.Errorf("%s: got %v, want rule %s and errors %v", tc.name, diags, tc.wantRule, tc.wantErr)
		}
	}
}

// TestRouteTeam: a route's team is its namespace's team in edgectl.yaml,
// or the namespace itself when no team lists namespaces.
func TestRouteTeam(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"a.yaml": {Data: []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop-eu}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop-eu}
spec: {ports: [{port: 80}]}
`)}}
	mapped := &intent.Project{Spec: intent.ProjectSpec{Teams: []intent.Team{
		{Name: "platform", Platform: true, Namespaces: []string{"infra"}},
		{Name: "shop", Namespaces: []string{"shop-*"}, Hostnames: []string{"shop.example.com"}, Backends: []string{"shop-eu/web"}},
	}}}
	unmapped := &intent.Project{Spec: intent.ProjectSpec{Teams: []intent.Team{{Name: "shop", Paths: []string{"**"}}}}}
	for _, tc := range []struct {
		name string
		proj *intent.Project
		want string
	}{
		{"no project", nil, "shop-eu"},
		{"teams without namespaces", unmapped, "shop-eu"},
		{"namespaces mapped", mapped, "shop"},
	} {
		set, diags, err := Load(fsys, Options{})
		if err != nil || len(diags) > 0 {
			t.Fatalf("Load: %v %v", err, diags)
		}
		res, diags := Lower(set, tc.proj)
		if diags.HasErrors() || len(res.Gateways) != 1 {
			t.Fatalf("%s: Lower: %v", tc.name, diags)
		}
		r := res.Gateways[0].Listeners[0].Routes.VirtualHosts[0].Routes[0]
		if r.Team != tc.want {
			t.Errorf("%s: team %q, want %q", tc.name, r.Team, tc.want)
		}
	}
}

// TestCORSOrigin: the origins of the spec as matches on the Origin header;
// a wildcard host stands for one or more labels to its left.
func TestCORSOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		ok      bool
		match   []string
		noMatch []string
	}{
		{"*", true, []string{"*"}, nil},
		{"https://app.example.com", true, []string{"https://app.example.com"}, []string{"http://app.example.com", "https://app.example.com:8443"}},
		{"https://*.example.com", true, []string{"https://a.example.com", "https://a.b.example.com"}, []string{"https://example.com", "http://a.example.com", "https://a.example.com:8443", "https://evil.com/.example.com"}},
		{"http://*.example.com:8080", true, []string{"http://a.example.com:8080"}, []string{"http://a.example.com"}},
		{"https://*", true, []string{"https://a.example.com", "https://x:8443"}, []string{"http://a.example.com"}},
		{"ftp://files.example.com", false, nil, nil},
		{"https://a.*.example.com", false, nil, nil},
		{"https://app.example.com/path", false, nil, nil},
	} {
		m, ok := corsOrigin(tc.in)
		if ok != tc.ok {
			t.Errorf("corsOrigin(%q) ok = %v", tc.in, ok)
			continue
		}
		matches := func(s string) bool {
			if m.Kind == ir.MatchRegex {
				return regexp.MustCompile(m.Value).MatchString(s)
			}
			return m.Value == s
		}
		for _, s := range tc.match {
			if !matches(s) {
				t.Errorf("corsOrigin(%q) = %+v does not match %q", tc.in, m, s)
			}
		}
		for _, s := range tc.noMatch {
			if matches(s) {
				t.Errorf("corsOrigin(%q) = %+v matches %q", tc.in, m, s)
			}
		}
	}
}
