package routesim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// withRoute is a configuration with one virtual host for every host and
// one route.
func withRoute(t *testing.T, route string) *Router {
	t.Helper()
	return newRouter(t, `
virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - `+strings.ReplaceAll(strings.TrimSpace(route), "\n", "\n    "))
}

func reqURL(t *testing.T, method, url string, headers ...string) *Request {
	t.Helper()
	req, err := ParseURL(method, url)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers = append(req.Headers, Header{Name: headers[i], Value: headers[i+1]})
	}
	return req
}

// TestRedirectLocation encodes RedirectAction and how Envoy composes the
// Location: the request's scheme, host and path unless replaced; "If the
// source URI scheme is http and the port is explicitly set to :80, the
// port will be removed after the redirection" (and https with :443);
// port_redirect replaces the port; "The path_redirect query string, if
// any, takes precedence over the request's query string, and it will not
// be stripped regardless of strip_query"; prefix_rewrite swaps the matched
// prefix; regex_rewrite rewrites the path without its query; response_code
// defaults to 301.
func TestRedirectLocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, match, redirect, url string
		status                     int
		location                   string
	}{
		{"https_redirect drops :80", `{prefix: /}`, `{https_redirect: true}`, "http://foo.com:80/p?q=1", 301, "https://foo.com/p?q=1"},
		{"https_redirect keeps another port", `{prefix: /}`, `{https_redirect: true}`, "http://foo.com:8080/p", 301, "https://foo.com:8080/p"},
		{"scheme_redirect http drops :443", `{prefix: /}`, `{scheme_redirect: http}`, "https://foo.com:443/p", 301, "http://foo.com/p"},
		{"same scheme keeps :80", `{prefix: /}`, `{host_redirect: "", path_redirect: /x}`, "http://foo.com:80/p", 301, "http://foo.com:80/x"},
		{"https_redirect with port_redirect", `{prefix: /}`, `{scheme_redirect: https, port_redirect: 8443}`, "http://www.acme.io:8080/", 301, "https://www.acme.io:8443/"},
		{"host_redirect replaces host and port", `{prefix: /}`, `{host_redirect: new.com}`, "http://old.com:8080/a?b=1", 301, "http://new.com/a?b=1"},
		{"host and port redirect", `{prefix: /admin}`, `{host_redirect: admin.acme.internal, port_redirect: 9443, response_code: FOUND}`, "https://www.acme.io:8443/admin/x", 302, "https://admin.acme.internal:9443/admin/x"},
		{"path_redirect keeps the query", `{prefix: /}`, `{path_redirect: /new}`, "http://h/old?x=1", 301, "http://h/new?x=1"},
		{"path_redirect with its own query", `{prefix: /}`, `{path_redirect: "/new?y=2", strip_query: true}`, "http://h/old?x=1", 301, "http://h/new?y=2"},
		{"strip_query", `{prefix: /}`, `{strip_query: true, response_code: SEE_OTHER}`, "http://h/a?x=1", 303, "http://h/a"},
		{"prefix_rewrite", `{prefix: /old/}`, `{prefix_rewrite: /new/, response_code: TEMPORARY_REDIRECT}`, "http://h/old/a?x=1", 307, "http://h/new/a?x=1"},
		{"prefix_rewrite of a path route", `{path: /old}`, `{prefix_rewrite: /new, response_code: PERMANENT_REDIRECT}`, "http://h/old?x=1", 308, "http://h/new?x=1"},
		{"regex_rewrite", `{prefix: /service/}`, `{regex_rewrite: {pattern: {regex: "^/service/([^/]+)(/.*)$"}, substitution: "\\2/instance/\\1"}}`, "http://h/service/foo/v1/api?x=1", 301, "http://h/v1/api/instance/foo?x=1"},
		{"IPv6 host", `{prefix: /}`, `{https_redirect: true}`, "http://[::1]:80/", 301, "https://[::1]/"},
	} {
		r := withRoute(t, `{name: r, match: `+tc.match+`, redirect: `+tc.redirect+`}`)
		res := r.Route(reqURL(t, "GET", tc.url))
		if res.Action != Redirect || res.Status != tc.status || res.Location != tc.location {
			t.Errorf("%s: %s %d %q, want redirect %d %q", tc.name, res.Action, res.Status, res.Location, tc.status, tc.location)
		}
	}
}

// TestDirectResponse encodes DirectResponseAction (status and body) and
// Envoy's Location header on a 201 or 3xx direct response, the request's
// own URL.
func TestDirectResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action, url string
		want        Result
	}{
		{`{status: 403, body: {inline_string: "use the internal API endpoint\n"}}`, "http://h/v1/x",
			Result{Action: DirectResponse, Status: 403, Body: "use the internal API endpoint\n"}},
		{`{status: 301}`, "https://h:8443/a?b=1",
			Result{Action: DirectResponse, Status: 301, Location: "https://h:8443/a?b=1"}},
		{`{status: 200, body: {inline_bytes: b2s=}}`, "http://h/",
			Result{Action: DirectResponse, Status: 200, Body: "ok"}},
		{`{status: 503, body: {filename: /etc/envoy/maintenance.html}}`, "http://h/",
			Result{Action: DirectResponse, Status: 503, Notes: []string{`direct response body is read from "/etc/envoy/maintenance.html" on the Envoy host; not shown`}}},
	} {
		res := withRoute(t, `{name: r, match: {prefix: /}, direct_response: `+tc.action+`}`).Route(reqURL(t, "GET", tc.url))
		got := Result{Action: res.Action, Status: res.Status, Body: res.Body, Location: res.Location, Notes: res.Notes}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.action, diff)
		}
	}
	_, err := NewRouter(routeConfig(t, `
virtual_hosts:
- {name: vh, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: "`+strings.Repeat("x", 4097)+`"}}}]}`))
	if err == nil {
		t.Errorf("a 4097-byte body was accepted; max_direct_response_body_size_bytes defaults to 4096")
	}
}

// TestPathRewrites encodes RouteAction's prefix_rewrite ("the matched
// prefix (or path) should be swapped with this value", with the
// documented /prefix example), regex_rewrite with its four documented
// examples (the query string kept), path_rewrite, and the uri_template
// rewrite's documented examples.
func TestPathRewrites(t *testing.T) {
	t.Parallel()
	template := func(match, rewrite string) string {
		return `{name: r, match: {path_match_policy: {name: m, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: "` + match + `"}}},
route: {cluster: c, path_rewrite_policy: {name: w, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: "` + rewrite + `"}}}}`
	}
	regex := func(pattern, sub string) string {
		return `{name: r, match: {prefix: /}, route: {cluster: c, regex_rewrite: {pattern: {regex: "` + pattern + `"}, substitution: "` + sub + `"}}}`
	}
	for _, tc := range []struct {
		route, path, want string
	}{
		{`{name: r, match: {prefix: /prefix/}, route: {cluster: c, prefix_rewrite: /}}`, "/prefix/etc", "/etc"},
		{`{name: r, match: {prefix: /prefix}, route: {cluster: c, prefix_rewrite: /}}`, "/prefix", "/"},
		{`{name: r, match: {prefix: /prefix}, route: {cluster: c, prefix_rewrite: /}}`, "/prefix/etc", "//etc"},
		{`{name: r, match: {prefix: /products/}, route: {cluster: c, prefix_rewrite: /v1/products/}}`, "/products/x?y=1", "/v1/products/x?y=1"},
		{`{name: r, match: {prefix: /API/, case_sensitive: false}, route: {cluster: c, prefix_rewrite: /v2/}}`, "/api/x", "/v2/x"},
		{`{name: r, match: {path: /old}, route: {cluster: c, prefix_rewrite: /new}}`, "/old?q=1", "/new?q=1"},
		{`{name: r, match: {path_separated_prefix: /api}, route: {cluster: c, prefix_rewrite: /v1}}`, "/api/x", "/v1/x"},
		{regex(`^/service/([^/]+)(/.*)$`, `\\2/instance/\\1`), "/service/foo/v1/api", "/v1/api/instance/foo"},
		{regex(`one`, `two`), "/xxx/one/yyy/one/zzz?one=1", "/xxx/two/yyy/two/zzz?one=1"},
		{regex(`^(.*?)one(.*)$`, `\\1two\\2`), "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/one/zzz"},
		{regex(`(?i)/xxx/`, `/yyy/`), "/aaa/XxX/bbb", "/aaa/yyy/bbb"},
		{regex(`^/img/(.*)$`, `/acme-images/\\1`), "/img/1.png", "/acme-images/1.png"},
		{`{name: r, match: {prefix: /}, route: {cluster: c, path_rewrite: /fixed}}`, "/a/b?x=1", "/fixed?x=1"},
		{template("/{one}/{two}", "/{two}/{one}"), "/cat/dog", "/dog/cat"},
		{template("/videos/{language=lang/*}/*", "/{language}"), "/videos/lang/en/video.m4s", "/lang/en"},
		{template("/content/{format}/{lang}/{id}/{file}.vtt", "/{lang}/{format}/{file}.vtt"), "/content/hls/en-us/12345/en_193913.vtt", "/en-us/hls/en_193913.vtt"},
	} {
		res := withRoute(t, tc.route).Route(get("h", tc.path))
		if res.Action != Forward || res.Path != tc.want {
			t.Errorf("%s\n%s: %s path %q, want %q", tc.route, tc.path, res.Action, res.Path, tc.want)
		}
	}
}

// TestRewritesRefused encodes "Only one of regex_rewrite,
// path_rewrite_policy, path_rewrite, or prefix_rewrite may be specified"
// and that a template rewrite needs a template match with its variables.
func TestRewritesRefused(t *testing.T) {
	t.Parallel()
	for _, route := range []string{
		`{match: {prefix: /}, route: {cluster: c, prefix_rewrite: /a, regex_rewrite: {pattern: {regex: a}, substitution: b}}}`,
		`{match: {prefix: /}, route: {cluster: c, prefix_rewrite: /a, path_rewrite: /b}}`,
		`{match: {prefix: /}, route: {cluster: c, path_rewrite_policy: {name: w, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: "/a"}}}}`,
		`{match: {path_match_policy: {name: m, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: "/{a}"}}}, route: {cluster: c, path_rewrite_policy: {name: w, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: "/{b}"}}}}`,
		`{match: {path_match_policy: {name: m, typed_config: {"@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: "/{a}"}}}, route: {cluster: c, prefix_rewrite: /x}}`,
		`{match: {safe_regex: {regex: "(a"}}, route: {cluster: c}}`,
		`{match: {prefix: /, headers: [{name: x, string_match: {safe_regex: {regex: "[a"}}}]}, route: {cluster: c}}`,
		`{match: {prefix: /}, route: {weighted_clusters: {clusters: [{name: a, weight: 0}]}}}`,
		`{match: {prefix: /}, route: {cluster: c}, request_headers_to_add: [{header: {key: ":path", value: /x}}]}`,
		`{match: {prefix: /}, route: {cluster: c}, request_headers_to_remove: [host]}`,
	} {
		if _, err := NewRouter(routeConfig(t, `
virtual_hosts:
- {name: vh, domains: ["*"], routes: [`+route+`]}`)); err == nil {
			t.Errorf("accepted: %s", route)
		}
	}
}

// TestHostRewrites encodes RouteAction's host rewrite specifiers:
// host_rewrite_literal, host_rewrite_header ("If header value is empty,
// host header is left intact"; "only the first value is used"),
// host_rewrite_path_regex with its documented example, and
// auto_host_rewrite, which depends on the endpoint Envoy picks.
func TestHostRewrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rewrite string
		req     *Request
		host    string
		notes   int
	}{
		{`host_rewrite_literal: acme-images.storage.example.net`, get("www.acme.io", "/"), "acme-images.storage.example.net", 0},
		{`host_rewrite_header: x-host`, get("a.com", "/", "x-host", "b.com", "x-host", "c.com"), "b.com", 0},
		{`host_rewrite_header: x-host`, get("a.com", "/", "x-host", ""), "a.com", 0},
		{`host_rewrite_header: x-host`, get("a.com", "/"), "a.com", 0},
		{`host_rewrite_path_regex: {pattern: {regex: "^/(.+)/.+$"}, substitution: "\\1"}`, get("a.com", "/envoyproxy.io/path?x=1"), "envoyproxy.io", 0},
		// RE2 is greedy: the documentation's deeper path keeps more.
		{`host_rewrite_path_regex: {pattern: {regex: "^/(.+)/.+$"}, substitution: "\\1"}`, get("a.com", "/envoyproxy.io/some/path"), "envoyproxy.io/some", 0},
		{`auto_host_rewrite: true`, get("a.com", "/"), "a.com", 1},
	} {
		res := withRoute(t, `{name: r, match: {prefix: /}, route: {cluster: c, `+tc.rewrite+`}}`).Route(tc.req)
		if res.Host != tc.host || len(res.Notes) != tc.notes {
			t.Errorf("%s: host %q notes %v, want %q and %d notes", tc.rewrite, res.Host, res.Notes, tc.host, tc.notes)
		}
	}
}

// TestWeightedClusters encodes WeightedCluster: Envoy takes random % (sum
// of the weights) and picks the cluster whose range [sum of earlier
// weights, + its weight) holds it; header_name supplies the random value;
// runtime_key_prefix + "." + name overrides a weight; a cluster_header
// entry names its cluster by a request header.
func TestWeightedClusters(t *testing.T) {
	t.Parallel()
	r := withRoute(t, `{name: r, match: {prefix: /}, route: {weighted_clusters: {runtime_key_prefix: split, clusters: [{name: a, weight: 95}, {name: b, weight: 5}]}}}`)
	for _, tc := range []struct {
		random  uint64
		runtime map[string]uint64
		want    string
	}{
		{0, nil, "a"}, {94, nil, "a"}, {95, nil, "b"}, {99, nil, "b"}, {100, nil, "a"}, {195, nil, "b"},
		{10, map[string]uint64{"split.a": 0}, "b"},
		{60, map[string]uint64{"split.a": 50, "split.b": 50}, "b"},
	} {
		req := get("h", "/")
		req.Random, req.Runtime = tc.random, tc.runtime
		res := r.Route(req)
		if res.Cluster != tc.want || len(res.Weights) != 2 {
			t.Errorf("random %d runtime %v: cluster %q weights %v, want %q", tc.random, tc.runtime, res.Cluster, res.Weights, tc.want)
		}
	}
	hdr := withRoute(t, `{name: r, match: {prefix: /}, route: {weighted_clusters: {header_name: x-random, clusters: [{name: a, weight: 1}, {cluster_header: x-cluster, weight: 1}]}}}`)
	for _, tc := range []struct {
		req  *Request
		want string
	}{
		{get("h", "/", "x-random", "1", "x-cluster", "picked"), "picked"},
		{get("h", "/", "x-random", "2"), "a"},
		// A header with several values is ignored: Request.Random is used.
		{&Request{Authority: "h", Path: "/", Random: 1, Headers: []Header{{"x-random", "2"}, {"x-random", "2"}}}, ""},
	} {
		if res := hdr.Route(tc.req); res.Cluster != tc.want {
			t.Errorf("%v: cluster %q, want %q", tc.req.Headers, res.Cluster, tc.want)
		}
	}
}

// TestClusterHeader encodes RouteAction.cluster_header: the cluster is the
// header's first value; without it the cluster is not found, answered with
// cluster_not_found_response_code (503 by default).
func TestClusterHeader(t *testing.T) {
	t.Parallel()
	r := withRoute(t, `{name: r, match: {prefix: /}, route: {cluster_header: X-Cluster}}`)
	if res := r.Route(get("h", "/", "x-cluster", "blue", "x-cluster", "green")); res.Cluster != "blue" || res.Status != 0 {
		t.Errorf("with header: cluster %q status %d, want blue", res.Cluster, res.Status)
	}
	if res := r.Route(get("h", "/")); res.Cluster != "" || res.Status != 503 {
		t.Errorf("without header: cluster %q status %d, want none and 503", res.Cluster, res.Status)
	}
	nf := withRoute(t, `{name: r, match: {prefix: /}, route: {cluster_header: x-cluster, cluster_not_found_response_code: NOT_FOUND}}`)
	if res := nf.Route(get("h", "/")); res.Status != 404 {
		t.Errorf("cluster_not_found_response_code NOT_FOUND: status %d", res.Status)
	}
}

// headerLevels adds x-level at every level, with the same append action.
func headerLevels(action, extra string) string {
	add := func(v string) string {
		return `[{header: {key: x-level, value: ` + v + `}, append_action: ` + action + `}]`
	}
	return extra + `
request_headers_to_add: ` + add("global") + `
response_headers_to_add: ` + add("global") + `
virtual_hosts:
- name: vh
  domains: ["*"]
  request_headers_to_add: ` + add("vhost") + `
  response_headers_to_add: ` + add("vhost") + `
  routes:
  - name: r
    match: {prefix: /}
    route: {cluster: c}
    request_headers_to_add: ` + add("route") + `
    response_headers_to_add: ` + add("route")
}

// TestHeaderMutationOrder encodes the custom request/response headers
// rules: route, then virtual host, then route configuration mutations are
// applied ("from most to least specific"), reversed by
// most_specific_header_mutations_wins; and HeaderValueOption.append_action
// (APPEND_IF_EXISTS_OR_ADD by default, ADD_IF_ABSENT,
// OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS).
func TestHeaderMutationOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action, extra string
		req           *Request
		want          []Header
	}{
		{"OVERWRITE_IF_EXISTS_OR_ADD", "", get("h", "/"), []Header{{"x-level", "global"}}},
		{"OVERWRITE_IF_EXISTS_OR_ADD", "most_specific_header_mutations_wins: true", get("h", "/"), []Header{{"x-level", "route"}}},
		{"APPEND_IF_EXISTS_OR_ADD", "", get("h", "/"), []Header{{"x-level", "route"}, {"x-level", "vhost"}, {"x-level", "global"}}},
		{"ADD_IF_ABSENT", "", get("h", "/"), []Header{{"x-level", "route"}}},
		{"ADD_IF_ABSENT", "", get("h", "/", "X-Level", "client"), nil},
		{"OVERWRITE_IF_EXISTS", "", get("h", "/"), nil},
		{"OVERWRITE_IF_EXISTS", "", get("h", "/", "x-level", "client"), []Header{{"x-level", "global"}}},
	} {
		res := newRouter(t, headerLevels(tc.action, tc.extra)).Route(tc.req)
		if diff := cmp.Diff(tc.want, res.RequestHeaders); diff != "" {
			t.Errorf("%s %s, request %v: request headers (-want +got)\n%s", tc.action, tc.extra, tc.req.Headers, diff)
		}
	}
	// Response mutations follow the same order on the response.
	res := newRouter(t, headerLevels("OVERWRITE_IF_EXISTS_OR_ADD", "")).Route(get("h", "/"))
	if diff := cmp.Diff([]Header{{"x-level", "global"}}, res.ResponseHeaders); diff != "" {
		t.Errorf("response headers (-want +got)\n%s", diff)
	}
}

// TestHeaderRemovalAndValues encodes the header parser: removals before
// additions at each level, the deprecated append (false overwrites),
// keep_empty_value (an empty value is not added unless set), and the
// request's own headers carried upstream.
func TestHeaderRemovalAndValues(t *testing.T) {
	t.Parallel()
	r := withRoute(t, `
name: r
match: {prefix: /}
route: {cluster: c}
request_headers_to_remove: [x-debug, x-acme-edge]
request_headers_to_add:
- {header: {key: x-acme-edge, value: edge}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
- {header: {key: x-legacy, value: "1"}, append: false}
- {header: {key: x-empty, value: ""}}
- {header: {key: x-kept, value: ""}, keep_empty_value: true}
- {header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%"}}`)
	res := r.Route(get("h", "/", "X-Debug", "1", "x-acme-edge", "forged", "x-legacy", "0", "accept", "*/*"))
	want := Result{
		RequestHeaders:        []Header{{"x-acme-edge", "edge"}, {"x-legacy", "1"}, {"x-kept", ""}, {"x-client", "%DOWNSTREAM_REMOTE_ADDRESS%"}},
		RequestHeadersRemoved: []string{"x-debug", "x-acme-edge"},
		UpstreamHeaders:       []Header{{"accept", "*/*"}, {"x-acme-edge", "edge"}, {"x-legacy", "1"}, {"x-kept", ""}, {"x-client", "%DOWNSTREAM_REMOTE_ADDRESS%"}},
		Notes:                 []string{`header "x-client": value "%DOWNSTREAM_REMOTE_ADDRESS%" may hold a formatter; shown unevaluated`},
	}
	got := Result{RequestHeaders: res.RequestHeaders, RequestHeadersRemoved: res.RequestHeadersRemoved, UpstreamHeaders: res.UpstreamHeaders, Notes: res.Notes}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestRequireTLS encodes VirtualHost.require_tls: with ALL "If a request
// is not using TLS, a 301 redirect will be sent telling the client to use
// HTTPS"; EXTERNAL_ONLY only for external requests. The check comes before
// any route.
func TestRequireTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     string
		req      *Request
		location string
	}{
		{"ALL", &Request{Authority: "h:8080", Path: "/a?b=1"}, "https://h:8080/a?b=1"},
		{"ALL", &Request{Scheme: "https", Authority: "h", Path: "/a"}, ""},
		{"ALL", &Request{Authority: "h", Path: "/a", Internal: true}, "https://h/a"},
		{"EXTERNAL_ONLY", &Request{Authority: "h", Path: "/a"}, "https://h/a"},
		{"EXTERNAL_ONLY", &Request{Authority: "h", Path: "/a", Internal: true}, ""},
		// x-forwarded-proto decides, when the scheme is not given.
		{"EXTERNAL_ONLY", get("h", "/a", "x-forwarded-proto", "https"), ""},
	} {
		r := newRouter(t, `
virtual_hosts:
- {name: vh, domains: ["*"], require_tls: `+tc.mode+`, routes: [{name: r, match: {prefix: /}, route: {cluster: c}}]}`)
		res := r.Route(tc.req)
		if tc.location == "" {
			if res.Action != Forward {
				t.Errorf("%s %+v: %s, want forward", tc.mode, tc.req, res.Action)
			}
			continue
		}
		if res.Action != Redirect || res.Status != 301 || res.Location != tc.location || res.RouteIndex != -1 {
			t.Errorf("%s %+v: %s %d %q, want 301 to %q", tc.mode, tc.req, res.Action, res.Status, res.Location, tc.location)
		}
	}
}

// TestVirtualClusters encodes the route matching procedure: "each virtual
// cluster in the virtual host is checked, in order. If there is a match,
// the virtual cluster is used and no further virtual cluster checks are
// made."
func TestVirtualClusters(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `
virtual_hosts:
- name: vh
  domains: ["*"]
  routes: [{name: r, match: {prefix: /}, route: {cluster: c}}]
  virtual_clusters:
  - {name: orders-post, headers: [{name: ":path", string_match: {prefix: /v1/orders}}, {name: ":method", string_match: {exact: POST}}]}
  - {name: orders, headers: [{name: ":path", string_match: {prefix: /v1/orders}}]}
  - {name: shadowed, headers: [{name: ":path", string_match: {prefix: /v1/orders}}]}`)
	for _, tc := range []struct {
		method, path, want string
	}{
		{"POST", "/v1/orders", "orders-post"},
		{"GET", "/v1/orders/7", "orders"},
		{"GET", "/v1/cart", ""},
	} {
		if got := r.Route(&Request{Method: tc.method, Authority: "h", Path: tc.path}).VirtualCluster; got != tc.want {
			t.Errorf("%s %s: virtual cluster %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestTimeoutRetryMirror encodes RouteAction.timeout ("If not specified,
// the default is 15s ... A value of 0 will disable the route's timeout"),
// retry_policy ("if this is set, it'll take precedence over the virtual
// host level retry policy entirely") and request_mirror_policies ("the
// most specific non-empty one becomes the mirror policies", runtime
// fraction as a percentage).
func TestTimeoutRetryMirror(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `
request_mirror_policies: [{cluster: global-shadow}]
virtual_hosts:
- name: vh
  domains: ["*"]
  retry_policy: {retry_on: connect-failure, num_retries: 2}
  routes:
  - {name: default, match: {path: /default}, route: {cluster: c}}
  - {name: zero, match: {path: /zero}, route: {cluster: c, timeout: 0s, retry_policy: {retry_on: 5xx, num_retries: 3}}}
  - name: mirrored
    match: {path: /mirrored}
    route:
      cluster: c
      timeout: 3s
      request_mirror_policies:
      - {cluster: shadow, runtime_fraction: {default_value: {numerator: 50000, denominator: MILLION}}}
      - {cluster_header: x-shadow}
- name: own
  domains: [own]
  request_mirror_policies: [{cluster: vhost-shadow, runtime_fraction: {default_value: {numerator: 5, denominator: HUNDRED}, runtime_key: shadow.pct}}]
  routes: [{name: r, match: {prefix: /}, route: {cluster: c}}]`)
	for _, tc := range []struct {
		req     *Request
		timeout time.Duration
		retryOn string
		mirrors []Mirror
	}{
		{get("h", "/default"), 15 * time.Second, "connect-failure", []Mirror{{"global-shadow", 100}}},
		{get("h", "/zero"), 0, "5xx", []Mirror{{"global-shadow", 100}}},
		{get("h", "/mirrored", "x-shadow", "audit"), 3 * time.Second, "connect-failure", []Mirror{{"shadow", 5}, {"audit", 100}}},
		{get("h", "/mirrored"), 3 * time.Second, "connect-failure", []Mirror{{"shadow", 5}}},
		{get("own", "/"), 15 * time.Second, "", []Mirror{{"vhost-shadow", 5}}},
		{&Request{Authority: "own", Path: "/", Runtime: map[string]uint64{"shadow.pct": 20}}, 15 * time.Second, "", []Mirror{{"vhost-shadow", 20}}},
	} {
		res := r.Route(tc.req)
		got := fmt.Sprintf("%v %q %v", res.Timeout, res.Retry.GetRetryOn(), res.Mirrors)
		want := fmt.Sprintf("%v %q %v", tc.timeout, tc.retryOn, tc.mirrors)
		if got != want {
			t.Errorf("%s: got %s, want %s", tc.req.Path, got, want)
		}
	}
}

// TestNonForwardingAction: the route matches, but the router itself has
// nothing to forward to and answers 404.
func TestNonForwardingAction(t *testing.T) {
	t.Parallel()
	res := withRoute(t, `{name: r, match: {prefix: /}, non_forwarding_action: {}}`).Route(get("h", "/"))
	if res.Route != "r" || res.Action != NoRoute || res.Status != 404 || len(res.Notes) != 1 {
		t.Errorf("got %q %s %d %v", res.Route, res.Action, res.Status, res.Notes)
	}
}
