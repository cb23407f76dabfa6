package routesim

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritemplatematchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
)

type pathKind uint8

const (
	pathPrefix pathKind = iota
	pathExact
	pathRegex
	pathSeparated
	pathTemplate
	pathConnect
)

// route is a compiled Route.
type route struct {
	index int
	name  string
	entry *routev3.Route

	pathKind pathKind
	// pathValue is the prefix or path as configured; fold marks a
	// case-insensitive match (case_sensitive: false).
	pathValue string
	fold      bool
	pathRE    *regexp.Regexp
	tmpl      *uriTemplate

	runtime   *fraction
	grpc      bool
	headers   []headerMatcher
	query     []queryMatcher
	cookies   []cookieMatcher
	presented *bool
	validated *bool
	// never says why the route can never match in the simulator (a
	// matcher on dynamic metadata or filter state).
	never string

	fwd      *forward
	redirect *redirect
	direct   *direct
	// nonForwarding is a non_forwarding_action route.
	nonForwarding bool

	reqHeaders  *headerOps
	respHeaders *headerOps
}

func compileRoute(i int, pr *routev3.Route, vh *vhost, maxBody uint32) (*route, error) {
	rt := &route{index: i, name: pr.GetName(), entry: pr}
	m := pr.GetMatch()
	if m == nil {
		return nil, fmt.Errorf("no match")
	}
	rt.fold = m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue()
	var err error
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		rt.pathKind, rt.pathValue = pathPrefix, p.Prefix
	case *routev3.RouteMatch_Path:
		rt.pathKind, rt.pathValue = pathExact, p.Path
	case *routev3.RouteMatch_SafeRegex:
		rt.pathKind, rt.pathValue = pathRegex, p.SafeRegex.GetRegex()
		if rt.pathRE, err = compileRegex(p.SafeRegex); err != nil {
			return nil, fmt.Errorf("safe_regex: %w", err)
		}
	case *routev3.RouteMatch_PathSeparatedPrefix:
		rt.pathKind, rt.pathValue = pathSeparated, p.PathSeparatedPrefix
	case *routev3.RouteMatch_ConnectMatcher_:
		rt.pathKind = pathConnect
	case *routev3.RouteMatch_PathMatchPolicy:
		cfg := &uritemplatematchv3.UriTemplateMatchConfig{}
		if err := p.PathMatchPolicy.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			return nil, fmt.Errorf("path_match_policy: only the uri_template extension is supported: %w", err)
		}
		if rt.tmpl, err = compileTemplate(cfg.GetPathTemplate()); err != nil {
			return nil, err
		}
		rt.pathKind, rt.pathValue = pathTemplate, cfg.GetPathTemplate()
	default:
		return nil, fmt.Errorf("no path specifier")
	}
	if rt.fold {
		rt.pathValue = toLowerASCII(rt.pathValue)
	}
	if f := m.GetRuntimeFraction(); f != nil {
		fr := compileFraction(f)
		rt.runtime = &fr
	}
	rt.grpc = m.GetGrpc() != nil
	for _, h := range m.GetHeaders() {
		hm, err := compileHeader(h)
		if err != nil {
			return nil, err
		}
		rt.headers = append(rt.headers, hm)
	}
	for _, q := range m.GetQueryParameters() {
		qm, err := compileQuery(q)
		if err != nil {
			return nil, err
		}
		rt.query = append(rt.query, qm)
	}
	for _, c := range m.GetCookies() {
		cm, err := compileCookie(c)
		if err != nil {
			return nil, err
		}
		rt.cookies = append(rt.cookies, cm)
	}
	if t := m.GetTlsContext(); t != nil {
		if t.GetPresented() != nil {
			b := t.GetPresented().GetValue()
			rt.presented = &b
		}
		if t.GetValidated() != nil {
			b := t.GetValidated().GetValue()
			rt.validated = &b
		}
	}
	switch {
	case len(m.GetDynamicMetadata()) > 0:
		rt.never = "dynamic_metadata matchers are not simulated; the route is taken as not matching"
	case len(m.GetFilterState()) > 0:
		rt.never = "filter_state matchers are not simulated; the route is taken as not matching"
	}
	for _, h := range rt.headers {
		if h.kind == hdrString && h.str.kind == strUnsupported && rt.never == "" {
			rt.never = fmt.Sprintf("header %q uses a custom string matcher, not simulated; the route is taken as not matching", h.name)
		}
	}
	if rt.reqHeaders, err = compileHeaderOps(pr.GetRequestHeadersToAdd(), pr.GetRequestHeadersToRemove()); err != nil {
		return nil, err
	}
	if rt.respHeaders, err = compileHeaderOps(pr.GetResponseHeadersToAdd(), pr.GetResponseHeadersToRemove()); err != nil {
		return nil, err
	}
	switch a := pr.GetAction().(type) {
	case *routev3.Route_Route:
		rt.fwd, err = compileForward(a.Route, rt, vh)
	case *routev3.Route_Redirect:
		rt.redirect, err = compileRedirect(a.Redirect, rt)
	case *routev3.Route_DirectResponse:
		rt.direct, err = compileDirect(a.DirectResponse, maxBody)
	case *routev3.Route_NonForwardingAction:
		rt.nonForwarding = true
	default:
		err = fmt.Errorf("no action")
	}
	if err != nil {
		return nil, err
	}
	return rt, nil
}

// matchPath tests the path specifier. Envoy matches prefix, path,
// path_separated_prefix and safe_regex against :path without its query
// string and fragment, and skips routes that need a path when a CONNECT
// request has none.
func (rt *route) matchPath(v *view) bool {
	if rt.pathKind == pathConnect {
		return v.method == "CONNECT"
	}
	if !v.hasPath {
		return false
	}
	p := v.matchPath
	switch rt.pathKind {
	case pathPrefix:
		if rt.fold {
			return hasPrefixFoldASCII(p, rt.pathValue)
		}
		return strings.HasPrefix(p, rt.pathValue)
	case pathExact:
		if rt.fold {
			return equalFoldASCII(p, rt.pathValue)
		}
		return p == rt.pathValue
	case pathRegex:
		return rt.pathRE.MatchString(p)
	case pathSeparated:
		n := len(rt.pathValue)
		if len(p) < n || len(p) > n && p[n] != '/' {
			return false
		}
		if rt.fold {
			return equalFoldASCII(p[:n], rt.pathValue)
		}
		return p[:n] == rt.pathValue
	case pathTemplate:
		return rt.tmpl.match(v.pathOnly)
	}
	return false
}

func (rt *route) matches(v *view) bool {
	if rt.never != "" || !rt.matchPath(v) {
		return false
	}
	if rt.runtime != nil && !rt.runtime.drawn(v.req) {
		return false
	}
	if rt.grpc && !isGRPC(v) {
		return false
	}
	for i := range rt.headers {
		if !rt.headers[i].match(v) {
			return false
		}
	}
	for i := range rt.query {
		if !rt.query[i].match(v) {
			return false
		}
	}
	for i := range rt.cookies {
		if !rt.cookies[i].match(v) {
			return false
		}
	}
	if rt.presented != nil && *rt.presented != (v.req.ClientCertPresented && v.scheme == "https") {
		return false
	}
	if rt.validated != nil && *rt.validated != (v.req.ClientCertValidated && v.scheme == "https") {
		return false
	}
	return true
}

// isGRPC is Envoy's test: content-type application/grpc, or
// application/grpc+ something (application/grpc-web is not gRPC).
func isGRPC(v *view) bool {
	if !v.hasPath {
		return false
	}
	ct, _ := v.header("content-type")
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	return ok && (rest == "" || rest[0] == '+')
}

// miss says why the route did not match, the first criterion that failed.
func (rt *route) miss(v *view) string {
	if rt.never != "" {
		return rt.never
	}
	if !rt.matchPath(v) {
		return rt.pathMiss(v)
	}
	if rt.runtime != nil && !rt.runtime.drawn(v.req) {
		return fmt.Sprintf("runtime fraction %s not drawn (random %d)",
			formatPercent(rt.runtime.percent(v.req)), v.req.Random%rt.runtime.denominator)
	}
	if rt.grpc && !isGRPC(v) {
		ct, ok := v.header("content-type")
		if !ok {
			return "content-type is missing, route wants gRPC"
		}
		return fmt.Sprintf("content-type is %q, route wants gRPC", ct)
	}
	for i := range rt.headers {
		if !rt.headers[i].match(v) {
			return rt.headers[i].miss(v)
		}
	}
	for i := range rt.query {
		if !rt.query[i].match(v) {
			return rt.query[i].miss(v)
		}
	}
	for i := range rt.cookies {
		if !rt.cookies[i].match(v) {
			return rt.cookies[i].miss(v)
		}
	}
	if rt.presented != nil && *rt.presented != (v.req.ClientCertPresented && v.scheme == "https") {
		if *rt.presented {
			return "no client certificate presented, route wants one"
		}
		return "a client certificate was presented, route wants none"
	}
	if rt.validated != nil && *rt.validated != (v.req.ClientCertValidated && v.scheme == "https") {
		if *rt.validated {
			return "no validated client certificate, route wants one"
		}
		return "the client certificate was validated, route wants it not validated"
	}
	return "matches"
}

func (rt *route) pathMiss(v *view) string {
	if rt.pathKind == pathConnect {
		return fmt.Sprintf("method is %s, route wants CONNECT", v.method)
	}
	if !v.hasPath {
		return "a CONNECT request has no path"
	}
	p := v.matchPath
	ic := ""
	if rt.fold {
		ic = " (any case)"
	}
	switch rt.pathKind {
	case pathPrefix:
		return fmt.Sprintf("path %q does not start with prefix %q%s", p, rt.pathValue, ic)
	case pathExact:
		return fmt.Sprintf("path %q is not %q%s", p, rt.pathValue, ic)
	case pathRegex:
		return fmt.Sprintf("path %q does not match regex %q", p, rt.pathValue)
	case pathSeparated:
		return fmt.Sprintf("path %q is neither %q nor under %q%s", p, rt.pathValue, rt.pathValue+"/", ic)
	case pathTemplate:
		return fmt.Sprintf("path %q does not match template %q", v.pathOnly, rt.pathValue)
	}
	return "path does not match"
}

// matchedLen is how much of :path the route matched, what prefix_rewrite
// replaces: the prefix or path as configured, else the whole path without
// query.
func (rt *route) matchedLen(v *view) int {
	switch rt.pathKind {
	case pathPrefix, pathExact, pathSeparated:
		return len(rt.pathValue)
	}
	return len(v.pathOnly)
}

func formatPercent(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", p), "0"), ".") + "%"
}
