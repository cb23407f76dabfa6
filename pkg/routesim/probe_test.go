package routesim

import (
	"regexp"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestRegexSampleMatchesWholeExpression(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		`/v[0-9]+/orders/[a-f0-9]{8}`,
		`/(api|www)/.*`,
		`/users/\d+/?`,
		`(?i)/CaSe`,
		`/a|/b`,
		`/x[^/]+y`,
		`^/anchored$`,
		`/files/[[:alpha:]]{3}\.txt`,
	} {
		s, ok := regexSample(expr)
		if !ok {
			t.Errorf("%s: no sample", expr)
			continue
		}
		if !regexp.MustCompile(`^(?:` + expr + `)$`).MatchString(s) {
			t.Errorf("%s: sample %q does not match", expr, s)
		}
	}
	for _, expr := range []string{`[^\x00-\x{10FFFF}]`, `(`} {
		if s, ok := regexSample(expr); ok {
			t.Errorf("%s: sample %q for an expression that matches nothing or does not parse", expr, s)
		}
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		domains []string
		route   string
		want    string // method authority path headers
		ok      bool
	}{
		{"prefix", []string{"api.example.com"}, `{"match":{"prefix":"/v1/"}}`, "GET api.example.com /v1/ []", true},
		{"exact path and method", []string{"*.example.com", "pay.example.com"},
			`{"match":{"path":"/charge","headers":[{"name":":method","string_match":{"exact":"POST"}}]}}`,
			"POST pay.example.com /charge []", true},
		{"suffix wildcard host", []string{"*.example.com"}, `{"match":{"prefix":"/"}}`, "GET probe.example.com / []", true},
		{"catch-all host", []string{"*"}, `{"match":{"prefix":"/"}}`, "GET any.example / []", true},
		{"headers and query", []string{"a.io"},
			`{"match":{"prefix":"/","headers":[{"name":"x-beta","string_match":{"exact":"true"}},{"name":"x-gone","present_match":true,"invert_match":true},{"name":"x-v","string_match":{"prefix":"v"}}],"query_parameters":[{"name":"debug","present_match":true},{"name":"id","string_match":{"exact":"7"}}]}}`,
			"GET a.io /?debug=1&id=7 [{x-beta true} {x-v vx}]", true},
		{"regex path", []string{"a.io"}, `{"match":{"safe_regex":{"regex":"/v[0-9]+/x"}}}`, "GET a.io /v0/x []", true},
		{"grpc", []string{"a.io"}, `{"match":{"prefix":"/pkg.Svc/","grpc":{}}}`, "POST a.io /pkg.Svc/ [{content-type application/grpc}]", true},
		{"connect cannot be probed", []string{"a.io"}, `{"match":{"connect_matcher":{}}}`, "", false},
		{"inverted match on missing-as-empty cannot be probed", []string{"a.io"},
			`{"match":{"prefix":"/","headers":[{"name":"x","string_match":{"exact":""},"invert_match":true,"treat_missing_header_as_empty":true}]}}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &routev3.Route{}
			if err := protojson.Unmarshal([]byte(tc.route), r); err != nil {
				t.Fatal(err)
			}
			req, ok := Probe(&routev3.VirtualHost{Domains: tc.domains}, r)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			got := req.Method + " " + req.Authority + " " + req.Path + " " + headersString(req.Headers)
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func headersString(hs []Header) string {
	s := "["
	for i, h := range hs {
		if i > 0 {
			s += " "
		}
		s += "{" + h.Name + " " + h.Value + "}"
	}
	return s + "]"
}
