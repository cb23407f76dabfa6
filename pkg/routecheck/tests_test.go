package routecheck

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgectl/edgectl/pkg/routesim"
)

func ptr[T any](v T) *T { return &v }

// TestParseTestsEveryField reads a file that sets every field of the
// format, in YAML and in JSON, with proto and lowerCamelCase names.
func TestParseTestsEveryField(t *testing.T) {
	t.Parallel()
	yamlFile := `
runtime:
  re2.max_program_size.error_level: 200
tests:
- test_name: every field
  input:
    authority: shop.example.com
    path: /a?b=1
    method: POST
    random_value: 18446744073709551615
    ssl: true
    internal: true
    runtime: shop.beta
    additional_request_headers:
    - {key: x-a, value: "1"}
    additional_response_headers:
    - {key: server, value: upstream}
  validate:
    cluster_name: web
    virtual_cluster_name: other
    virtual_host_name: shop
    host_rewrite: shop.internal
    path_rewrite: /v1/a?b=1
    path_redirect: ""
    code_redirect: 0
    request_header_matches:
    - name: x-a
      string_match: {exact: "1", ignore_case: true}
    response_header_matches:
    - {name: server, present_match: false}
    request_header_fields:
    - {key: x-a, value: "1"}
    response_header_fields:
    - {key: server, value: ""}
- testName: camel
  input: {authority: a, path: /, method: GET, randomValue: "7", additionalRequestHeaders: [{key: k, value: v}]}
  validate: {clusterName: c, codeRedirect: "301", requestHeaderMatches: [{name: k, stringMatch: {prefix: v}}]}
`
	jsonFile := `{
  "runtime": {"re2.max_program_size.error_level": 200},
  "tests": [
    {
      "test_name": "every field",
      "input": {
        "authority": "shop.example.com", "path": "/a?b=1", "method": "POST",
        "random_value": "18446744073709551615", "ssl": true, "internal": true, "runtime": "shop.beta",
        "additional_request_headers": [{"key": "x-a", "value": "1"}],
        "additional_response_headers": [{"key": "server", "value": "upstream"}]
      },
      "validate": {
        "cluster_name": "web", "virtual_cluster_name": "other", "virtual_host_name": "shop",
        "host_rewrite": "shop.internal", "path_rewrite": "/v1/a?b=1", "path_redirect": "", "code_redirect": 0,
        "request_header_matches": [{"name": "x-a", "string_match": {"exact": "1", "ignore_case": true}}],
        "response_header_matches": [{"name": "server", "present_match": false}],
        "request_header_fields": [{"key": "x-a", "value": "1"}],
        "response_header_fields": [{"key": "server", "value": ""}]
      }
    },
    {
      "testName": "camel",
      "input": {"authority": "a", "path": "/", "method": "GET", "randomValue": 7, "additionalRequestHeaders": [{"key": "k", "value": "v"}]},
      "validate": {"clusterName": "c", "codeRedirect": 301, "requestHeaderMatches": [{"name": "k", "stringMatch": {"prefix": "v"}}]}
    }
  ]
}`
	want := &Suite{
		Runtime: map[string]string{"re2.max_program_size.error_level": "200"},
		Tests: []Test{{
			Name: "every field",
			Input: Input{
				Authority: "shop.example.com", Path: "/a?b=1", Method: "POST",
				RandomValue: 18446744073709551615, SSL: true, Internal: true, Runtime: "shop.beta",
				RequestHeaders:  []routesim.Header{{Name: "x-a", Value: "1"}},
				ResponseHeaders: []routesim.Header{{Name: "server", Value: "upstream"}},
			},
			Want: Want{
				ClusterName: ptr("web"), VirtualClusterName: ptr("other"), VirtualHostName: ptr("shop"),
				HostRewrite: ptr("shop.internal"), PathRewrite: ptr("/v1/a?b=1"), PathRedirect: ptr(""),
				CodeRedirect: ptr(uint32(0)),
				RequestHeaderMatches: []*routev3.HeaderMatcher{{
					Name: "x-a",
					HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "1"}, IgnoreCase: true,
					}},
				}},
				ResponseHeaderMatches: []*routev3.HeaderMatcher{{
					Name: "server", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: false},
				}},
				RequestHeaderFields:  []routesim.Header{{Name: "x-a", Value: "1"}},
				ResponseHeaderFields: []routesim.Header{{Name: "server", Value: ""}},
			},
		}, {
			Name:  "camel",
			Input: Input{Authority: "a", Path: "/", Method: "GET", RandomValue: 7, RequestHeaders: []routesim.Header{{Name: "k", Value: "v"}}},
			Want: Want{
				ClusterName: ptr("c"), CodeRedirect: ptr(uint32(301)),
				RequestHeaderMatches: []*routev3.HeaderMatcher{{
					Name: "k",
					HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "v"},
					}},
				}},
			},
		}},
	}
	for name, src := range map[string]string{"tests.yaml": yamlFile, "tests.json": jsonFile} {
		got, problems := ParseTests(name, []byte(src))
		if len(problems) > 0 {
			t.Fatalf("%s: %v", name, problems)
		}
		for i := range got.Tests {
			got.Tests[i].Pos = want.Tests[i].Pos
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestParseTestsProblems: every problem is a finding at its line and
// column, naming the field; a file with any problem gives no suite.
func TestParseTestsProblems(t *testing.T) {
	t.Parallel()
	const ok = "{authority: a, path: /, method: GET}"
	item := func(input, validate string) string {
		return "tests:\n- test_name: t\n  input: " + input + "\n  validate: " + validate + "\n"
	}
	cases := []struct {
		name, file string
		want       []string
	}{
		{"empty", "", []string{"t.yaml: error: the test file is empty: it needs a list of tests"}},
		{"bad yaml", "tests: [\n", []string{"t.yaml:1:8: error: this [ is never closed; close it with ] [yaml]"}},
		{"two documents", "tests: []\n---\ntests: []\n", []string{"t.yaml:3:1: error: a second YAML document: the file must hold one"}},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ntests: *f\n",
			[]string{"t.yaml:6:44: error: aliases here expand to more than 1000000 values (an alias bomb); edgectl refuses documents that large [yaml]"}},
		{"old format", "- test_name: t\n  input: {':authority': a, ':path': /}\n  validate: {cluster_name: c}\n",
			[]string{`t.yaml:1:1: error: the test file is a list, router_check_tool's old format; put the tests under "tests", with "input" and "validate" as Envoy's current format has them`}},
		{"not an object", "7\n", []string{"t.yaml:1:1: error: the test file must be an object with the fields tests, runtime"}},
		{"no tests", "runtime: {}\n", []string{`t.yaml:1:1: error: "tests" is missing: the test file needs at least one test`}},
		{"zero tests", "tests: []\n", []string{"t.yaml:1:8: error: tests: the test file needs at least one test"}},
		{"tests not a list", "tests: {}\n", []string{"t.yaml:1:8: error: tests must be a list"}},
		{"unknown top field", "tests: []\ntest: []\n", []string{
			"t.yaml:1:8: error: tests: the test file needs at least one test",
			`t.yaml:2:1: error: the test file: unknown field "test" (did you mean "tests"?)`,
		}},
		{"runtime not a map", "runtime: [a]\ntests: []\n", []string{
			"t.yaml:1:10: error: runtime must be an object of runtime keys and values",
			"t.yaml:2:8: error: tests: the test file needs at least one test",
		}},
		{"missing parts", "tests:\n- {}\n", []string{
			`t.yaml:2:3: error: tests[0]: "input" is missing`,
			`t.yaml:2:3: error: tests[0]: "test_name" is missing`,
			`t.yaml:2:3: error: tests[0]: "validate" is missing`,
		}},
		{"empty name", "tests:\n- test_name: ''\n  input: " + ok + "\n  validate: {}\n",
			[]string{"t.yaml:2:14: error: tests[0].test_name must not be empty"}},
		{"name not a string", "tests:\n- test_name: 12\n  input: " + ok + "\n  validate: {}\n",
			[]string{"t.yaml:2:14: error: tests[0].test_name must be a string"}},
		{"null is unset", "tests:\n- test_name: t\n  input: {authority: a, path: /, method: ~}\n  validate: {cluster_name: null}\n",
			[]string{`t.yaml:3:10: error: tests[0].input: "method" is missing`}},
		{"input required", item("{ssl: true}", "{}"), []string{
			`t.yaml:3:10: error: tests[0].input: "authority" is missing`,
			`t.yaml:3:10: error: tests[0].input: "method" is missing`,
			`t.yaml:3:10: error: tests[0].input: "path" is missing`,
		}},
		{"short values", item("{authority: '', path: '', method: GE}", "{}"), []string{
			"t.yaml:3:22: error: tests[0].input.authority must be at least 1 characters long",
			"t.yaml:3:32: error: tests[0].input.path must be at least 1 characters long",
			"t.yaml:3:44: error: tests[0].input.method must be at least 3 characters long",
		}},
		{"input types", item("{authority: a, path: /, method: GET, ssl: yes, internal: 1, random_value: -1, runtime: [x]}", "{}"), []string{
			"t.yaml:3:52: error: tests[0].input.ssl must be true or false",
			"t.yaml:3:67: error: tests[0].input.internal must be true or false",
			"t.yaml:3:84: error: tests[0].input.random_value must be an integer from 0 to 18446744073709551615",
			"t.yaml:3:97: error: tests[0].input.runtime must be a string",
		}},
		{"old input fields", item("{':authority': a, authority: a, path: /, method: GET, additional_headers: []}", "{}"), []string{
			`t.yaml:3:11: error: tests[0].input: ":authority" is from an older format of router_check_tool; Envoy now reads "authority"`,
			`t.yaml:3:64: error: tests[0].input: "additional_headers" is from an older format of router_check_tool; Envoy now reads "additional_request_headers"`,
		}},
		{"dynamic metadata", item("{authority: a, path: /, method: GET, dynamic_metadata: [{metadata_namespace: m}]}", "{}"), []string{
			"t.yaml:3:65: error: tests[0].input.dynamic_metadata: routecheck does not simulate dynamic metadata; test such routes with Envoy's router_check_tool",
		}},
		{"duplicate field", item(ok, "{cluster_name: a, clusterName: b}"),
			[]string{`t.yaml:4:31: error: tests[0].validate: "cluster_name" is given twice`}},
		{"unknown field", item(ok, "{cluster: a, virtual_host: b}"), []string{
			`t.yaml:4:14: error: tests[0].validate: unknown field "cluster"`,
			`t.yaml:4:26: error: tests[0].validate: unknown field "virtual_host"`,
		}},
		{"typo", item(ok, "{clustr_name: a}"),
			[]string{`t.yaml:4:14: error: tests[0].validate: unknown field "clustr_name" (did you mean "cluster_name"?)`}},
		{"old validate fields", item(ok, "{header_fields: [], custom_header_fields: []}"), []string{
			`t.yaml:4:14: error: tests[0].validate: "header_fields" is from an older format of router_check_tool; Envoy now reads "request_header_matches"`,
			`t.yaml:4:33: error: tests[0].validate: "custom_header_fields" is from an older format of router_check_tool; Envoy now reads "request_header_matches"`,
		}},
		{"validate types", item(ok, "{cluster_name: 5, code_redirect: 4294967296, path_redirect: [a]}"), []string{
			"t.yaml:4:28: error: tests[0].validate.cluster_name must be a string",
			"t.yaml:4:46: error: tests[0].validate.code_redirect must be an integer from 0 to 4294967295",
			"t.yaml:4:73: error: tests[0].validate.path_redirect must be a string",
		}},
		{"validate not an object", item(ok, "[]"), []string{
			"t.yaml:4:13: error: tests[0].validate must be an object with the fields cluster_name, virtual_cluster_name, virtual_host_name, host_rewrite, path_rewrite, path_redirect, code_redirect, request_header_matches, response_header_matches, request_header_fields, response_header_fields",
		}},
		{"header value", item("{authority: a, path: /, method: GET, additional_request_headers: [{key: x, valu: y}, {key: '', value: z}, 3]}", "{}"), []string{
			`t.yaml:3:85: error: tests[0].input.additional_request_headers[0]: unknown field "valu"`,
			"t.yaml:3:101: error: tests[0].input.additional_request_headers[1].key: value length must be at least 1 runes",
			"t.yaml:3:116: error: tests[0].input.additional_request_headers[2] must be an object",
		}},
		{"header matchers", `tests:
- test_name: t
  input: {authority: a, path: /, method: GET}
  validate:
    request_header_matches:
    - name: x
      safe_regex_match: {regex: "a("}
    - name: x
      exact_match: a
      prefix_match: b
    - name: x
      string_match: {}
    response_header_matches: {name: x}
`, []string{
			"t.yaml:6:7: error: tests[0].validate.request_header_matches[0]: invalid regular expression \"a(\": error parsing regexp: missing closing ): `a(`",
			`t.yaml:10:7: error: tests[0].validate.request_header_matches[1]: error parsing "prefix_match", oneof envoy.config.route.v3.HeaderMatcher.header_match_specifier is already set`,
			"t.yaml:12:21: error: tests[0].validate.request_header_matches[2].string_match.match_pattern: value is required",
			"t.yaml:13:30: error: tests[0].validate.response_header_matches must be a list",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, problems := ParseTests("t.yaml", []byte(tc.file))
			if s != nil {
				t.Errorf("got a suite despite problems")
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseTestsAliases: YAML anchors and aliases work, as in Envoy.
func TestParseTestsAliases(t *testing.T) {
	t.Parallel()
	src := `
common: &shop {authority: shop.example.com, path: /, method: GET}
`
	if _, problems := ParseTests("t.yaml", []byte(src)); len(problems) == 0 || !strings.Contains(problems[0].Message, `unknown field "common"`) {
		t.Fatalf("a key outside the format must be refused, got %v", problems)
	}
	src = `
tests:
- test_name: a
  input: &shop {authority: shop.example.com, path: /, method: GET}
  validate: {cluster_name: web}
- test_name: b
  input: *shop
  validate:
    request_header_fields: &h [{key: x, value: y}]
    response_header_fields: *h
`
	s, problems := ParseTests("t.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if s.Tests[1].Input.Authority != "shop.example.com" || len(s.Tests[1].Want.ResponseHeaderFields) != 1 {
		t.Errorf("aliases not followed: %+v", s.Tests[1])
	}
}
