package routecheck

import (
	"os"
	"testing"
)

// FuzzParseTests: any input gives a suite or findings, never both, never
// a panic; a suite always has tests with the required fields.
func FuzzParseTests(f *testing.F) {
	f.Add([]byte("tests:\n- test_name: t\n  input: {authority: a, path: /, method: GET}\n  validate: {cluster_name: c, request_header_matches: [{name: x, present_match: true}]}\n"))
	f.Add([]byte(`{"tests": [{"test_name": "t", "input": {"authority": "a", "path": "/", "method": "GET", "random_value": "3"}, "validate": {"code_redirect": 301}}]}`))
	f.Add([]byte("- {test_name: t}\n"))
	f.Add([]byte("tests: [&a {test_name: *a}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, problems := ParseTests("t.yaml", data)
		if (s == nil) == (len(problems) == 0) {
			t.Fatalf("suite %v with problems %v", s != nil, problems)
		}
		if s == nil {
			return
		}
		for _, tc := range s.Tests {
			if tc.Name == "" || tc.Input.Authority == "" || tc.Input.Path == "" || len(tc.Input.Method) < 3 {
				t.Fatalf("accepted an incomplete test: %+v", tc)
			}
		}
	})
}

// FuzzLoadRoutes: any input loads or gives findings, never a panic.
func FuzzLoadRoutes(f *testing.F) {
	if data, err := os.ReadFile("testdata/shop.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"resources": [{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "a"}]}`))
	f.Add([]byte("name: a\nvirtual_hosts: [{name: b, domains: ['*'], routes: [{match: {safe_regex: {regex: 'a('}}, route: {cluster: c}}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rt, problems := LoadRoutes("r.yaml", data)
		if (rt == nil) == (len(problems) == 0) {
			t.Fatalf("routes %v with problems %v", rt != nil, problems)
		}
	})
}
