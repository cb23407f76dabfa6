package gatewayapi

import (
	"regexp"
	"slices"
	"strings"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/ir"
)

// defaultCORSMaxAge is how long a browser caches a preflight when the
// filter sets no maxAge: 5 seconds, the spec's default.
const defaultCORSMaxAge = 5 * time.Second

// cors lowers a rule's CORS filter onto the route's security rules, which
// Envoy's cors filter enforces per route.
func (l *lowerer) cors(ro *routeObj, ru *ruleObj, path []any, f *gwv1.HTTPCORSFilter) {
	at := func(p ...any) []any { return append(append(slices.Clone(path), "cors"), p...) }
	creds := f.AllowCredentials != nil && *f.AllowCredentials
	r := &ir.CORSRule{Credentials: creds,
		// The rule's first match stands for where the rule was set: its
		// position is kept, where the filter's would cost a parse.
		From: ir.Origin{Level: ir.LevelRoute, Name: ro.doc.Namespace + "/" + ro.doc.Name, Pos: ro.doc.origin(ru.index, 0), Team: ro.teamName}}
	// With credentials, the spec asks for the request's own method or
	// headers where the filter says "*"; Envoy's cors filter sends its
	// lists as written, so it cannot. It does echo the request's origin
	// (never "*"), which is what the spec asks of allowOrigins "*".
	star := func(field string, list []string) []string {
		if i := slices.Index(list, "*"); i >= 0 && creds {
			l.unsupported(ro, at(field, i), "%s \"*\" with allowCredentials: the spec then wants the request's own values echoed, which Envoy's cors filter does not do; list them", field)
		}
		return list
	}
	for i, o := range f.AllowOrigins {
		m, ok := corsOrigin(string(o))
		if !ok {
			l.unsupported(ro, at("allowOrigins", i), "%q is not an origin such as https://app.example.com or https://*.example.com", o)
			continue
		}
		r.Origins = append(r.Origins, m)
	}
	methods := make([]string, len(f.AllowMethods))
	for i, m := range f.AllowMethods {
		methods[i] = string(m)
	}
	r.Methods = sortedSet(star("allowMethods", methods))
	r.Headers = sortedSet(star("allowHeaders", lowerHeaderNames(f.AllowHeaders)))
	r.ExposeHeaders = sortedSet(star("exposeHeaders", lowerHeaderNames(f.ExposeHeaders)))
	age := defaultCORSMaxAge
	if f.MaxAge > 0 {
		age = time.Duration(f.MaxAge) * time.Second
	}
	r.MaxAge = &age
	ru.security().CORS = r
}

// corsOrigin turns an allowed origin of the spec into a match on the
// Origin header: "*" every origin; a host with "*" in it a regular
// expression, the "*" standing for one or more characters of the host
// (any number of labels to its left).
func corsOrigin(o string) (ir.StringMatch, bool) {
	if o == "*" {
		return ir.StringMatch{Kind: ir.MatchExact, Value: "*"}, true
	}
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || scheme != "http" && scheme != "https" || host == "" || strings.ContainsAny(host, "/?#@") {
		return ir.StringMatch{}, false
	}
	if !strings.Contains(host, "*") {
		return ir.StringMatch{Kind: ir.MatchExact, Value: o}, true
	}
	if strings.Count(host, "*") > 1 || !strings.HasPrefix(host, "*") {
		return ir.StringMatch{}, false
	}
	rest := host[1:]
	if rest == "" {
		// Every host of the scheme, on any port.
		return ir.StringMatch{Kind: ir.MatchRegex, Value: "^" + regexp.QuoteMeta(scheme+"://") + "[-a-zA-Z0-9.]+(:[0-9]+)?$"}, true
	}
	return ir.StringMatch{Kind: ir.MatchRegex, Value: "^" + regexp.QuoteMeta(scheme+"://") + "[-a-zA-Z0-9.]+" + regexp.QuoteMeta(rest) + "$"}, true
}

func lowerHeaderNames(names []gwv1.HTTPHeaderName) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(string(n))
	}
	return out
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
