package gatewayapi

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
)

// routeObj is an HTTPRoute or a GRPCRoute, lowered rule by rule before it
// attaches to its parents.
type routeObj struct {
	doc       *Doc
	kind      string
	team      int    // index into the project's teams, -1 for none
	teamName  string // its name, or the namespace's
	created   metav1.Time
	parents   []gwv1.ParentReference
	hostnames []gwv1.Hostname
	rules     []*ruleObj
	// proxy is where a TLSRoute or TCPRoute forwards its connections; nil
	// when no backend resolved.
	proxy *ir.TCPProxy

	accepted                    bool // false: a value edgectl cannot honour
	acceptedReason, acceptedMsg string
	resolved                    bool
	resolvedReason, resMsg      string
}

type ruleObj struct {
	index   int
	action  ir.Route // everything but the match
	perTry  *time.Duration
	matches []matchObj
}

type matchObj struct {
	index  int
	match  ir.Match
	origin diag.Pos
	// The precedence keys of the spec: path kind and length, method,
	// number of header and query matches.
	rank, pathLen, headers, query int
	method                        bool
}

// entry is one match of one rule attached under one hostname.
type entry struct {
	ro    *routeObj
	rule  *ruleObj
	match *matchObj
}

func (l *lowerer) lowerRoutes() {
	var objs []*routeObj
	for _, r := range l.set.HTTPRoutes {
		objs = append(objs, l.httpRoute(r))
	}
	for _, r := range l.set.GRPCRoutes {
		objs = append(objs, l.grpcRoute(r))
	}
	for _, r := range l.set.TLSRoutes {
		objs = append(objs, l.tlsRoute(r))
	}
	for _, r := range l.set.TCPRoutes {
		objs = append(objs, l.tcpRoute(r))
	}
	for _, ro := range objs {
		l.attachRoute(ro)
	}
}

func (l *lowerer) newRouteObj(d *Doc, kind string, meta metav1.ObjectMeta, common gwv1.CommonRouteSpec, hostnames []gwv1.Hostname) *routeObj {
	t := l.own.team(d.Namespace, d, &l.diags)
	return &routeObj{doc: d, kind: kind, team: t, teamName: l.own.name(d.Namespace), created: meta.CreationTimestamp, parents: common.ParentRefs, hostnames: hostnames,
		accepted: true, resolved: true, resolvedReason: "ResolvedRefs"}
}

// unsupported rejects the route for a value edgectl cannot honour.
func (l *lowerer) unsupported(ro *routeObj, path []any, format string, args ...any) {
	l.reject(ro, path, "UnsupportedValue", format, args...)
}

// reject records why a route is not accepted; the first reason is the
// one its status gives.
func (l *lowerer) reject(ro *routeObj, path []any, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.diags.Errorf(ro.doc.Pos(path...), reason, "%s: %s", ro.doc.ID(), msg)
	if ro.accepted {
		ro.accepted, ro.acceptedReason, ro.acceptedMsg = false, reason, msg
	}
}

// unresolved records a reference that does not resolve; the route stays
// accepted, and the reference's share of traffic is answered with 500.
func (l *lowerer) unresolved(ro *routeObj, path []any, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.diags.Errorf(ro.doc.Pos(path...), reason, "%s: %s", ro.doc.ID(), msg)
	if ro.resolved {
		ro.resolved, ro.resolvedReason, ro.resMsg = false, reason, msg
	}
}

func (l *lowerer) httpRoute(r *HTTPRoute) *routeObj {
	spec := r.Obj.Spec
	ro := l.newRouteObj(r.Doc, "HTTPRoute", r.Obj.ObjectMeta, spec.CommonRouteSpec, spec.Hostnames)
	rules := spec.Rules
	if len(rules) == 0 {
		rules = []gwv1.HTTPRouteRule{{}}
	}
	for i, rule := range rules {
		path := []any{"spec", "rules", i}
		ru := &ruleObj{index: i}
		l.httpFilters(ro, ru, path, rule.Filters)
		refs := make([]backendRef, len(rule.BackendRefs))
		for j, b := range rule.BackendRefs {
			refs[j] = backendRef{ref: b.BackendRef, path: append(slices.Clone(path), "backendRefs", j)}
			if len(b.Filters) > 0 {
				l.unsupported(ro, append(slices.Clone(path), "backendRefs", j, "filters"), "filters on a backendRef are not supported by edgectl; put them on the rule")
			}
		}
		l.forward(ro, ru, path, refs, false)
		l.timeouts(ro, ru, path, rule.Timeouts)
		l.retry(ro, ru, path, rule.Retry)
		if rule.SessionPersistence != nil {
			l.unsupported(ro, append(slices.Clone(path), "sessionPersistence"), "sessionPersistence is not supported by edgectl")
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			if mo, ok := l.httpMatch(ro, append(slices.Clone(path), "matches", j), m); ok {
				mo.index = j
				ru.matches = append(ru.matches, mo)
			}
		}
		if ru.action.Redirect != nil && ru.action.Redirect.Prefix != "" || ru.action.PrefixRewrite != nil || ru.action.RegexRewrite != nil && ru.action.RegexRewrite.Pattern != fullPath {
			for j, m := range ru.matches {
				if m.match.PathKind != ir.PathSegment && m.match.PathKind != ir.PathPrefix {
					l.unsupported(ro, append(slices.Clone(path), "matches", j), "ReplacePrefixMatch needs a PathPrefix match")
				}
			}
		}
		ro.rules = append(ro.rules, ru)
	}
	return ro
}

const fullPath = "^/.*$"

func (l *lowerer) httpMatch(ro *routeObj, path []any, m gwv1.HTTPRouteMatch) (matchObj, bool) {
	mo := matchObj{origin: ro.doc.origin(path[2].(int), path[4].(int)), match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, rank: rankPrefix, pathLen: 1}
	ok := true
	if p := m.Path; p != nil {
		typ, value := gwv1.PathMatchPathPrefix, "/"
		if p.Type != nil {
			typ = *p.Type
		}
		if p.Value != nil {
			value = *p.Value
		}
		ppath := append(slices.Clone(path), "path")
		switch typ {
		case gwv1.PathMatchExact:
			mo.match = ir.Match{PathKind: ir.PathExact, Path: value}
			mo.rank = rankExact
		case gwv1.PathMatchPathPrefix:
			// A prefix matches whole path elements: /abc matches /abc,
			// /abc/ and /abc/def but not /abcd, and a trailing slash in
			// the value changes nothing.
			trimmed := strings.TrimRight(value, "/")
			if trimmed == "" {
				mo.match = ir.Match{PathKind: ir.PathPrefix, Path: "/"}
			} else {
				mo.match = ir.Match{PathKind: ir.PathSegment, Path: trimmed}
			}
			mo.rank = rankPrefix
		case gwv1.PathMatchRegularExpression:
			if _, err := regexp.Compile(value); err != nil {
				l.unsupported(ro, ppath, "path %q is not an RE2 regular expression: %v", value, err)
				ok = false
			} else if !l.regexSize(ro, append(slices.Clone(ppath), "value"), value) {
				ok = false
			}
			mo.match = ir.Match{PathKind: ir.PathRegex, Path: value}
			mo.rank = rankRegex
		default:
			l.unsupported(ro, ppath, "path match type %s is not one of Exact, PathPrefix, RegularExpression", typ)
			ok = false
		}
		if typ != gwv1.PathMatchRegularExpression && !strings.HasPrefix(value, "/") {
			l.unsupported(ro, ppath, "path %q must start with /", value)
			ok = false
		}
		mo.pathLen = len(mo.match.Path)
	}
	seen := map[string]bool{}
	for i, h := range m.Headers {
		name := strings.ToLower(string(h.Name))
		if seen[name] {
			continue // the spec: the first match of a name wins
		}
		seen[name] = true
		sm, good := l.stringMatch(ro, append(slices.Clone(path), "headers", i), h.Type == nil || *h.Type == gwv1.HeaderMatchExact, h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression, h.Value)
		ok = ok && good
		mo.match.Headers = append(mo.match.Headers, ir.HeaderMatch{Name: name, StringMatch: sm})
	}
	seen = map[string]bool{}
	for i, q := range m.QueryParams {
		name := string(q.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		sm, good := l.stringMatch(ro, append(slices.Clone(path), "queryParams", i), q.Type == nil || *q.Type == gwv1.QueryParamMatchExact, q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression, q.Value)
		ok = ok && good
		mo.match.Query = append(mo.match.Query, ir.QueryMatch{Name: name, StringMatch: sm})
	}
	if m.Method != nil {
		mo.match.Methods = []string{string(*m.Method)}
		mo.method = true
	}
	mo.headers, mo.query = len(mo.match.Headers), len(mo.match.Query)
	return mo, ok
}

func (l *lowerer) stringMatch(ro *routeObj, path []any, exact, regex bool, value string) (ir.StringMatch, bool) {
	switch {
	case exact:
		return ir.StringMatch{Kind: ir.MatchExact, Value: value}, true
	case regex:
		if _, err := regexp.Compile(value); err != nil {
			l.unsupported(ro, path, "%q is not an RE2 regular expression: %v", value, err)
			return ir.StringMatch{}, false
		}
		if !l.regexSize(ro, append(slices.Clone(path), "value"), value) {
			return ir.StringMatch{}, false
		}
		return ir.StringMatch{Kind: ir.MatchRegex, Value: value}, true
	}
	l.unsupported(ro, path, "match type is not one of Exact, RegularExpression")
	return ir.StringMatch{}, false
}

// Path kinds in precedence order: the spec puts exact paths before
// prefixes; it leaves regular expressions to the implementation, and
// edgectl puts them between the two.
const (
	rankExact = iota
	rankRegex
	rankPrefix
)

func (l *lowerer) httpFilters(ro *routeObj, ru *ruleObj, path []any, filters []gwv1.HTTPRouteFilter) {
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	for i, f := range filters {
		fpath := append(slices.Clone(path), "filters", i)
		if seen[f.Type] && f.Type != gwv1.HTTPRouteFilterRequestMirror {
			l.unsupported(ro, fpath, "filter %s is set twice in one rule", f.Type)
			continue
		}
		seen[f.Type] = true
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier != nil {
				l.checkHeaderNames(ro, append(fpath, "requestHeaderModifier"), *f.RequestHeaderModifier)
				ru.action.RequestHeaders = headerOps(*f.RequestHeaderModifier)
			}
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier != nil {
				l.checkHeaderNames(ro, append(fpath, "responseHeaderModifier"), *f.ResponseHeaderModifier)
				ru.action.ResponseHeaders = headerOps(*f.ResponseHeaderModifier)
			}
		case gwv1.HTTPRouteFilterRequestRedirect:
			if rr := f.RequestRedirect; rr != nil {
				ru.action.Redirect = l.redirect(ro, fpath, rr)
			}
		case gwv1.HTTPRouteFilterURLRewrite:
			if rw := f.URLRewrite; rw != nil {
				if rw.Hostname != nil {
					ru.action.HostRewrite = string(*rw.Hostname)
				}
				if p := rw.Path; p != nil {
					switch {
					case p.Type == gwv1.FullPathHTTPPathModifier && p.ReplaceFullPath != nil:
						ru.action.RegexRewrite = &ir.RegexRewrite{Pattern: fullPath, Substitution: *p.ReplaceFullPath}
					case p.Type == gwv1.PrefixMatchHTTPPathModifier && p.ReplacePrefixMatch != nil:
						v := *p.ReplacePrefixMatch
						ru.action.PrefixRewrite = &v
					default:
						l.unsupported(ro, append(fpath, "urlRewrite", "path"), "path modifier %s needs its value", p.Type)
					}
				}
			}
		case gwv1.HTTPRouteFilterExternalAuth:
			if f.ExternalAuth != nil {
				l.extAuth(ro, ru, fpath, f.ExternalAuth)
			}
		case gwv1.HTTPRouteFilterCORS:
			if f.CORS != nil {
				l.cors(ro, ru, fpath, f.CORS)
			}
		case gwv1.HTTPRouteFilterRequestMirror:
			if ru.action.Mirror != nil {
				l.unsupported(ro, fpath, "edgectl mirrors a rule's requests to one backend; this is the second RequestMirror")
				continue
			}
			if m := f.RequestMirror; m != nil {
				l.mirror(ro, ru, fpath, m)
			}
		default:
			l.unsupported(ro, append(fpath, "type"), "filter %s is not supported by edgectl", f.Type)
		}
	}
	if ru.action.Redirect != nil && (ru.action.PrefixRewrite != nil || ru.action.RegexRewrite != nil || ru.action.HostRewrite != "") {
		l.reject(ro, append(slices.Clone(path), "filters"), "IncompatibleFilters", "RequestRedirect and URLRewrite cannot be used together")
	}
}

// checkHeaderNames refuses changes to pseudo-headers and Host, which Envoy
// does not let a route change (URLRewrite's hostname rewrites the host).
func (l *lowerer) checkHeaderNames(ro *routeObj, path []any, f gwv1.HTTPHeaderFilter) {
	bad := func(name string) bool {
		n := strings.ToLower(name)
		return n == "host" || strings.HasPrefix(n, ":")
	}
	for _, op := range []struct {
		name string
		list []gwv1.HTTPHeader
	}{{"set", f.Set}, {"add", f.Add}} {
		for i, h := range op.list {
			if bad(string(h.Name)) {
				l.unsupported(ro, append(slices.Clone(path), op.name, i, "name"), "header %s cannot be changed by a header filter; use URLRewrite's hostname to rewrite the host", h.Name)
			}
		}
	}
	for i, h := range f.Remove {
		if bad(h) {
			l.unsupported(ro, append(slices.Clone(path), "remove", i), "header %s cannot be removed", h)
		}
	}
}

func headerOps(f gwv1.HTTPHeaderFilter) ir.HeaderOps {
	var ops ir.HeaderOps
	for _, h := range f.Set {
		ops.Set = append(ops.Set, ir.Header{Name: strings.ToLower(string(h.Name)), Value: h.Value})
	}
	for _, h := range f.Add {
		ops.Add = append(ops.Add, ir.Header{Name: strings.ToLower(string(h.Name)), Value: h.Value})
	}
	for _, h := range f.Remove {
		ops.Remove = append(ops.Remove, strings.ToLower(h))
	}
	byName := func(a, b ir.Header) int { return strings.Compare(a.Name, b.Name) }
	slices.SortStableFunc(ops.Set, byName)
	slices.SortStableFunc(ops.Add, byName)
	slices.Sort(ops.Remove)
	return ops
}

func (l *lowerer) redirect(ro *routeObj, path []any, rr *gwv1.HTTPRequestRedirectFilter) *ir.Redirect {
	r := &ir.Redirect{Code: 302}
	if rr.StatusCode != nil {
		r.Code = *rr.StatusCode
	}
	if r.Code != 301 && r.Code != 302 {
		l.unsupported(ro, append(path, "requestRedirect", "statusCode"), "status code %d is not one of 301, 302", r.Code)
	}
	if rr.Scheme != nil {
		r.Scheme = *rr.Scheme
	}
	if rr.Hostname != nil {
		r.Host = string(*rr.Hostname)
	}
	if rr.Port != nil {
		// A well-known port for the scheme is left out of Location, as the
		// spec asks.
		if !(*rr.Port == 80 && r.Scheme == "http" || *rr.Port == 443 && r.Scheme == "https") {
			r.Port = uint32(*rr.Port)
		}
	}
	if p := rr.Path; p != nil {
		switch {
		case p.Type == gwv1.FullPathHTTPPathModifier && p.ReplaceFullPath != nil:
			r.Path = *p.ReplaceFullPath
		case p.Type == gwv1.PrefixMatchHTTPPathModifier && p.ReplacePrefixMatch != nil:
			r.Prefix = *p.ReplacePrefixMatch
		default:
			l.unsupported(ro, append(path, "requestRedirect", "path"), "path modifier %s needs its value", p.Type)
		}
	}
	return r
}

func (l *lowerer) timeouts(ro *routeObj, ru *ruleObj, path []any, t *gwv1.HTTPRouteTimeouts) {
	if t == nil {
		return
	}
	parse := func(v *gwv1.Duration, field string) *time.Duration {
		if v == nil {
			return nil
		}
		d, err := time.ParseDuration(string(*v))
		if err != nil || d < 0 {
			l.unsupported(ro, append(slices.Clone(path), "timeouts", field), "%q is not a duration such as 10s or 500ms", *v)
			return nil
		}
		return &d
	}
	req, backend := parse(t.Request, "request"), parse(t.BackendRequest, "backendRequest")
	if req != nil && backend != nil && *req != 0 && (*backend == 0 || *backend > *req) {
		l.unsupported(ro, append(slices.Clone(path), "timeouts", "backendRequest"), "backendRequest %s is longer than request %s", *t.BackendRequest, *t.Request)
	}
	ru.action.Timeout, ru.perTry = req, backend
}

// retry sets a rule's retries. A backendRequest timeout is each try's
// timeout; without retries there is one try, so it bounds the route's
// timeout instead.
func (l *lowerer) retry(ro *routeObj, ru *ruleObj, path []any, r *gwv1.HTTPRouteRetry) {
	attempts := 0
	if r != nil {
		attempts = 1
		if r.Attempts != nil {
			attempts = max(*r.Attempts, 0)
		}
	}
	if attempts == 0 {
		if b := ru.perTry; b != nil && (ru.action.Timeout == nil || *ru.action.Timeout == 0 || *b != 0 && *b < *ru.action.Timeout) {
			ru.action.Timeout = b
		}
		return
	}
	rt := &ir.Retry{Attempts: uint32(attempts), PerTryTimeout: ru.perTry, On: []string{"connect-failure", "refused-stream"}}
	for _, c := range r.Codes {
		rt.StatusCodes = append(rt.StatusCodes, uint32(c))
	}
	if len(rt.StatusCodes) > 0 {
		rt.On = append(rt.On, "retriable-status-codes")
	}
	if r.Backoff != nil {
		d, err := time.ParseDuration(string(*r.Backoff))
		if err != nil || d <= 0 {
			l.unsupported(ro, append(slices.Clone(path), "retry", "backoff"), "%q is not a positive duration", *r.Backoff)
		} else {
			rt.BackoffBase = &d
		}
	}
	ru.action.Retry = rt
}

func (l *lowerer) grpcRoute(r *GRPCRoute) *routeObj {
	spec := r.Obj.Spec
	ro := l.newRouteObj(r.Doc, "GRPCRoute", r.Obj.ObjectMeta, spec.CommonRouteSpec, spec.Hostnames)
	rules := spec.Rules
	if len(rules) == 0 {
		rules = []gwv1.GRPCRouteRule{{}}
	}
	for i, rule := range rules {
		path := []any{"spec", "rules", i}
		ru := &ruleObj{index: i}
		filters := make([]gwv1.HTTPRouteFilter, len(rule.Filters))
		for j, f := range rule.Filters {
			filters[j] = gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterType(f.Type), RequestHeaderModifier: f.RequestHeaderModifier,
				ResponseHeaderModifier: f.ResponseHeaderModifier, RequestMirror: f.RequestMirror, ExtensionRef: f.ExtensionRef}
		}
		l.httpFilters(ro, ru, path, filters)
		refs := make([]backendRef, len(rule.BackendRefs))
		for j, b := range rule.BackendRefs {
			refs[j] = backendRef{ref: b.BackendRef, path: append(slices.Clone(path), "backendRefs", j)}
			if len(b.Filters) > 0 {
				l.unsupported(ro, append(slices.Clone(path), "backendRefs", j, "filters"), "filters on a backendRef are not supported by edgectl; put them on the rule")
			}
		}
		l.forward(ro, ru, path, refs, true)
		if rule.SessionPersistence != nil {
			l.unsupported(ro, append(slices.Clone(path), "sessionPersistence"), "sessionPersistence is not supported by edgectl")
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.GRPCRouteMatch{{}}
		}
		for j, m := range matches {
			if mo, ok := l.grpcMatch(ro, append(slices.Clone(path), "matches", j), m); ok {
				mo.index = j
				ru.matches = append(ru.matches, mo)
			}
		}
		ro.rules = append(ro.rules, ru)
	}
	return ro
}

// grpcMatch turns a gRPC service and method into the request path gRPC
// uses, /SERVICE/METHOD, and asks for gRPC's content type.
func (l *lowerer) grpcMatch(ro *routeObj, path []any, m gwv1.GRPCRouteMatch) (matchObj, bool) {
	mo := matchObj{origin: ro.doc.origin(path[2].(int), path[4].(int)), match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, rank: rankPrefix, pathLen: 1}
	ok := true
	if mm := m.Method; mm != nil {
		svc, method := "", ""
		if mm.Service != nil {
			svc = *mm.Service
		}
		if mm.Method != nil {
			method = *mm.Method
		}
		regex := mm.Type != nil && *mm.Type == gwv1.GRPCMethodMatchRegularExpression
		switch {
		case svc == "" && method == "":
			l.unsupported(ro, append(slices.Clone(path), "method"), "a method match needs a service, a method or both")
			ok = false
		case regex:
			for _, v := range []string{svc, method} {
				if _, err := regexp.Compile(v); err != nil {
					l.unsupported(ro, append(slices.Clone(path), "method"), "%q is not an RE2 regular expression: %v", v, err)
					ok = false
				}
			}
			mo.match = ir.Match{PathKind: ir.PathRegex, Path: "/" + cmp.Or(svc, "[^/]+") + "/" + cmp.Or(method, "[^/]+")}
			mo.rank = rankRegex
			if ok && !l.regexSize(ro, append(slices.Clone(path), "method"), mo.match.Path) {
				ok = false
			}
		case method == "":
			mo.match = ir.Match{PathKind: ir.PathPrefix, Path: "/" + svc + "/"}
		case svc == "":
			mo.match = ir.Match{PathKind: ir.PathRegex, Path: "/[^/]+/" + regexp.QuoteMeta(method)}
			mo.rank = rankRegex
		default:
			mo.match = ir.Match{PathKind: ir.PathExact, Path: "/" + svc + "/" + method}
			mo.rank = rankExact
		}
		mo.pathLen = len(svc) + len(method)
	}
	seen := map[string]bool{}
	for i, h := range m.Headers {
		name := strings.ToLower(string(h.Name))
		if seen[name] {
			continue
		}
		seen[name] = true
		sm, good := l.stringMatch(ro, append(slices.Clone(path), "headers", i), h.Type == nil || *h.Type == gwv1.GRPCHeaderMatchExact, h.Type != nil && *h.Type == gwv1.GRPCHeaderMatchRegularExpression, h.Value)
		ok = ok && good
		mo.match.Headers = append(mo.match.Headers, ir.HeaderMatch{Name: name, StringMatch: sm})
	}
	mo.headers = len(mo.match.Headers)
	if !seen["content-type"] {
		mo.match.Headers = append(mo.match.Headers, ir.HeaderMatch{Name: "content-type", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: "application/grpc"}})
	}
	return mo, ok
}

// less orders two entries of one virtual host by the spec's precedence.
func less(a, b *entry) int {
	ma, mb := a.match, b.match
	return cmp.Or(
		cmp.Compare(ma.rank, mb.rank),
		-cmp.Compare(ma.pathLen, mb.pathLen),
		-cmp.Compare(btoi(ma.method), btoi(mb.method)),
		-cmp.Compare(ma.headers, mb.headers),
		-cmp.Compare(ma.query, mb.query),
		compareAge(a.ro, b.ro),
		cmp.Compare(a.rule.index, b.rule.index),
		cmp.Compare(ma.index, mb.index),
	)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareAge orders routes oldest first: by creationTimestamp where both
// manifests carry one, then by namespace and name as the spec says. A
// manifest without a timestamp counts as created after every one with, in
// the order of the input's files.
func compareAge(a, b *routeObj) int {
	if a == b {
		return 0
	}
	az, bz := a.created.IsZero(), b.created.IsZero()
	switch {
	case !az && !bz:
		if c := a.created.Time.Compare(b.created.Time); c != 0 {
			return c
		}
	case az != bz:
		return ternary(az, 1, -1)
	default:
		return cmp.Compare(a.doc.Order, b.doc.Order)
	}
	return cmp.Or(strings.Compare(a.doc.Namespace, b.doc.Namespace), strings.Compare(a.doc.Name, b.doc.Name),
		strings.Compare(a.kind, b.kind), cmp.Compare(a.doc.Order, b.doc.Order))
}
