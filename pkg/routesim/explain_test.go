package routesim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExplain: one reason per route before the matched one (all routes
// when none matched), the first criterion that failed, short and precise.
func TestExplain(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `
virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - {name: v1, match: {prefix: /v1/}, route: {cluster: c}}
  - {name: exact, match: {path: /v1}, route: {cluster: c}}
  - {name: regex, match: {safe_regex: {regex: "/v[0-9]+/item"}}, route: {cluster: c}}
  - {name: dev, match: {path_separated_prefix: /api/dev}, route: {cluster: c}}
  - {name: beta, match: {prefix: /, headers: [{name: x-beta, string_match: {exact: "true"}}]}, route: {cluster: c}}
  - {name: get, match: {prefix: /, headers: [{name: ":method", string_match: {exact: GET}}]}, route: {cluster: c}}
  - {name: read, match: {prefix: /, headers: [{name: ":method", string_match: {safe_regex: {regex: "^(GET|HEAD)$"}}}]}, route: {cluster: c}}
  - {name: ua, match: {prefix: /, headers: [{name: user-agent, string_match: {suffix: -bot}, invert_match: true}]}, route: {cluster: c}}
  - {name: absent, match: {prefix: /, headers: [{name: x-debug, present_match: false}]}, route: {cluster: c}}
  - {name: range, match: {prefix: /, headers: [{name: x-n, range_match: {start: 0, end: 10}}]}, route: {cluster: c}}
  - {name: query, match: {prefix: /, query_parameters: [{name: q, string_match: {exact: shoes}}]}, route: {cluster: c}}
  - {name: canary, match: {prefix: /, runtime_fraction: {default_value: {numerator: 5}}}, route: {cluster: c}}
  - {name: grpc, match: {prefix: /, grpc: {}}, route: {cluster: c}}
  - {name: cookie, match: {prefix: /, cookies: [{name: session, string_match: {exact: a}}]}, route: {cluster: c}}
  - {name: cert, match: {prefix: /, tls_context: {presented: true}}, route: {cluster: c}}
  - {name: connect, match: {connect_matcher: {}}, route: {cluster: c}}
  - {name: last, match: {prefix: /v2/}, route: {cluster: c}}`)
	req := &Request{Method: "POST", Authority: "h", Path: "/v2/x?q=boots", Random: 73, Headers: []Header{
		{"user-agent", "crawler-bot"}, {"x-debug", "1"}, {"x-n", "12"}, {"content-type", "application/json"}, {"cookie", "session=b"},
	}}
	res, misses := r.Explain(req)
	if res.Route != "last" {
		t.Fatalf("route %q, want last", res.Route)
	}
	want := []string{
		`path "/v2/x" does not start with prefix "/v1/"`,
		`path "/v2/x" is not "/v1"`,
		`path "/v2/x" does not match regex "/v[0-9]+/item"`,
		`path "/v2/x" is neither "/api/dev" nor under "/api/dev/"`,
		`header "x-beta" is missing`,
		`method is POST, route wants GET`,
		`method is POST, route wants GET or HEAD`,
		`header "user-agent" is "crawler-bot", route wants it not suffix "-bot"`,
		`header "x-debug" is present, route wants it absent`,
		`header "x-n" is "12", route wants an integer in [0, 10)`,
		`query parameter "q" is "boots", route wants exactly "shoes"`,
		`runtime fraction 5% not drawn (random 73)`,
		`content-type is "application/json", route wants gRPC`,
		`cookie "session" is "b", route wants exactly "a"`,
		`no client certificate presented, route wants one`,
		`method is POST, route wants CONNECT`,
	}
	var got []string
	for i, m := range misses {
		if m.Index != i {
			t.Errorf("miss %d has index %d", i, m.Index)
		}
		got = append(got, m.Reason)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got)\n%s", diff)
	}
	// No route: every route is explained.
	if _, misses := r.Explain(&Request{Method: "CONNECT", Authority: "h"}); len(misses) != 15 {
		t.Errorf("CONNECT without path: %d misses, want 15 (the connect route matches)", len(misses))
	}
	if res, misses := r.Explain(&Request{Authority: "h", Path: "/x?q=shoes", Headers: []Header{{"x-n", "1"}}}); res.Route != "get" || len(misses) != 5 {
		t.Errorf("GET: route %q after %d misses, want get after 5", res.Route, len(misses))
	}
}

// TestConcurrentRoute: a Router holds no per-request state; run with
// -race.
func TestConcurrentRoute(t *testing.T) {
	t.Parallel()
	r, err := NewRouter(benchConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := r.Route(&Request{Authority: "svc7.example.com", Path: "/v1/res7/x?q=1", Headers: []Header{{"a", "b"}}})
	done := make(chan *Result)
	for range 8 {
		go func() {
			var last *Result
			for range 200 {
				last = r.Route(&Request{Authority: "svc7.example.com", Path: "/v1/res7/x?q=1", Headers: []Header{{"a", "b"}}})
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; !cmp.Equal(summary(got), summary(want)) || got.Cluster != "c7" {
			t.Errorf("got %s, want %s", summary(got), summary(want))
		}
	}
}
