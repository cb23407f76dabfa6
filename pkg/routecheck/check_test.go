package routecheck

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadShop(t *testing.T) *Routes {
	t.Helper()
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rt, problems := LoadRoutes("shop.yaml", data)
	if len(problems) > 0 {
		t.Fatalf("LoadRoutes: %v", problems)
	}
	return rt
}

// suite makes a test file of one test: the fields of input and validate
// given as YAML flow mappings.
func suite(t *testing.T, input, validate string) *Suite {
	t.Helper()
	src := "tests:\n- test_name: t\n  input: " + input + "\n  validate: " + validate + "\n"
	s, problems := ParseTests("t.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatalf("ParseTests:\n%s\n%v", src, problems)
	}
	return s
}

// TestRun holds every input and validate field to what Envoy's tool does
// with it, on testdata/shop.yaml: the request each input builds, the value
// each check compares, and the failure each mismatch reports.
func TestRun(t *testing.T) {
	t.Parallel()
	rt := loadShop(t)
	const shop = "authority: shop.example.com, method: GET, "
	cases := []struct {
		name, input, validate string
		failures              []string
	}{
		// cluster_name, and random_value across weighted clusters.
		{"cluster", "{" + shop + "path: /}", "{cluster_name: web}", nil},
		{"cluster wrong", "{" + shop + "path: /}", "{cluster_name: api}",
			[]string{"expected: [api], actual: [web], test type: cluster_name"}},
		{"weighted first", "{" + shop + "path: /cart, random_value: 89}", "{cluster_name: cart-v1}", nil},
		{"weighted second", "{" + shop + "path: /cart, random_value: 90}", "{cluster_name: cart-v2}", nil},
		{"weighted wraps", "{" + shop + "path: /cart, random_value: 1090}", "{cluster_name: cart-v2}", nil},

		// An empty expectation asserts there is no value: here no route.
		{"no route", "{authority: nowhere.example.com, path: /, method: GET}",
			"{cluster_name: '', virtual_host_name: '', path_rewrite: '', path_redirect: '', code_redirect: 0}", nil},
		{"no route expected one", "{authority: nowhere.example.com, path: /, method: GET}", "{cluster_name: web}",
			[]string{"expected: [web], actual: [], test type: cluster_name"}},
		{"route expected none", "{" + shop + "path: /}", "{cluster_name: ''}",
			[]string{"expected: [], actual: [web], test type: cluster_name"}},

		// runtime: only the test's runtime key is on, and a numerator of
		// 0 is raised to 1, so random_value 0 draws the route, 1 does not.
		{"runtime on", "{" + shop + "path: /search, runtime: shop.search_beta}", "{cluster_name: search-beta}", nil},
		{"runtime not drawn", "{" + shop + "path: /search, runtime: shop.search_beta, random_value: 1}", "{cluster_name: search}", nil},
		{"runtime drawn again", "{" + shop + "path: /search, runtime: shop.search_beta, random_value: 100}", "{cluster_name: search-beta}", nil},
		{"runtime other key", "{" + shop + "path: /search, runtime: shop.other}", "{cluster_name: search}", nil},
		{"runtime unset", "{" + shop + "path: /search}", "{cluster_name: search}", nil},

		// internal sets x-envoy-internal: true.
		{"internal", "{" + shop + "path: /admin, internal: true}", "{cluster_name: admin}", nil},
		{"external", "{" + shop + "path: /admin}", "{cluster_name: '', code_redirect: 403}", nil},

		// ssl sets x-forwarded-proto; the rewrites are checked after the
		// route's changes.
		{"ssl", "{" + shop + "path: /checkout/pay, ssl: true}",
			"{cluster_name: checkout, host_rewrite: checkout.internal, path_rewrite: /v1/checkout/pay}", nil},
		{"rewrites wrong", "{" + shop + "path: /checkout/pay, ssl: true}",
			"{host_rewrite: shop.example.com, path_rewrite: /checkout/pay}",
			[]string{
				"expected: [/checkout/pay], actual: [/v1/checkout/pay], test type: path_rewrite",
				"expected: [shop.example.com], actual: [checkout.internal], test type: host_rewrite",
			}},
		{"no rewrite", "{" + shop + "path: '/x?q=1'}", "{host_rewrite: shop.example.com, path_rewrite: '/x?q=1'}", nil},

		// path_redirect compares the whole URL of the redirect.
		{"https redirect", "{" + shop + "path: /checkout/pay}",
			"{path_redirect: https://shop.example.com/checkout/pay, code_redirect: 301}", nil},
		{"prefix redirect", "{" + shop + "path: '/old/a?b=1'}",
			"{path_redirect: 'http://shop.example.com/new/a?b=1', code_redirect: 302}", nil},
		{"redirect wrong", "{" + shop + "path: /old/a}", "{path_redirect: /new/a, code_redirect: 301}",
			[]string{
				"expected: [/new/a], actual: [http://shop.example.com/new/a], test type: path_redirect",
				"expected: [301], actual: [302], test type: code_redirect",
			}},
		{"require_tls", "{authority: secure.example.com, path: /a, method: GET}",
			"{path_redirect: https://secure.example.com/a, code_redirect: 301, cluster_name: ''}", nil},
		{"require_tls met", "{authority: secure.example.com, path: /a, method: GET, ssl: true}",
			"{cluster_name: secure, code_redirect: 0, path_redirect: ''}", nil},
		// A direct response has no redirect: Envoy's tool compares the
		// request's own URL, and the response code.
		{"direct response", "{" + shop + "path: /admin}",
			"{path_redirect: http://shop.example.com/admin, code_redirect: 403}", nil},

		// Fields about forwarding are empty for a route that answers
		// itself, as in Envoy's tool.
		{"redirect has no cluster", "{" + shop + "path: /old/a}",
			"{cluster_name: '', virtual_host_name: shop}",
			[]string{"expected: [shop], actual: [], test type: virtual_host_name"}},
		{"forward has no redirect", "{" + shop + "path: /}", "{path_redirect: '', code_redirect: 0}", nil},

		// virtual_host_name and virtual_cluster_name; a virtual host with
		// virtual clusters counts other requests in "other".
		{"virtual host", "{authority: secure.example.com, path: /, method: GET, ssl: true}", "{virtual_host_name: secure}", nil},
		{"virtual cluster", "{" + shop + "path: /checkout/pay, ssl: true}", "{virtual_cluster_name: checkout}", nil},
		{"virtual cluster other", "{" + shop + "path: /}", "{virtual_cluster_name: other}", nil},
		{"no virtual clusters", "{authority: secure.example.com, path: /, method: GET, ssl: true}", "{virtual_cluster_name: ''}", nil},
		{"virtual cluster wrong", "{" + shop + "path: /}", "{virtual_cluster_name: checkout}",
			[]string{"expected: [checkout], actual: [other], test type: virtual_cluster_name"}},

		// additional_request_headers take part in routing, and are
		// checked with the route's changes.
		{"request header routes", "{" + shop + "path: /api, additional_request_headers: [{key: x-api-version, value: '2'}]}",
			"{cluster_name: api-v2}", nil},
		{"request header absent", "{" + shop + "path: /api}", "{cluster_name: web}", nil},
		{"request headers", "{" + shop + "path: /checkout/pay, ssl: true, additional_request_headers: [{key: X-Trace, value: abc}]}",
			`{request_header_matches: [
				{name: x-route, string_match: {exact: checkout}},
				{name: x-vhost, string_match: {exact: shop}},
				{name: x-trace, string_match: {exact: abc}},
				{name: x-forwarded-proto, string_match: {exact: https}},
				{name: x-envoy-original-path, string_match: {exact: /checkout/pay}},
				{name: ":path", string_match: {prefix: /v1/}},
				{name: ":authority", string_match: {exact: checkout.internal}},
				{name: ":method", exact_match: POST, invert_match: true},
				{name: x-missing, present_match: false}]}`, nil},
		{"request header failures", "{" + shop + "path: /checkout/pay, ssl: true}",
			`{request_header_matches: [
				{name: x-route, string_match: {exact: cart}},
				{name: x-route, string_match: {exact: checkout}, invert_match: true},
				{name: x-route, present_match: false},
				{name: x-missing},
				{name: x-route, string_match: {prefix: shop}},
				{name: x-missing, range_match: {start: 1, end: 5}}]}`,
			[]string{
				"expected: [x-route: cart], actual: [x-route: checkout], test type: request_header_matches.string_match.exact",
				"expected: [x-route: checkout], actual: NOT [x-route: checkout], test type: request_header_matches.string_match.exact",
				"expected: [has(x-route):false], actual: [has(x-route):true], test type: request_header_matches.present_match",
				"expected: [has(x-missing):true], actual: [has(x-missing):false], test type: request_header_matches.present_match",
				`expected: [{"name":"x-route","string_match":{"prefix":"shop"}}], actual: [x-route: checkout], test type: request_header_matches.string_match.prefix`,
				`expected: [{"name":"x-missing","range_match":{"start":"1","end":"5"}}], actual: [x-missing: NULL], test type: request_header_matches.range_match`,
			}},
		// A request the router answers itself keeps its headers.
		{"redirect keeps request", "{" + shop + "path: /old/a}",
			"{request_header_matches: [{name: ':path', string_match: {exact: /old/a}}, {name: x-vhost, present_match: false}]}", nil},

		// additional_response_headers are the upstream's answer, changed
		// by the weighted cluster, route, virtual host and configuration.
		{"response headers", "{" + shop + "path: /checkout/pay, ssl: true, additional_response_headers: [{key: server, value: upstream}, {key: cache-control, value: max-age=60}, {key: x-app, value: a}, {key: x-app, value: b}]}",
			`{response_header_matches: [
				{name: server, present_match: false},
				{name: cache-control, string_match: {exact: no-store}},
				{name: x-config, string_match: {exact: shop}},
				{name: x-app, string_match: {exact: "a,b"}}]}`, nil},
		{"weighted cluster response header", "{" + shop + "path: /cart, random_value: 95}",
			"{response_header_matches: [{name: x-canary, string_match: {exact: 'yes'}}]}", nil},
		{"weighted cluster response header absent", "{" + shop + "path: /cart}",
			"{response_header_matches: [{name: x-canary, string_match: {exact: 'yes'}}]}",
			[]string{"expected: [x-canary: yes], actual: [x-canary: NULL], test type: response_header_matches.string_match.exact"}},
		{"direct response headers", "{" + shop + "path: /admin}",
			`{response_header_matches: [
				{name: ":status", string_match: {exact: "403"}},
				{name: content-type, string_match: {exact: text/plain}},
				{name: content-length, string_match: {exact: "6"}},
				{name: x-config, string_match: {exact: shop}}]}`, nil},
		{"no route response headers", "{authority: nowhere.example.com, path: /, method: GET, additional_response_headers: [{key: a, value: b}]}",
			"{response_header_matches: [{name: a, string_match: {exact: b}}, {name: x-config, present_match: false}]}", nil},

		// The deprecated header fields compare the first value exactly.
		{"header fields", "{" + shop + "path: /checkout/pay, ssl: true, additional_response_headers: [{key: x-app, value: a}, {key: x-app, value: b}]}",
			"{request_header_fields: [{key: x-route, value: checkout}, {key: x-none, value: ''}], response_header_fields: [{key: x-app, value: a}]}", nil},
		{"header fields wrong", "{" + shop + "path: /checkout/pay, ssl: true}",
			"{request_header_fields: [{key: x-route, value: cart}], response_header_fields: [{key: x-app, value: a}]}",
			[]string{
				"expected: [cart], actual: [checkout], test type: request_header_fields",
				"expected: [a], actual: [], test type: response_header_fields",
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := Run(rt, suite(t, tc.input, tc.validate))
			if len(rep.Results) != 1 {
				t.Fatalf("%d results, want 1", len(rep.Results))
			}
			if diff := cmp.Diff(tc.failures, rep.Results[0].Failures); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	rt := loadShop(t)
	// shop.yaml has 12 routes: the 11 routes of "shop", one of them with
	// two weighted clusters, and the one of "secure".
	const shop = "authority: shop.example.com, method: GET, "
	cases := []struct {
		name      string
		tests     [][2]string
		route     float64
		all       float64
		uncovered []string
	}{
		{name: "nothing checked", tests: [][2]string{{"{" + shop + "path: /}", "{}"}},
			route: 0, all: 0},
		// A failed check does not cover; a header check never does.
		{name: "failed and header checks", tests: [][2]string{
			{"{" + shop + "path: /}", "{cluster_name: api}"},
			{"{" + shop + "path: /}", "{request_header_matches: [{name: ':path'}]}"},
		}, route: 0, all: 0},
		// One route, one field of five.
		{name: "one field", tests: [][2]string{{"{" + shop + "path: /}", "{cluster_name: web}"}},
			route: 100.0 / 12, all: 100.0 / 12 / 5},
		// All five fields of a forwarding route, twice over.
		{name: "all fields", tests: [][2]string{
			{"{" + shop + "path: /checkout/x, ssl: true}", "{cluster_name: checkout, virtual_cluster_name: checkout, virtual_host_name: shop}"},
			{"{" + shop + "path: /checkout/y, ssl: true}", "{host_rewrite: checkout.internal, path_rewrite: /v1/checkout/y, cluster_name: checkout}"},
		}, route: 100.0 / 12, all: 100.0 / 12},
		// An empty value checked on a route of another kind covers
		// nothing; a redirect counts two fields.
		{name: "redirect", tests: [][2]string{
			{"{" + shop + "path: /old/a}", "{path_redirect: http://shop.example.com/new/a, cluster_name: ''}"},
		}, route: 100.0 / 12, all: 100.0 / 12 / 2},
		// Each cluster of a weighted route is a route of its own.
		{name: "weighted", tests: [][2]string{
			{"{" + shop + "path: /cart}", "{cluster_name: cart-v1}"},
			{"{" + shop + "path: /cart, random_value: 99}", "{cluster_name: cart-v2}"},
		}, route: 200.0 / 12, all: 200.0 / 12 / 5},
		// A virtual host's own redirect (require_tls) is no route.
		{name: "require_tls", tests: [][2]string{
			{"{authority: secure.example.com, path: /, method: GET}", "{code_redirect: 301}"},
		}, route: 0, all: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Suite{}
			for _, tt := range tc.tests {
				s.Tests = append(s.Tests, suite(t, tt[0], tt[1]).Tests...)
			}
			rep := Run(rt, s)
			if got := rep.Coverage(false); !near(got, tc.route) {
				t.Errorf("Coverage(false) = %v, want %v", got, tc.route)
			}
			if got := rep.Coverage(true); !near(got, tc.all) {
				t.Errorf("Coverage(true) = %v, want %v", got, tc.all)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestUncovered(t *testing.T) {
	t.Parallel()
	rt := loadShop(t)
	var s Suite
	for _, p := range []string{"/cart", "/search", "/admin", "/checkout", "/api", "/old/", "/"} {
		s.Tests = append(s.Tests, suite(t, "{authority: shop.example.com, method: GET, path: "+p+"}", "{cluster_name: web, path_redirect: http://shop.example.com/new/}").Tests...)
	}
	var b strings.Builder
	if err := Run(rt, &s).WriteMissing(&b); err != nil {
		t.Fatal(err)
	}
	// Only "web" and "old" were covered: every check on the others failed.
	want := `Missing test for host: shop, route: {"prefix":"/cart"} (name: cart)
Missing test for host: shop, route: {"prefix":"/search","runtime_fraction":{"default_value":{},"runtime_key":"shop.search_beta"}} (name: search-beta)
Missing test for host: shop, route: {"prefix":"/search"} (name: search)
Missing test for host: shop, route: {"prefix":"/admin","headers":[{"name":"x-envoy-internal","string_match":{"exact":"true"}}]} (name: admin)
Missing test for host: shop, route: {"prefix":"/admin"} (name: admin-denied)
Missing test for host: shop, route: {"prefix":"/checkout","headers":[{"name":"x-forwarded-proto","string_match":{"exact":"https"}}]} (name: checkout)
Missing test for host: shop, route: {"prefix":"/checkout"} (name: checkout-http)
Missing test for host: shop, route: {"prefix":"/api","headers":[{"name":"x-api-version","string_match":{"exact":"2"}}]} (name: api-v2)
Missing test for host: secure, route: {"prefix":"/"} (name: secure)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteMissing (-want +got):\n%s", diff)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	rep := &Report{Results: []Result{
		{Name: "a"},
		{Name: "b", Failures: []string{"expected: [x], actual: [y], test type: cluster_name", "expected: [1], actual: [2], test type: code_redirect"}},
		{Name: "c", Notes: []string{"shown unevaluated"}},
	}}
	const failed = "b\nexpected: [x], actual: [y], test type: cluster_name\nexpected: [1], actual: [2], test type: code_redirect\n"
	cases := []struct {
		details, onlyFailures bool
		want                  string
	}{
		{false, false, failed},
		{true, false, "a\n" + failed + "c\n  note: shown unevaluated\n"},
		{true, true, failed},
		{false, true, failed},
	}
	for _, tc := range cases {
		var b strings.Builder
		if err := rep.Write(&b, tc.details, tc.onlyFailures); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("Write(details=%t, onlyFailures=%t) =\n%s\nwant\n%s", tc.details, tc.onlyFailures, b.String(), tc.want)
		}
	}
	if rep.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1", rep.Failed())
	}
}

func TestPercent(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{100: "100", 0: "0", 200.0 / 3: "66.6667", 7.448632: "7.44863", 12.5: "12.5"} {
		if got := Percent(v); got != want {
			t.Errorf("Percent(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestNotes: what the simulator cannot decide reaches the test's result.
func TestNotes(t *testing.T) {
	t.Parallel()
	rt, problems := LoadRoutes("r.yaml", []byte(`
name: local
virtual_hosts:
- name: www
  domains: ["*"]
  routes:
  - match: {prefix: /}
    route: {cluster: web}
    request_headers_to_add:
    - header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%"}
`))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	rep := Run(rt, suite(t, "{authority: a, path: /, method: GET}",
		"{request_header_matches: [{name: x-client, string_match: {exact: '%DOWNSTREAM_REMOTE_ADDRESS%'}}]}"))
	if res := rep.Results[0]; !res.Passed() || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "formatter") {
		t.Errorf("result %+v: want a pass with one note about the formatter", res)
	}
}
