package routesim

import (
	"strings"
)

// view is a request as Envoy's router sees it: after the connection
// manager's normalisation, with the internal-only headers of an external
// request hidden. It is built once per request and read by every matcher.
type view struct {
	req       *Request
	method    string
	scheme    string
	authority string
	// upstreamAuthority is the Host that goes upstream unless rewritten.
	upstreamAuthority string
	// path is :path with its query ("" for a CONNECT without one); hasPath
	// says whether the request has a :path at all.
	path    string
	hasPath bool
	// pathOnly is path without query and fragment; matchPath is pathOnly
	// as path matchers see it (without path parameters when the route
	// configuration ignores them).
	pathOnly, matchPath string
	hidden              []string
	// escaped is set when the path had escaped slashes (%2F, %5C).
	escaped bool

	queryDone, cookiesDone bool
	query, cookies         []param
}

type param struct{ name, value string }

// header returns the value of a request header as Envoy's header matchers
// read it: pseudo-headers from the request line, several values joined
// with ",". Names are lowercase.
func (v *view) header(name string) (string, bool) {
	if len(name) > 0 && name[0] == ':' {
		switch name {
		case ":method":
			return v.method, true
		case ":path":
			return v.path, v.hasPath
		case ":authority":
			return v.authority, v.authority != ""
		case ":scheme":
			return v.scheme, v.scheme != ""
		}
		return "", false
	}
	if name == "host" {
		// Envoy keeps the HTTP/1 Host header as :authority only.
		return "", false
	}
	first, n := -1, 0
	for i := range v.req.Headers {
		h := &v.req.Headers[i]
		if !equalFoldASCII(h.Name, name) || v.isHidden(name) {
			continue
		}
		if first < 0 {
			first = i
		}
		n++
	}
	switch {
	case n == 1:
		return v.req.Headers[first].Value, true
	case n > 1:
		var b strings.Builder
		for i := first; i < len(v.req.Headers); i++ {
			h := &v.req.Headers[i]
			if !equalFoldASCII(h.Name, name) {
				continue
			}
			if i > first {
				b.WriteByte(',')
			}
			b.WriteString(h.Value)
		}
		return b.String(), true
	}
	// Headers the connection manager sets before routing.
	switch name {
	case "x-forwarded-proto":
		return v.scheme, v.scheme != ""
	case "x-envoy-internal":
		if v.req.Internal {
			return "true", true
		}
	}
	return "", false
}

// firstHeader is the first value of a header, for the options Envoy
// documents as reading only the first (cluster_header,
// host_rewrite_header).
func (v *view) firstHeader(name string) (string, bool) {
	if name == "host" || (len(name) > 0 && name[0] == ':') {
		return v.header(name)
	}
	if v.isHidden(name) {
		return "", false
	}
	for _, h := range v.req.Headers {
		if equalFoldASCII(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

func (v *view) isHidden(name string) bool {
	for _, h := range v.hidden {
		if h == name {
			return true
		}
	}
	return false
}

// queryParam returns the first value of a query parameter. Like Envoy,
// names and values are compared as sent, without percent-decoding.
func (v *view) queryParam(name string) (string, bool) {
	if !v.queryDone {
		v.queryDone = true
		if i := strings.IndexByte(v.path, '?'); i >= 0 {
			v.query = parseParams(v.query, v.path[i+1:], '&', false)
		}
	}
	for _, p := range v.query {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// cookie returns the value of a cookie from the Cookie headers, the first
// one of that name.
func (v *view) cookie(name string) (string, bool) {
	if !v.cookiesDone {
		v.cookiesDone = true
		for _, h := range v.req.Headers {
			if equalFoldASCII(h.Name, "cookie") && !v.isHidden("cookie") {
				v.cookies = parseParams(v.cookies, h.Value, ';', true)
			}
		}
	}
	for _, p := range v.cookies {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// parseParams splits name=value pairs. Cookies are trimmed and lose the
// quotes around their values.
func parseParams(out []param, s string, sep byte, cookie bool) []param {
	for s != "" {
		var kv string
		if i := strings.IndexByte(s, sep); i >= 0 {
			kv, s = s[:i], s[i+1:]
		} else {
			kv, s = s, ""
		}
		if cookie {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
		}
		name, value, _ := strings.Cut(kv, "=")
		if cookie && len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		out = append(out, param{name, value})
	}
	return out
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func hasPrefixFoldASCII(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

func hasSuffixFoldASCII(s, suffix string) bool {
	return len(s) >= len(suffix) && equalFoldASCII(s[len(s)-len(suffix):], suffix)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// toLowerASCII lowercases ASCII letters only, as Envoy does for host names
// and case-insensitive matches; it does not allocate when s is lowercase.
func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

// removeQueryAndFragment is the path part of a :path.
func removeQueryAndFragment(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
