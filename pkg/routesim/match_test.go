package routesim

import (
	"testing"
)

// oneRoute is a configuration with a single virtual host for every host
// and a single route with the given match.
func oneRoute(t *testing.T, match string) *Router {
	t.Helper()
	return newRouter(t, `
virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - name: r
    match: `+match+`
    route: {cluster: c}`)
}

type matchCase struct {
	req  *Request
	want bool
}

func checkMatches(t *testing.T, rule string, r *Router, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		res := r.Route(tc.req)
		if got := res.RouteIndex == 0; got != tc.want {
			t.Errorf("%s: %s %s %v: matched %v, want %v", rule, tc.req.Method, tc.req.Path, tc.req.Headers, got, tc.want)
		}
	}
}

// TestPathSpecifiers encodes RouteMatch's path specifiers: "prefix must
// match the beginning of the :path header", "path must exactly match the
// :path header once the query string is removed", safe_regex: "The entire
// path (without the query string) must match the regex", and
// path_separated_prefix: "/api/dev would match /api/dev, /api/dev/,
// /api/dev/v1, and /api/dev?param=true but would not match
// /api/developer". Envoy's prefix matcher also ignores the query string.
// case_sensitive (default true) applies to prefix and path.
func TestPathSpecifiers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule, match string
		cases       []matchCase
	}{
		{"prefix", `{prefix: /v1/}`, []matchCase{
			{get("h", "/v1/"), true},
			{get("h", "/v1/orders?x=1"), true},
			{get("h", "/v1"), false},
			{get("h", "/V1/orders"), false},
			{get("h", "/v2/v1/"), false},
		}},
		{"prefix ignores the query", `{prefix: "/a?b"}`, []matchCase{
			{get("h", "/a?b"), false},
		}},
		{"empty prefix", `{prefix: ""}`, []matchCase{
			{get("h", "/anything"), true},
		}},
		{"prefix, case insensitive", `{prefix: /V1/, case_sensitive: false}`, []matchCase{
			{get("h", "/v1/x"), true},
			{get("h", "/V1/x"), true},
			{get("h", "/v2/x"), false},
		}},
		{"path", `{path: /v1/search}`, []matchCase{
			{get("h", "/v1/search"), true},
			{get("h", "/v1/search?q=shoes"), true},
			{get("h", "/v1/search/"), false},
			{get("h", "/v1/Search"), false},
		}},
		{"path, case insensitive", `{path: /v1/search, case_sensitive: false}`, []matchCase{
			{get("h", "/V1/SEARCH?q=1"), true},
		}},
		{"safe_regex", `{safe_regex: {regex: "/img/[0-9]+\\.png"}}`, []matchCase{
			{get("h", "/img/12.png"), true},
			{get("h", "/img/12.png?size=2"), true},
			// The whole path must match, not a part of it.
			{get("h", "/img/12.png/x"), false},
			{get("h", "/x/img/12.png"), false},
		}},
		{"safe_regex ignores case_sensitive", `{safe_regex: {regex: "/a"}, case_sensitive: false}`, []matchCase{
			{get("h", "/A"), false},
		}},
		{"path_separated_prefix", `{path_separated_prefix: /api/dev}`, []matchCase{
			{get("h", "/api/dev"), true},
			{get("h", "/api/dev/"), true},
			{get("h", "/api/dev/v1"), true},
			{get("h", "/api/dev?param=true"), true},
			{get("h", "/api/developer"), false},
			{get("h", "/api"), false},
		}},
		{"connect_matcher", `{connect_matcher: {}}`, []matchCase{
			{&Request{Method: "CONNECT", Authority: "h:443"}, true},
			{&Request{Method: "GET", Authority: "h", Path: "/"}, false},
		}},
		{"a CONNECT without path only takes connect_matcher", `{prefix: /}`, []matchCase{
			{&Request{Method: "CONNECT", Authority: "h:443"}, false},
		}},
	} {
		checkMatches(t, tc.rule, oneRoute(t, tc.match), tc.cases)
	}
}

// TestIgnorePathParameters encodes
// RouteConfiguration.ignore_path_parameters_in_path_matching: path
// parameters (";...") are ignored when matching the path.
func TestIgnorePathParameters(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `
ignore_path_parameters_in_path_matching: true
virtual_hosts:
- {name: vh, domains: ["*"], routes: [{name: r, match: {path: /a/b}, route: {cluster: c}}]}`)
	checkMatches(t, "ignore path parameters", r, []matchCase{
		{get("h", "/a/b;jsessionid=1"), true},
		{get("h", "/a/b;x?y=1"), true},
	})
	checkMatches(t, "path parameters by default", oneRoute(t, `{path: /a/b}`), []matchCase{
		{get("h", "/a/b;jsessionid=1"), false},
	})
}

// TestURITemplateMatch encodes the uri_template path_match_policy's
// documented syntax and examples: "*" one segment, "**" zero or more
// segments, {name} and {name=...} variables, literal text around a
// variable, matched against :path without the query string.
func TestURITemplateMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		template string
		cases    []matchCase
	}{
		{"/videos/*/*/*.m4s", []matchCase{
			{get("h", "/videos/123414/hls/1080p5000_00001.m4s"), true},
			{get("h", "/videos/123414/1080p5000_00001.m4s"), false},
		}},
		{"/videos/{file}", []matchCase{
			{get("h", "/videos/1080p5000_00001.m4s"), true},
			{get("h", "/videos/a/b"), false},
			{get("h", "/videos/"), false},
		}},
		{"/**.mpd", []matchCase{
			{get("h", "/content/123/india/dash/55/manifest.mpd"), true},
			{get("h", "/content/manifest.mp4"), false},
		}},
		{"/api/v{version}/users/{id}.json", []matchCase{
			{get("h", "/api/v2/users/456.json"), true},
			{get("h", "/api/2/users/456.json"), false},
		}},
		{"/{x}/**", []matchCase{
			{get("h", "/a/"), true},
			{get("h", "/a/b/c?q=1"), true},
			{get("h", "/a"), false},
		}},
		{"/videos/{language=lang/*}/*", []matchCase{
			{get("h", "/videos/lang/en/video.m4s"), true},
			{get("h", "/videos/en/video.m4s"), false},
		}},
		{"/a/", []matchCase{
			{get("h", "/a/"), true},
			{get("h", "/a"), false},
		}},
	} {
		checkMatches(t, tc.template, oneRoute(t, `{path_match_policy: {name: envoy.path.match.uri_template.uri_template_matcher, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: "`+tc.template+`"}}}`), tc.cases)
	}
}

// TestURITemplateRefused encodes the template rules Envoy checks on load:
// at most five variables, unique names of 1 to 16 characters, nothing
// globbing after "**", valid literals.
func TestURITemplateRefused(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []string{
		"videos", "/a/**/*", "/{a=**}/{b}", "/{a}/{a}", "/{a}/{b}/{c}/{d}/{e}/{f}",
		"/{abcdefghijklmnopq}", "/{1a}", "/a*b", "/{a=}", "/a//b", "/{a", "/a b",
	} {
		if _, err := compileTemplate(tmpl); err == nil {
			t.Errorf("%q: accepted", tmpl)
		}
	}
}

// TestHeaderMatchers encodes HeaderMatcher: string_match (exact, prefix,
// suffix, contains, safe_regex, ignore_case), the deprecated exact_match
// and its siblings, present_match ("If specified as false, header match
// will be performed based on whether the header is absent"), range_match
// ("For range [-10,0), route will match for header value -1, but not for
// 0, somestring, 10.9, -1somestring"), invert_match, and
// treat_missing_header_as_empty with the documented examples. Several
// values of a header are matched joined with ",".
func TestHeaderMatchers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule, matcher string
		cases         []matchCase
	}{
		{"string exact", `{name: x-beta, string_match: {exact: "true"}}`, []matchCase{
			{get("h", "/", "x-beta", "true"), true},
			{get("h", "/", "X-Beta", "true"), true},
			{get("h", "/", "x-beta", "TRUE"), false},
			{get("h", "/"), false},
		}},
		{"string exact ignore_case", `{name: x-beta, string_match: {exact: "True", ignore_case: true}}`, []matchCase{
			{get("h", "/", "x-beta", "tRUE"), true},
		}},
		{"string prefix", `{name: ua, string_match: {prefix: curl/}}`, []matchCase{
			{get("h", "/", "ua", "curl/8.0"), true},
			{get("h", "/", "ua", "Curl/8.0"), false},
		}},
		{"string suffix ignore_case", `{name: ua, string_match: {suffix: BOT, ignore_case: true}}`, []matchCase{
			{get("h", "/", "ua", "googlebot"), true},
		}},
		{"string contains", `{name: ua, string_match: {contains: acme-internal}}`, []matchCase{
			{get("h", "/", "ua", "x acme-internal y"), true},
			{get("h", "/", "ua", "acme"), false},
		}},
		{"string safe_regex is a full match", `{name: x, string_match: {safe_regex: {regex: "\\d{3}"}}}`, []matchCase{
			{get("h", "/", "x", "123"), true},
			{get("h", "/", "x", "1234"), false},
		}},
		{"inverted regex", `{name: x, string_match: {safe_regex: {regex: "\\d{3}"}}, invert_match: true}`, []matchCase{
			{get("h", "/", "x", "1234"), true},
			{get("h", "/", "x", "123"), false},
			// An inverted matcher still needs the header.
			{get("h", "/"), false},
		}},
		{"deprecated exact_match", `{name: x, exact_match: v}`, []matchCase{
			{get("h", "/", "x", "v"), true},
			{get("h", "/", "x", "w"), false},
		}},
		{"deprecated prefix_match", `{name: x, prefix_match: abcd}`, []matchCase{
			{get("h", "/", "x", "abcdxyz"), true},
			{get("h", "/", "x", "abcxyz"), false},
		}},
		{"deprecated suffix_match", `{name: x, suffix_match: abcd}`, []matchCase{
			{get("h", "/", "x", "xyzabcd"), true},
			{get("h", "/", "x", "xyzbcd"), false},
		}},
		{"deprecated contains_match", `{name: x, contains_match: abcd}`, []matchCase{
			{get("h", "/", "x", "xyzabcdpqr"), true},
			{get("h", "/", "x", "xyzbcdpqr"), false},
		}},
		{"deprecated safe_regex_match", `{name: x, safe_regex_match: {regex: "a+"}}`, []matchCase{
			{get("h", "/", "x", "aaa"), true},
			{get("h", "/", "x", "aab"), false},
		}},
		{"present", `{name: x, present_match: true}`, []matchCase{
			{get("h", "/", "x", ""), true},
			{get("h", "/"), false},
		}},
		{"absent", `{name: x, present_match: false}`, []matchCase{
			{get("h", "/"), true},
			{get("h", "/", "x", "1"), false},
		}},
		{"inverted present is absent", `{name: x, present_match: true, invert_match: true}`, []matchCase{
			{get("h", "/"), true},
			{get("h", "/", "x", "1"), false},
		}},
		{"no specifier is presence", `{name: x}`, []matchCase{
			{get("h", "/", "x", "1"), true},
			{get("h", "/"), false},
		}},
		{"range", `{name: x, range_match: {start: -10, end: 0}}`, []matchCase{
			{get("h", "/", "x", "-1"), true},
			{get("h", "/", "x", "-10"), true},
			{get("h", "/", "x", "0"), false},
			{get("h", "/", "x", "somestring"), false},
			{get("h", "/", "x", "10.9"), false},
			{get("h", "/", "x", "-1somestring"), false},
			{get("h", "/", "x", ""), false},
		}},
		{"inverted range", `{name: x, range_match: {start: -10, end: 0}, invert_match: true}`, []matchCase{
			{get("h", "/", "x", "-1"), false},
			{get("h", "/", "x", "5"), true},
		}},
		{"header1: missing as empty, inverted range", `{name: header1, range_match: {start: 0, end: 10}, invert_match: true, treat_missing_header_as_empty: true}`, []matchCase{
			{get("h", "/"), true},
		}},
		{"header2: missing, inverted range", `{name: header2, range_match: {start: 0, end: 10}, invert_match: true}`, []matchCase{
			{get("h", "/"), false},
		}},
		{"header3: missing as empty, ^$", `{name: header3, string_match: {safe_regex: {regex: "^$"}}, treat_missing_header_as_empty: true}`, []matchCase{
			{get("h", "/"), true},
		}},
		{"header4: missing, ^$", `{name: header4, string_match: {safe_regex: {regex: "^$"}}}`, []matchCase{
			{get("h", "/"), false},
		}},
		{"values joined with a comma", `{name: x, string_match: {exact: "a,b"}}`, []matchCase{
			{get("h", "/", "x", "a", "y", "-", "X", "b"), true},
			{get("h", "/", "x", "a"), false},
		}},
		{":method", `{name: ":method", string_match: {exact: POST}}`, []matchCase{
			{&Request{Method: "POST", Authority: "h", Path: "/"}, true},
			{get("h", "/"), false},
		}},
		{":path includes the query", `{name: ":path", string_match: {suffix: "?debug=1"}}`, []matchCase{
			{get("h", "/a?debug=1"), true},
		}},
		{":authority", `{name: ":authority", string_match: {exact: "h:8080"}}`, []matchCase{
			{get("h:8080", "/"), true},
		}},
		{":scheme", `{name: ":scheme", string_match: {exact: https}}`, []matchCase{
			{&Request{Scheme: "https", Authority: "h", Path: "/"}, true},
			{get("h", "/"), false},
		}},
		{"host is :authority only", `{name: host, present_match: true}`, []matchCase{
			{get("h", "/", "Host", "h"), false},
		}},
	} {
		checkMatches(t, tc.rule, oneRoute(t, `{prefix: /, headers: [`+tc.matcher+`]}`), tc.cases)
	}
}

// TestQueryParameterMatchers encodes QueryParameterMatcher and RouteMatch:
// "In the event query parameters are repeated, only the first value for
// each key will be considered"; values are compared as sent
// ("foo%20bar"), and present_match compares presence.
func TestQueryParameterMatchers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule, matcher string
		cases         []matchCase
	}{
		{"exact", `{name: q, string_match: {exact: shoes}}`, []matchCase{
			{get("h", "/?q=shoes"), true},
			{get("h", "/?a=1&q=shoes&b"), true},
			{get("h", "/?q=boots"), false},
			{get("h", "/"), false},
		}},
		{"first value only", `{name: q, string_match: {exact: b}}`, []matchCase{
			{get("h", "/?q=a&q=b"), false},
			{get("h", "/?q=b&q=a"), true},
		}},
		{"not decoded", `{name: q, string_match: {exact: "foo%20bar"}}`, []matchCase{
			{get("h", "/?q=foo%20bar"), true},
		}},
		{"present", `{name: debug, present_match: true}`, []matchCase{
			{get("h", "/?debug"), true},
			{get("h", "/?debug="), true},
			{get("h", "/?debugging=1"), false},
		}},
		{"absent", `{name: debug, present_match: false}`, []matchCase{
			{get("h", "/?x=1"), true},
			{get("h", "/?debug=1"), false},
		}},
		{"no specifier is presence", `{name: debug}`, []matchCase{
			{get("h", "/?debug=0"), true},
			{get("h", "/"), false},
		}},
		{"ignore_case", `{name: q, string_match: {prefix: AB, ignore_case: true}}`, []matchCase{
			{get("h", "/?q=abc"), true},
		}},
	} {
		checkMatches(t, tc.rule, oneRoute(t, `{prefix: /, query_parameters: [`+tc.matcher+`]}`), tc.cases)
	}
}

// TestCookieMatchers encodes CookieMatcher: the router parses the Cookie
// header; "If the cookie is not present, the match result is false, so
// invert_match will cause the matcher to succeed when the cookie is
// absent."
func TestCookieMatchers(t *testing.T) {
	t.Parallel()
	checkMatches(t, "cookie", oneRoute(t, `{prefix: /, cookies: [{name: session, string_match: {prefix: beta-}}]}`), []matchCase{
		{get("h", "/", "cookie", "a=1; session=beta-42"), true},
		{get("h", "/", "cookie", `session="beta-42"`), true},
		{get("h", "/", "cookie", "a=1", "cookie", "session=beta-1"), true},
		{get("h", "/", "cookie", "session=prod"), false},
		{get("h", "/"), false},
	})
	checkMatches(t, "inverted cookie", oneRoute(t, `{prefix: /, cookies: [{name: session, string_match: {exact: x}, invert_match: true}]}`), []matchCase{
		{get("h", "/"), true},
		{get("h", "/", "cookie", "session=x"), false},
	})
}

// TestRuntimeFraction encodes RouteMatch.runtime_fraction: "For some
// fraction N/D, a random number in the range [0,D) is selected", taken as
// Envoy's runtime does, random % D < N; a runtime key overrides the
// numerator.
func TestRuntimeFraction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fraction string
		random   uint64
		runtime  map[string]uint64
		want     bool
	}{
		{`{numerator: 5}`, 4, nil, true},
		{`{numerator: 5}`, 5, nil, false},
		{`{numerator: 5}`, 104, nil, true},
		{`{numerator: 0}`, 0, nil, false},
		{`{numerator: 100}`, 99, nil, true},
		{`{numerator: 5, denominator: TEN_THOUSAND}`, 4, nil, true},
		{`{numerator: 5, denominator: TEN_THOUSAND}`, 6, nil, false},
		{`{numerator: 5, denominator: MILLION}`, 1000004, nil, true},
		{`{numerator: 5}`, 50, map[string]uint64{"routing.shift": 60}, true},
		{`{numerator: 5}`, 3, map[string]uint64{"routing.shift": 0}, false},
		{`{numerator: 5}`, 3, map[string]uint64{"other": 0}, true},
	} {
		r := oneRoute(t, `{prefix: /, runtime_fraction: {default_value: `+tc.fraction+`, runtime_key: routing.shift}}`)
		req := get("h", "/")
		req.Random, req.Runtime = tc.random, tc.runtime
		if got := r.Route(req).RouteIndex == 0; got != tc.want {
			t.Errorf("%s random %d runtime %v: matched %v, want %v", tc.fraction, tc.random, tc.runtime, got, tc.want)
		}
	}
}

// TestGRPCMatch encodes RouteMatch.grpc: "The router will check that the
// Content-Type header has application/grpc or one of the various
// application/grpc+ values."
func TestGRPCMatch(t *testing.T) {
	t.Parallel()
	checkMatches(t, "grpc", oneRoute(t, `{prefix: /, grpc: {}}`), []matchCase{
		{get("h", "/pkg.Svc/Call", "content-type", "application/grpc"), true},
		{get("h", "/pkg.Svc/Call", "content-type", "application/grpc+proto"), true},
		{get("h", "/pkg.Svc/Call", "content-type", "application/grpc-web"), false},
		{get("h", "/pkg.Svc/Call", "content-type", "application/json"), false},
		{get("h", "/pkg.Svc/Call"), false},
	})
}

// TestTLSContextMatch encodes RouteMatch.tls_context: presented and
// validated compare with the client certificate of a TLS connection; a
// plaintext request presents none.
func TestTLSContextMatch(t *testing.T) {
	t.Parallel()
	tls := func(presented, validated bool) *Request {
		return &Request{Scheme: "https", Authority: "h", Path: "/", ClientCertPresented: presented, ClientCertValidated: validated}
	}
	checkMatches(t, "presented", oneRoute(t, `{prefix: /, tls_context: {presented: true}}`), []matchCase{
		{tls(true, false), true},
		{tls(false, false), false},
		{&Request{Authority: "h", Path: "/", ClientCertPresented: true}, false},
	})
	checkMatches(t, "not validated", oneRoute(t, `{prefix: /, tls_context: {validated: false}}`), []matchCase{
		{tls(true, false), true},
		{tls(true, true), false},
		{get("h", "/"), true},
	})
}

// TestUnsupportedMatchersNeverMatch: dynamic metadata and filter state are
// not known from a request, so such routes are taken as not matching, and
// Explain says why.
func TestUnsupportedMatchersNeverMatch(t *testing.T) {
	t.Parallel()
	r := oneRoute(t, `{prefix: /, dynamic_metadata: [{filter: f, path: [{key: k}], value: {present_match: true}}]}`)
	res, misses := r.Explain(get("h", "/"))
	if res.RouteIndex != -1 || len(misses) != 1 || misses[0].Reason != "dynamic_metadata matchers are not simulated; the route is taken as not matching" {
		t.Errorf("dynamic metadata: route %d, misses %v", res.RouteIndex, misses)
	}
}

// TestInternalOnlyHeaders encodes RouteConfiguration.internal_only_headers:
// "If they are found on external requests they will be cleaned prior to
// filter invocation" — so routing does not see them either.
func TestInternalOnlyHeaders(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `
internal_only_headers: [X-Internal-Role]
virtual_hosts:
- {name: vh, domains: ["*"], routes: [
    {name: admin, match: {prefix: /, headers: [{name: x-internal-role, string_match: {exact: admin}}]}, route: {cluster: admin}},
    {name: public, match: {prefix: /}, route: {cluster: public}}]}`)
	ext := get("h", "/", "x-internal-role", "admin", "x-other", "1")
	res := r.Route(ext)
	if res.Route != "public" || len(res.UpstreamHeaders) != 1 || res.UpstreamHeaders[0].Name != "x-other" {
		t.Errorf("external: route %q, upstream headers %v; want public without x-internal-role", res.Route, res.UpstreamHeaders)
	}
	in := get("h", "/", "x-internal-role", "admin")
	in.Internal = true
	if res := r.Route(in); res.Route != "admin" {
		t.Errorf("internal: route %q, want admin", res.Route)
	}
}
