package routesim

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseURL makes a request from a URL as a user writes it
// ("https://api.acme.io/v1/orders?id=7"): the scheme, the authority as
// written (port included) and the path with its query. A URL without a
// scheme is http; without a path, "/". The method defaults to GET. User
// information before "@" and a fragment are dropped, and an https URL to
// a host name sends that name as SNI, as a client does.
func ParseURL(method, raw string) (*Request, error) {
	scheme, rest := "http", strings.TrimSpace(raw)
	if i := strings.Index(rest, "://"); i >= 0 && !strings.ContainsAny(rest[:i], "/?#") {
		scheme, rest = strings.ToLower(rest[:i]), rest[i+3:]
	} else if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("parse url %q: scheme %q is not http or https", raw, scheme)
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, path := rest[:end], rest[end:]
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if authority == "" {
		return nil, fmt.Errorf("parse url %q: no host", raw)
	}
	if strings.ContainsAny(authority, " \t") {
		return nil, fmt.Errorf("parse url %q: invalid host %q", raw, authority)
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if method == "" {
		method = "GET"
	}
	req := &Request{Scheme: scheme, Authority: authority, Method: method, Path: path}
	if scheme == "https" {
		host := authority
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
			req.SNI = strings.TrimSuffix(host, ".")
		}
	}
	return req, nil
}
