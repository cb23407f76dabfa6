package routesim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseURL: the scheme, the authority as written and the path with
// its query; http and "/" by default; an https client sends the host name
// as SNI, never an IP literal.
func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, url string
		want        *Request
	}{
		{"", "https://api.acme.io/v1/orders?id=7", &Request{Scheme: "https", Authority: "api.acme.io", Method: "GET", Path: "/v1/orders?id=7", SNI: "api.acme.io"}},
		{"POST", "https://API.acme.io:8443", &Request{Scheme: "https", Authority: "API.acme.io:8443", Method: "POST", Path: "/", SNI: "API.acme.io"}},
		{"GET", "api.acme.io:8080/x", &Request{Scheme: "http", Authority: "api.acme.io:8080", Method: "GET", Path: "/x"}},
		{"GET", "HTTP://h?q=1#frag", &Request{Scheme: "http", Authority: "h", Method: "GET", Path: "/?q=1"}},
		{"GET", "//h/a", &Request{Scheme: "http", Authority: "h", Method: "GET", Path: "/a"}},
		{"GET", "https://user:pw@h/a", &Request{Scheme: "https", Authority: "h", Method: "GET", Path: "/a", SNI: "h"}},
		{"GET", "https://10.0.0.1:8443/", &Request{Scheme: "https", Authority: "10.0.0.1:8443", Method: "GET", Path: "/"}},
		{"GET", "https://[::1]:8443/", &Request{Scheme: "https", Authority: "[::1]:8443", Method: "GET", Path: "/"}},
		{"GET", "http://h/a%20b/../c", &Request{Scheme: "http", Authority: "h", Method: "GET", Path: "/a%20b/../c"}},
	} {
		got, err := ParseURL(tc.method, tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.url, diff)
		}
	}
	for _, bad := range []string{"ftp://h/", "http:///x", "", "https://"} {
		if _, err := ParseURL("GET", bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
