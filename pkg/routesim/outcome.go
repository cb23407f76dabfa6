package routesim

import (
	"fmt"
	"strings"
)

// Outcome says in one line what happens to a request, for comparing two
// versions and for people: where it goes (with the split), or what Envoy
// answers, and the rewrites that reach the upstream. Two results with the
// same outcome treat the request the same way as far as a reviewer cares;
// header and timeout changes are shown by the diff's own route section.
func (r *Result) Outcome(req *Request) string {
	var b strings.Builder
	switch r.Action {
	case Forward:
		if len(r.Weights) > 1 {
			var total uint64
			for _, w := range r.Weights {
				total += uint64(w.Weight)
			}
			for i, w := range r.Weights {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s %s", w.Cluster, percent(uint64(w.Weight), total))
			}
		} else {
			b.WriteString(r.Cluster)
		}
		if req != nil && r.Path != "" && r.Path != pathOr(req.Path) {
			fmt.Fprintf(&b, " as %s", r.Path)
		}
		if req != nil && r.Host != "" && !strings.EqualFold(Host(r.Host), Host(req.Authority)) {
			fmt.Fprintf(&b, " host %s", r.Host)
		}
	case Redirect:
		fmt.Fprintf(&b, "%d redirect to %s", r.Status, r.Location)
	case DirectResponse:
		fmt.Fprintf(&b, "%d direct response", r.Status)
		if r.Body != "" {
			fmt.Fprintf(&b, " %q", truncate(r.Body, 40))
		}
	case NoRoute:
		b.WriteString("404 no route")
	case NoListener:
		b.WriteString("connection closed (no listener or filter chain takes it)")
	}
	return b.String()
}

func pathOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func percent(w, total uint64) string {
	if total == 0 {
		return "0%"
	}
	if w*100%total == 0 {
		return fmt.Sprintf("%d%%", w*100/total)
	}
	return fmt.Sprintf("%.1f%%", float64(w)*100/float64(total))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// String renders a request as a person writes it: method, URL, then the
// headers that matter.
func (req *Request) String() string {
	scheme := req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	var b strings.Builder
	method := req.Method
	if method == "" {
		method = "GET"
	}
	fmt.Fprintf(&b, "%s %s://%s%s", method, scheme, req.Authority, pathOr(req.Path))
	for _, h := range req.Headers {
		fmt.Fprintf(&b, " -H '%s: %s'", h.Name, h.Value)
	}
	return b.String()
}

// Host is an authority without its port (and an IPv6 address without its
// brackets). A port Envoy strips on the way (strip_any_host_port) changes
// nothing a reviewer cares about, and TLS's server name has none.
func Host(authority string) string {
	if i := portStart(authority); i >= 0 {
		authority = authority[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(authority, "["), "]")
}
