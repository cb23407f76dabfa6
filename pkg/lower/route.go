package lower

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// maxRE2Program mirrors Envoy's default re2.max_program_size.error_level:
// Envoy refuses a regex whose compiled program is larger.
const maxRE2Program = 100

// re2Limit is the program size the project's gateways accept.
func (l *lowerer) re2Limit() (int, bool) {
	if p := l.m.Project; p != nil && p.Spec.Regex != nil && p.Spec.Regex.MaxProgramSize > 0 {
		return p.Spec.Regex.MaxProgramSize, true
	}
	return maxRE2Program, false
}

// routes lowers the routes of a virtual host, with those of the route sets
// it includes, and puts them in precedence order.
func (l *lowerer) routes(vh *intent.VirtualHost, gb *gatewayBuilder, plain bool) []*ir.Route {
	var out []*ir.Route
	by := map[*ir.Route]inclusion{}
	teams := []string{vh.Doc.Team}
	own := make([]*ir.Route, len(vh.Spec.Routes))
	lowerOne := func(l *lowerer, i int) {
		own[i] = l.route(vh.Doc, gb, []any{"spec", "routes", i}, &vh.Spec.Routes[i])
	}
	if len(own) >= parallelRoutes {
		l.inParallel(len(own), lowerOne)
	} else {
		for i := range own {
			lowerOne(l, i)
		}
	}
	for _, r := range own {
		if r != nil {
			out = append(out, r)
			by[r] = inclusion{teams: teams}
		}
	}
	out = append(out, l.includes(vh.Doc, gb, vh.Spec.Includes, scope{chain: []string{vh.Doc.ID()}, teams: teams, by: by, vhost: vh, plain: plain})...)
	sortRoutes(out)
	l.conflicts(vh.Doc, out, by)
	return out
}

func (l *lowerer) route(d *intent.Doc, gb *gatewayBuilder, path []any, rt *intent.Route) *ir.Route {
	at := func(p ...any) []any { return under(path, p...) }
	before := len(l.diags)
	r := &ir.Route{Name: rt.Name, Origin: d.Pos(path...), Team: d.Team}
	r.Match = l.match(d, at("match"), rt.Match)
	r.Security = l.security(d, at("security"), rt.Security, origin{level: ir.LevelRoute, name: rt.Name, team: d.Team})
	if rt.Compression != nil {
		r.Compression = l.compression(d, at("compression"), rt.Compression)
	}

	if !l.oneOf(d, path, false, []string{"backend", "backends", "redirect", "respond"},
		[]bool{rt.Backend != "", rt.Backends != nil, rt.Redirect != nil, rt.Respond != nil}) {
		return nil
	}
	switch {
	case rt.Backend != "":
		if l.backendRef(d, rt.Backend, at("backend")...) {
			r.Forward = []ir.WeightedCluster{{Cluster: rt.Backend, Weight: 1}}
		}
	case rt.Backends != nil:
		r.Forward = l.weighted(d, at("backends"), rt.Backends)
	case rt.Redirect != nil:
		r.Redirect = l.redirect(d, at("redirect"), rt.Redirect)
		if rt.Redirect.Prefix != "" && r.Match.PathKind == ir.PathRegex {
			l.diags.Errorf(d.KeyPos(at("redirect", "prefix")...), "invalid-value", "%s: a prefix redirect needs a prefix or exact path match", intent.Path(at("redirect", "prefix")...))
		}
	case rt.Respond != nil:
		r.Respond = &ir.Respond{Status: uint32(rt.Respond.Status), Body: rt.Respond.Body}
	}

	forwardOnly := map[string]bool{"timeout": rt.Timeout != "", "idleTimeout": rt.IdleTimeout != "", "retries": rt.Retries != nil,
		"rewrite": rt.Rewrite != nil, "mirror": rt.Mirror != nil, "websocket": rt.Websocket, "hash": len(rt.Hash) > 0}
	if rt.Redirect != nil || rt.Respond != nil {
		l.forwardOnlyHTTP(d, path, rt)
		for _, f := range keys(forwardOnly) {
			if forwardOnly[f] {
				l.diags.Errorf(d.KeyPos(at(f)...), "invalid-value", "%s: %s applies only to routes that forward to backends", intent.Path(at(f)...), f)
			}
		}
		if h := rt.Headers; h != nil {
			l.headerChanges(d, at("headers"), h)
			r.RequestHeaders, r.ResponseHeaders = headerOps(h.Request), headerOps(h.Response)
		}
		if len(l.diags) > before {
			return nil
		}
		return r
	}

	r.Timeout = l.duration(d, rt.Timeout, at("timeout")...)
	if r.Timeout == nil {
		r.Timeout = gb.defaults.timeout
	}
	r.IdleTimeout = l.duration(d, rt.IdleTimeout, at("idleTimeout")...)
	if r.IdleTimeout == nil {
		r.IdleTimeout = gb.defaults.idleTimeout
	}
	switch {
	case rt.Retries != nil:
		r.Retry = l.retry(d, at("retries"), rt.Retries, r.Timeout)
	case gb.defaults.retries != nil:
		r.Retry = l.retry(gb.src.Doc, gb.defaults.retriesPath, gb.defaults.retries, r.Timeout)
	}
	if rw := rt.Rewrite; rw != nil {
		l.rewrite(d, at("rewrite"), rw, r)
	}
	if h := rt.Headers; h != nil {
		l.headerChanges(d, at("headers"), h)
		r.RequestHeaders, r.ResponseHeaders = headerOps(h.Request), headerOps(h.Response)
	}
	if m := rt.Mirror; m != nil && l.backendRef(d, m.Backend, at("mirror", "backend")...) {
		r.Mirror = &ir.Mirror{Cluster: m.Backend, Percent: 100}
		if m.Percent != nil {
			r.Mirror.Percent = *m.Percent
		}
	}
	r.Websocket = rt.Websocket
	if rt.Fault != nil {
		r.Fault = l.fault(d, at("fault"), rt.Fault)
	}
	if rt.Hedge != nil {
		l.hedge(d, at("hedge"), rt.Hedge, r)
	}
	for i, h := range rt.Hash {
		hp := at("hash", i)
		if !l.oneOf(d, hp, false, []string{"header", "cookie", "sourceIP"}, []bool{h.Header != "", h.Cookie != nil, h.SourceIP}) {
			continue
		}
		p := ir.HashPolicy{Header: strings.ToLower(h.Header), SourceIP: h.SourceIP, Terminal: h.Terminal}
		if c := h.Cookie; c != nil {
			p.Cookie = &ir.HashCookie{Name: c.Name, Path: c.Path, TTL: l.duration(d, c.TTL, append(hp, "cookie", "ttl")...)}
		}
		r.Hash = append(r.Hash, p)
	}
	if len(r.Hash) > 0 {
		for _, w := range r.Forward {
			if c := l.clusters[w.Cluster]; c != nil && c.LB != ir.RingHash && c.LB != ir.Maglev {
				l.diags.Warnf(d.KeyPos(at("hash")...), "hash-policy", "%s: backend %q balances with %s, which ignores the hash; use RingHash or Maglev for affinity", intent.Path(at("hash")...), w.Cluster, c.LB).
					Note(l.backends[w.Cluster].Doc.Pos("spec"), "backend %q is declared here", w.Cluster)
			}
		}
	}
	if len(l.diags) > before && l.diags[before:].HasErrors() {
		return nil
	}
	return r
}

func (l *lowerer) backendRef(d *intent.Doc, name string, path ...any) bool {
	if _, ok := l.backends[name]; !ok {
		l.unknown(d.Pos(path...), "backend", name, keys(l.backends))
		return false
	}
	l.usedBE[name] = true
	return true
}

func (l *lowerer) weighted(d *intent.Doc, path []any, bs []intent.WeightedBackend) []ir.WeightedCluster {
	if len(bs) == 0 {
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: list at least one backend", intent.Path(path...))
		return nil
	}
	withWeight := 0
	for _, b := range bs {
		if b.Weight != nil {
			withWeight++
		}
	}
	if withWeight != 0 && withWeight != len(bs) {
		for i, b := range bs {
			if b.Weight == nil {
				l.diags.Errorf(d.Pos(append(slices.Clone(path), i)...), "weight-missing", "%s[%d]: set a weight on every backend of the route or on none", intent.Path(path...), i)
			}
		}
		return nil
	}
	var out []ir.WeightedCluster
	var sum int
	seen := map[string]int{}
	for i, b := range bs {
		p := append(slices.Clone(path), i)
		if j, dup := seen[b.Name]; dup {
			l.diags.Errorf(d.Pos(append(p, "name")...), "duplicate-name", "backend %q is listed twice in this route", b.Name).
				Note(d.Pos(append(slices.Clone(path), j, "name")...), "first listed here")
			continue
		}
		seen[b.Name] = i
		if !l.backendRef(d, b.Name, append(p, "name")...) {
			continue
		}
		w := 1
		if b.Weight != nil {
			w = *b.Weight
		}
		sum += w
		out = append(out, ir.WeightedCluster{Cluster: b.Name, Weight: uint32(w)})
	}
	if len(out) == len(bs) && sum == 0 {
		l.diags.Errorf(d.KeyPos(path...), "zero-weight", "%s: the weights sum to zero, so no request could be forwarded", intent.Path(path...))
		return nil
	}
	return out
}

func (l *lowerer) redirect(d *intent.Doc, path []any, rd *intent.Redirect) *ir.Redirect {
	l.oneOf(d, path, true, []string{"path", "prefix"}, []bool{rd.Path != "", rd.Prefix != ""})
	code := rd.Code
	if code == 0 {
		code = 301
	}
	return &ir.Redirect{Scheme: rd.Scheme, Host: rd.Host, Port: uint32(rd.Port), Path: rd.Path, Prefix: rd.Prefix, Code: code, StripQuery: rd.StripQuery}
}

func (l *lowerer) retry(d *intent.Doc, path []any, rt *intent.Retries, timeout *time.Duration) *ir.Retry {
	at := func(p ...any) []any { return under(path, p...) }
	r := &ir.Retry{Attempts: 1, On: []string{"5xx"}}
	if rt.Attempts != nil {
		r.Attempts = uint32(*rt.Attempts)
	}
	if len(rt.On) > 0 {
		r.On = slices.Compact(slices.Sorted(slices.Values(rt.On)))
	}
	for _, c := range rt.StatusCodes {
		r.StatusCodes = append(r.StatusCodes, uint32(c))
	}
	slices.Sort(r.StatusCodes)
	r.StatusCodes = slices.Compact(r.StatusCodes)
	if len(r.StatusCodes) > 0 && !slices.Contains(r.On, "retriable-status-codes") {
		r.On = append(r.On, "retriable-status-codes")
		slices.Sort(r.On)
	}
	r.PerTryTimeout = l.duration(d, rt.PerTryTimeout, at("perTryTimeout")...)
	if b := rt.Backoff; b != nil {
		r.BackoffBase = l.duration(d, b.Base, at("backoff", "base")...)
		r.BackoffMax = l.duration(d, b.Max, at("backoff", "max")...)
		if r.BackoffBase != nil && *r.BackoffBase <= 0 {
			l.diags.Errorf(d.Pos(at("backoff", "base")...), "invalid-value", "%s: must be greater than 0", intent.Path(at("backoff", "base")...))
		}
		if r.BackoffBase != nil && r.BackoffMax != nil && *r.BackoffMax < *r.BackoffBase {
			l.diags.Errorf(d.Pos(at("backoff", "max")...), "invalid-value", "%s: must not be below backoff.base", intent.Path(at("backoff", "max")...))
		}
	}
	if r.PerTryTimeout != nil && timeout != nil && *timeout > 0 && *r.PerTryTimeout >= *timeout {
		l.diags.Warnf(d.Pos(at("perTryTimeout")...), "retry-timeout", "%s: %s is not below the route timeout %s, so no retry can happen before the route times out", intent.Path(at("perTryTimeout")...), r.PerTryTimeout, timeout)
	}
	return r
}

func (l *lowerer) rewrite(d *intent.Doc, path []any, rw *intent.Rewrite, r *ir.Route) {
	at := func(p ...any) []any { return under(path, p...) }
	if !l.oneOf(d, path, true, []string{"prefix", "regex"}, []bool{rw.Prefix != nil, rw.Regex != nil}) {
		return
	}
	if rw.Prefix != nil {
		if r.Match.PathKind == ir.PathRegex {
			l.diags.Errorf(d.KeyPos(at("prefix")...), "invalid-value", "%s: a prefix rewrite needs a prefix or exact path match; use rewrite.regex with a regex match", intent.Path(at("prefix")...))
		}
		p := *rw.Prefix
		r.PrefixRewrite = &p
	}
	if rx := rw.Regex; rx != nil {
		l.regex(d, rx.Pattern, at("regex", "pattern")...)
		r.RegexRewrite = &ir.RegexRewrite{Pattern: rx.Pattern, Substitution: rx.Substitution}
	}
	r.HostRewrite = rw.Host
}

func (l *lowerer) match(d *intent.Doc, path []any, m *intent.Match) ir.Match {
	at := func(p ...any) []any { return under(path, p...) }
	out := ir.Match{PathKind: ir.PathPrefix, Path: "/"}
	if m == nil {
		return out
	}
	if m.GRPC != nil {
		l.oneOf(d, path, true, []string{"path", "grpc"}, []bool{m.Path != nil, true})
	}
	if p := m.Path; p != nil && l.oneOf(d, at("path"), true, []string{"prefix", "exact", "regex"}, []bool{p.Prefix != nil, p.Exact != nil, p.Regex != nil}) {
		switch {
		case p.Prefix != nil:
			out.Path = *p.Prefix
			l.pathQuery(d, out.Path, at("path", "prefix")...)
		case p.Exact != nil:
			out.PathKind, out.Path = ir.PathExact, *p.Exact
			l.pathQuery(d, out.Path, at("path", "exact")...)
		case p.Regex != nil:
			out.PathKind, out.Path = ir.PathRegex, *p.Regex
			l.regex(d, *p.Regex, at("path", "regex")...)
		}
	}
	out.Methods = slices.Compact(slices.Sorted(slices.Values(m.Methods)))
	for i, h := range m.Headers {
		sm, ok := l.stringMatch(d, at("headers", i), h.StringMatch)
		if ok {
			out.Headers = append(out.Headers, ir.HeaderMatch{Name: strings.ToLower(h.Name), StringMatch: sm, Invert: h.Invert})
		}
	}
	for i, q := range m.Query {
		sm, ok := l.stringMatch(d, at("query", i), q.StringMatch)
		if ok && sm.Kind == ir.MatchAbsent {
			// Envoy's query matcher has no inversion, so absence cannot be
			// expressed; say so rather than match something else.
			l.diags.Errorf(d.Pos(at("query", i, "present")...), "invalid-value", "%s.present: Envoy cannot match the absence of a query parameter", intent.Path(at("query", i)...))
			ok = false
		}
		if ok {
			out.Query = append(out.Query, ir.QueryMatch{Name: q.Name, StringMatch: sm})
		}
	}
	if m.GRPC != nil && m.Path == nil {
		grpcMatch(m.GRPC, &out)
	}
	return out
}

// stringMatch lowers a header or query condition. With no condition it
// matches when the header or parameter is present.
func (l *lowerer) stringMatch(d *intent.Doc, path []any, s intent.StringMatch) (ir.StringMatch, bool) {
	if !l.oneOf(d, path, true, []string{"exact", "prefix", "suffix", "contains", "regex", "present"},
		[]bool{s.Exact != nil, s.Prefix != nil, s.Suffix != nil, s.Contains != nil, s.Regex != nil, s.Present != nil}) {
		return ir.StringMatch{}, false
	}
	out := ir.StringMatch{Kind: ir.MatchPresent, IgnoreCase: s.IgnoreCase}
	switch {
	case s.Exact != nil:
		out.Kind, out.Value = ir.MatchExact, *s.Exact
	case s.Prefix != nil:
		out.Kind, out.Value = ir.MatchPrefix, *s.Prefix
	case s.Suffix != nil:
		out.Kind, out.Value = ir.MatchSuffix, *s.Suffix
	case s.Contains != nil:
		out.Kind, out.Value = ir.MatchContains, *s.Contains
	case s.Regex != nil:
		out.Kind, out.Value = ir.MatchRegex, *s.Regex
		if !l.regex(d, *s.Regex, append(slices.Clone(path), "regex")...) {
			return out, false
		}
	case s.Present != nil && !*s.Present:
		out.Kind = ir.MatchAbsent
	}
	if s.IgnoreCase && (out.Kind == ir.MatchPresent || out.Kind == ir.MatchAbsent || out.Kind == ir.MatchRegex) {
		l.diags.Errorf(d.KeyPos(append(slices.Clone(path), "ignoreCase")...), "invalid-value", "%s.ignoreCase: applies only to exact, prefix, suffix and contains; use (?i) in a regex", intent.Path(path...))
		return out, false
	}
	return out, true
}

// regex checks that a pattern is valid RE2 as Envoy reads it, refuses it
// when its RE2 program is certainly larger than the gateways accept (see
// re2MinSize) and warns when it may be.
func (l *lowerer) regex(d *intent.Doc, pattern string, path ...any) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		l.diags.Errorf(d.Pos(path...), "invalid-regex", "%s: invalid regular expression %q: %s", intent.Path(path...), pattern, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return false
	}
	limit, raised := l.re2Limit()
	by := "by default (re2.max_program_size.error_level; raise it with spec.regex.maxProgramSize in edgectl.yaml)"
	if raised {
		by = "as spec.regex.maxProgramSize in edgectl.yaml sets it"
	}
	if n := re2MinSize(re); n > limit {
		l.diags.Errorf(d.Pos(path...), "regex-program-size", "%s: this regular expression compiles to at least %d RE2 instructions; Envoy refuses more than %d %s", intent.Path(path...), n, limit, by)
		return false
	}
	if prog, err := syntax.Compile(re.Simplify()); err == nil && len(prog.Inst) > limit {
		l.diags.Warnf(d.Pos(path...), "regex-complexity", "%s: this regular expression compiles to about %d instructions; Envoy refuses more than %d %s", intent.Path(path...), len(prog.Inst), limit, by)
	}
	return true
}

// pathQuery warns about a path match holding "?": Envoy matches the path
// without its query string, so such a match never matches anything.
func (l *lowerer) pathQuery(d *intent.Doc, p string, path ...any) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		l.diags.Warnf(d.Pos(path...), "path-query", "%s: %q can never match: Envoy matches the path without its query string; match query parameters with match.query", intent.Path(path...), p)
	}
}

// headerChanges refuses header changes Envoy refuses when it loads them:
// adding, setting or removing a pseudo-header (":path", any name starting
// with ":") or "host", in requests and responses alike. The request's host
// is changed with rewrite.host.
func (l *lowerer) headerChanges(d *intent.Doc, path []any, h *intent.HeaderChanges) {
	refused := func(name string) bool { return strings.HasPrefix(name, ":") || strings.EqualFold(name, "host") }
	for _, side := range []struct {
		name string
		ops  *intent.HeaderOps
	}{{"request", h.Request}, {"response", h.Response}} {
		if side.ops == nil {
			continue
		}
		p := append(slices.Clone(path), side.name)
		for _, op := range []string{"set", "add"} {
			m := side.ops.Set
			if op == "add" {
				m = side.ops.Add
			}
			for _, k := range keys(m) {
				if refused(k) {
					l.diags.Errorf(d.KeyPos(append(slices.Clone(p), op, k)...), "header-change", "%s.%s: Envoy refuses to %s %q: pseudo-headers and host cannot be changed this way%s",
						intent.Path(p...), op, op, k, hostHint(side.name, k))
				}
			}
		}
		for i, k := range side.ops.Remove {
			if refused(k) {
				l.diags.Errorf(d.Pos(append(slices.Clone(p), "remove", i)...), "header-change", "%s.remove: Envoy refuses to remove %q: pseudo-headers and host cannot be removed",
					intent.Path(p...), k)
			}
		}
	}
}

func hostHint(side, name string) string {
	if side == "request" && (strings.EqualFold(name, "host") || name == ":authority") {
		return "; use rewrite.host to change the host sent upstream"
	}
	return ""
}

func headerOps(h *intent.HeaderOps) ir.HeaderOps {
	if h == nil {
		return ir.HeaderOps{}
	}
	var out ir.HeaderOps
	for _, k := range keys(h.Set) {
		out.Set = append(out.Set, ir.Header{Name: strings.ToLower(k), Value: h.Set[k]})
	}
	for _, k := range keys(h.Add) {
		out.Add = append(out.Add, ir.Header{Name: strings.ToLower(k), Value: h.Add[k]})
	}
	for _, k := range h.Remove {
		out.Remove = append(out.Remove, strings.ToLower(k))
	}
	slices.Sort(out.Remove)
	out.Remove = slices.Compact(out.Remove)
	return out
}

// compiled caches anchored regexes for the conflict checks.
func anchored(pattern string) *regexp.Regexp {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil
	}
	return re
}
