package routesim

import (
	"strings"
	"testing"
)

// vhosts are one virtual host per domain form, each with one route named
// after the virtual host.
const vhosts = `
name: domains
virtual_hosts:
- {name: exact, domains: [www.foo.com], routes: [{name: r, match: {prefix: /}, route: {cluster: exact}}]}
- {name: suffix, domains: ["*.foo.com"], routes: [{name: r, match: {prefix: /}, route: {cluster: suffix}}]}
- {name: longer-suffix, domains: ["*-bar.foo.com"], routes: [{name: r, match: {prefix: /}, route: {cluster: longer}}]}
- {name: prefix, domains: ["foo.*"], routes: [{name: r, match: {prefix: /}, route: {cluster: prefix}}]}
- {name: longer-prefix, domains: ["foo.bar.*"], routes: [{name: r, match: {prefix: /}, route: {cluster: longer-prefix}}]}
- {name: any, domains: ["*"], routes: [{name: r, match: {prefix: /}, route: {cluster: any}}]}
- {name: ported, domains: ["api.foo.com:8443"], routes: [{name: r, match: {prefix: /}, route: {cluster: ported}}]}
`

// TestDomainSearchOrder encodes VirtualHost.domains: "Domain search order:
// 1. exact domain names, 2. suffix domain wildcards, 3. prefix domain
// wildcards, 4. the special wildcard *. The wildcard will not match the
// empty string. The longest wildcards match first." Host names are case
// insensitive.
func TestDomainSearchOrder(t *testing.T) {
	t.Parallel()
	r := newRouter(t, vhosts)
	for _, tc := range []struct{ host, want string }{
		{"www.foo.com", "exact"},
		{"WWW.Foo.COM", "exact"},
		{"api.foo.com", "suffix"},
		{"a.b.foo.com", "suffix"},
		// *-bar.foo.com is longer than *.foo.com, so it wins.
		{"baz-bar.foo.com", "longer-suffix"},
		// The wildcard does not match the empty string.
		{"-bar.foo.com", "suffix"},
		{".foo.com", "any"},
		// A suffix wildcard beats a prefix wildcard.
		{"foo.foo.com", "suffix"},
		{"foo.org", "prefix"},
		{"foo.bar.org", "longer-prefix"},
		{"foo.", "any"},
		{"example.org", "any"},
	} {
		res := r.Route(get(tc.host, "/"))
		if res.VirtualHost != tc.want {
			t.Errorf("%s: virtual host %q, want %q", tc.host, res.VirtualHost, tc.want)
		}
	}
}

// TestHostPortMatchedAsWritten encodes the HCM's strip_any_host_port and
// strip_matching_host_port: "Without setting this option, incoming
// requests with host example:443 will not match against route with domains
// match set to example", and RouteConfiguration.ignore_port_in_host_matching,
// which ignores the port when selecting the virtual host.
func TestHostPortMatchedAsWritten(t *testing.T) {
	t.Parallel()
	r := newRouter(t, vhosts)
	for _, tc := range []struct{ host, want string }{
		// The port is part of the host: neither the exact domain nor the
		// suffix wildcard match...
		{"www.foo.com:443", "any"},
		// ...unless written with the port.
		{"api.foo.com:8443", "ported"},
		// A prefix wildcard takes any port.
		{"foo.org:8080", "prefix"},
	} {
		if got := r.Route(get(tc.host, "/")).VirtualHost; got != tc.want {
			t.Errorf("%s: virtual host %q, want %q", tc.host, got, tc.want)
		}
	}
	ignore := newRouter(t, vhosts+"ignore_port_in_host_matching: true\n")
	if got := ignore.Route(get("www.foo.com:443", "/")).VirtualHost; got != "exact" {
		t.Errorf("ignore_port_in_host_matching: virtual host %q, want exact", got)
	}
	for _, tc := range []struct {
		mode stripPort
		host string
		want string
	}{
		{stripAnyPort, "www.foo.com:9999", "exact"},
		{stripMatchingPort, "www.foo.com:443", "exact"},
		{stripMatchingPort, "www.foo.com:8443", "any"},
		{keepPort, "www.foo.com:443", "any"},
	} {
		res, _ := r.route(get(tc.host, "/"), &hcm{stripPort: tc.mode}, 443, false)
		if res.VirtualHost != tc.want {
			t.Errorf("strip mode %d, %s: virtual host %q, want %q", tc.mode, tc.host, res.VirtualHost, tc.want)
		}
	}
}

// TestRouteWithoutAuthority: Envoy routes a request without :authority
// only when "*" is the configuration's only domain.
func TestRouteWithoutAuthority(t *testing.T) {
	t.Parallel()
	only := newRouter(t, `
virtual_hosts:
- {name: any, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}`)
	if got := only.Route(get("", "/")).VirtualHost; got != "any" {
		t.Errorf("only *: virtual host %q, want any", got)
	}
	if got := newRouter(t, vhosts).Route(get("", "/")); got.VirtualHost != "" || got.Status != 404 {
		t.Errorf("no authority: %s %d, want no virtual host and 404", got.VirtualHost, got.Status)
	}
}

// TestNewRouterRefusesDomains encodes "A domain must be unique across all
// virtual hosts or the config will fail to load" and "Only a single
// virtual host in the entire route configuration can match on *"; domains
// are compared lowercase. A domain with two wildcards cannot be matched
// as written and is refused too.
func TestNewRouterRefusesDomains(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, domains, want string }{
		{"duplicate exact", `[a.com] | [a.com]`, `domain "a.com" is already used`},
		{"duplicate in any case", `[A.com] | [a.COM]`, `domain "a.com" is already used`},
		{"two stars", `["*"] | ["*"]`, `domain "*" is already used`},
		{"duplicate suffix", `["*.a.com"] | ["*.a.com"]`, `domain "*.a.com" is already used`},
		{"duplicate prefix", `["a.*"] | ["a.*"]`, `domain "a.*" is already used`},
		{"same vhost twice", `[a.com, a.com] | [b.com]`, `domain "a.com" is already used`},
		{"two wildcards", `["*.a.*"] | [b.com]`, `more than one wildcard`},
	} {
		d := strings.SplitN(tc.domains, " | ", 2)
		_, err := NewRouter(routeConfig(t, `
virtual_hosts:
- {name: one, domains: `+d[0]+`, routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: two, domains: `+d[1]+`, routes: [{match: {prefix: /}, route: {cluster: c}}]}`))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
