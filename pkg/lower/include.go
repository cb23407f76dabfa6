package lower

import (
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Delegation. A virtual host (or a route set) includes a route set under a
// path prefix and, optionally, header conditions. The route set's routes
// keep the paths they were written with, which must lie inside the prefix
// ("/payments" or below "/payments/"); a route with no path takes the whole
// prefix. Header conditions add up down the chain, outermost first. Only a
// prefix composes with the routes inside, so an include may not match an
// exact path, a regular expression, methods or query parameters.

// scope is what the chain of includes so far imposes.
type scope struct {
	prefix  string
	headers []ir.HeaderMatch
	chain   []string                // documents on the way, for cycles
	teams   []string                // the teams of those documents, for cross-team-shadow
	by      map[*ir.Route]inclusion // records how each route was included
	at      *intent.Doc
	atPath  []any // the innermost include, for notes
	vhost   *intent.VirtualHost
	plain   bool // the virtual host serves its routes over plain HTTP
	// security is what the includes on the way set, innermost winning.
	security *ir.Security
}

func (l *lowerer) includes(d *intent.Doc, gb *gatewayBuilder, incs []intent.Include, sc scope) []*ir.Route {
	var out []*ir.Route
	for i, inc := range incs {
		path := []any{"spec", "includes", i}
		at := func(p ...any) []any { return under(path, p...) }
		rs, ok := l.routeSets[inc.RouteSet]
		if !ok {
			l.unknown(d.Pos(at("routeSet")...), "route set", inc.RouteSet, keys(l.routeSets))
			continue
		}
		l.usedRS[inc.RouteSet] = true
		if slices.Contains(sc.chain, rs.Doc.ID()) {
			cycle := append(slices.Clone(sc.chain), rs.Doc.ID())
			l.diags.Errorf(d.Pos(at("routeSet")...), "include-cycle", "include cycle: %s", strings.Join(cycle, " → ")).
				Note(rs.Doc.Pos("metadata", "name"), "%s is declared here", rs.Doc.ID())
			continue
		}
		if !l.consent(d, at("routeSet"), rs, sc) {
			continue
		}
		inner, ok := l.includeScope(d, at(), inc, sc)
		own := l.security(d, at("security"), inc.Security, origin{level: ir.LevelInclude, name: rs.Doc.Name, team: d.Team})
		if !ok {
			continue
		}
		inner.security = ir.Inherit(sc.security, own)
		inner.chain = append(slices.Clone(sc.chain), rs.Doc.ID())
		inner.teams = append(slices.Clone(sc.teams), rs.Doc.Team)
		inner.by = sc.by
		inner.at, inner.atPath = d, at()
		for j := range rs.Spec.Routes {
			rt := &rs.Spec.Routes[j]
			r := l.route(rs.Doc, gb, []any{"spec", "routes", j}, rt)
			if r == nil {
				continue
			}
			if rt.Match == nil || rt.Match.Path == nil && rt.Match.GRPC == nil {
				if inner.prefix != "" {
					r.Match.PathKind, r.Match.Path = ir.PathPrefix, inner.prefix
				}
			} else if !inside(&r.Match, inner.prefix) {
				l.diags.Errorf(rs.Doc.Pos("spec", "routes", j, "match", "path"), "route-outside-include", "%s %s is outside the prefix %s that %s gives %s",
					r.Match.PathKind, r.Match.Path, inner.prefix, d.ID(), rs.Doc.ID()).
					Note(d.Pos(at("match", "path", "prefix")...), "the include that gives the prefix")
				continue
			}
			// A plain prefix equal to the fence would also take "/payx";
			// Envoy's path-separated prefix keeps to "/pay" and below.
			if r.Match.PathKind == ir.PathPrefix && r.Match.Path == inner.prefix && !strings.HasSuffix(inner.prefix, "/") {
				r.Match.PathKind = ir.PathSegment
			}
			r.Match.Headers = append(slices.Clone(inner.headers), r.Match.Headers...)
			r.Security = ir.Inherit(inner.security, r.Security)
			out = append(out, r)
			inner.by[r] = inclusion{teams: inner.teams, fence: inner.prefix}
		}
		out = append(out, l.includes(rs.Doc, gb, rs.Spec.Includes, inner)...)
	}
	return out
}

// consent checks that the route set's team lets the includer include it:
// its own team and platform teams always may, other teams and virtual
// hosts when spec.includableBy lists them (a virtual host by all of its
// hostnames). A team that requires TLS never has its route sets served
// over plain HTTP. Without teams there is nobody to ask.
func (l *lowerer) consent(d *intent.Doc, path []any, rs *intent.RouteSet, sc scope) bool {
	owner := rs.Doc.Team
	if owner == "" || l.m.Project == nil {
		return true
	}
	teams := l.m.Project.Spec.Teams
	ti := slices.IndexFunc(teams, func(t intent.Team) bool { return t.Name == owner })
	if ti < 0 {
		return true
	}
	ok := true
	by := rs.Spec.IncludableBy
	allowed := d.Team == owner
	if i := slices.IndexFunc(teams, func(t intent.Team) bool { return t.Name == d.Team }); i >= 0 && teams[i].Platform {
		allowed = true
	}
	if by != nil && slices.Contains(by.Teams, d.Team) {
		allowed = true
	}
	if by != nil && len(by.Hosts) > 0 && sc.vhost != nil && len(sc.vhost.Spec.Hostnames) > 0 &&
		!slices.ContainsFunc(sc.vhost.Spec.Hostnames, func(h string) bool { return !hostListed(by.Hosts, h) }) {
		allowed = true
	}
	if !allowed {
		e := l.diags.Errorf(d.Pos(path...), "include-consent", "%s (team %q) may not include route set %q: it belongs to team %q, which does not let team %q include it",
			d.ID(), d.Team, rs.Doc.Name, owner, d.Team)
		if by != nil {
			e.Note(rs.Doc.KeyPos("spec", "includableBy"), "team %q declares who may include %q here", owner, rs.Doc.Name)
		} else {
			e.Note(rs.Doc.Pos("metadata", "name"), "%q sets no spec.includableBy, so only team %q and the platform team may include it", rs.Doc.Name, owner)
		}
		ok = false
	}
	if teams[ti].RequireTLS && sc.plain {
		l.diags.Errorf(d.Pos(path...), "include-plaintext", "route set %q of team %q would be served over plain HTTP by %s, but team %q requires TLS",
			rs.Doc.Name, owner, sc.vhost.Doc.ID(), owner).
			Note(l.m.Project.Doc.Pos("spec", "teams", ti, "requireTLS"), "team %q requires TLS here", owner)
		ok = false
	}
	return ok
}

// hostListed reports whether a hostname is in a list of names and "*."
// wildcards; a wildcard host must be listed as the same wildcard.
func hostListed(list []string, h string) bool {
	for _, e := range list {
		if e == h {
			return true
		}
		if rest, ok := strings.CutPrefix(e, "*."); ok && !strings.HasPrefix(h, "*.") && strings.HasSuffix(h, "."+rest) {
			return true
		}
	}
	return false
}

// inclusion is how a route came into its virtual host: the teams of the
// documents on its include chain (its own included) and the prefix its
// route set was given ("" for the virtual host's own routes).
type inclusion struct {
	teams []string
	fence string
}

// includeScope adds an include's own conditions to the scope around it.
func (l *lowerer) includeScope(d *intent.Doc, path []any, inc intent.Include, sc scope) (scope, bool) {
	at := func(p ...any) []any { return under(path, p...) }
	inner := scope{prefix: sc.prefix, headers: slices.Clone(sc.headers), vhost: sc.vhost, plain: sc.plain}
	m := inc.Match
	if m == nil {
		return inner, true
	}
	ok := true
	refuse := func(field, why string) {
		l.diags.Errorf(d.KeyPos(at("match", field)...), "include-condition", "%s.match.%s: %s", intent.Path(path...), field, why)
		ok = false
	}
	if p := m.Path; p != nil {
		switch {
		case p.Exact != nil || p.Regex != nil:
			refuse("path", "an include can narrow only by prefix; an exact path or a regular expression does not compose with the routes it includes")
		case p.Prefix != nil:
			if !inside(&ir.Match{PathKind: ir.PathPrefix, Path: *p.Prefix}, sc.prefix) {
				l.diags.Errorf(d.Pos(at("match", "path", "prefix")...), "include-condition", "%s.match.path.prefix: %s is outside the prefix %s this route set was given",
					intent.Path(path...), *p.Prefix, sc.prefix).
					Note(sc.at.Pos(append(slices.Clone(sc.atPath), "match", "path", "prefix")...), "the include that gives %s", sc.prefix)
				ok = false
			}
			inner.prefix = *p.Prefix
		}
	}
	if len(m.Methods) > 0 {
		refuse("methods", "an include cannot restrict methods; restrict them on the routes of the route set")
	}
	if m.GRPC != nil {
		refuse("grpc", "an include can narrow only by prefix and headers; match gRPC services on the routes of the route set")
	}
	if len(m.Query) > 0 {
		refuse("query", "an include cannot match query parameters; match them on the routes of the route set")
	}
	for i, h := range m.Headers {
		if sm, good := l.stringMatch(d, at("match", "headers", i), h.StringMatch); good {
			inner.headers = append(inner.headers, ir.HeaderMatch{Name: strings.ToLower(h.Name), StringMatch: sm, Invert: h.Invert})
		} else {
			ok = false
		}
	}
	return inner, ok
}

// inside reports whether every path a match can take lies within prefix,
// taken as a path boundary: "/payments" holds "/payments" and
// "/payments/..." but not "/paymentsX". A regular expression must start
// with the prefix and a "/" literally.
func inside(m *ir.Match, prefix string) bool {
	if prefix == "" {
		return true
	}
	dir := strings.TrimSuffix(prefix, "/") + "/"
	within := func(p string) bool { return p == prefix || strings.HasPrefix(p, dir) }
	switch m.PathKind {
	case ir.PathRegex:
		return strings.HasPrefix(literalPrefix(m.Path), dir)
	default:
		return within(m.Path)
	}
}
