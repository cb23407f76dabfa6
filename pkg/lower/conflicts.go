package lower

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Conflict checks. A virtual host can hold tens of thousands of routes, so
// a route is never compared with every earlier one. The routes already seen
// are indexed by what can cover a later route:
//
//   - exact paths by path, for an exact route with the same path;
//   - prefixes (plain and path-separated) by path: the candidates for a
//     route are the prefixes of its path (of a regular expression's literal
//     prefix), one map lookup each;
//   - regular expressions by their literal prefix, the text every match
//     starts with: only a regex whose literal prefix begins the path of an
//     exact route can match it, and only those are run. A regex with a short
//     literal prefix (say "/") is run against every exact path below it,
//     which is the one cost that grows with regexes × exact routes;
//   - regular expressions of the form "literal.*" by that literal, and every
//     regex by its pattern, for prefix and regex routes.
//
// Under each path, routes are grouped by their header and query
// conditions: a route covers another only if its conditions are a subset
// of the other's, so the groups looked up are the subsets of the later
// route's conditions (all of them when it has more than maxSubsetConds).
// Methods are compared within a group. The findings are exactly those of
// comparing every pair (conflicts_test.go keeps that algorithm and checks
// the two agree on random route sets).

// maxSubsetConds bounds the subsets of a route's conditions that are looked
// up (2^maxSubsetConds); a route with more scans every group of a path.
const maxSubsetConds = 10

// matchInfo is a route with what the checks derive from its match,
// computed once.
type matchInfo struct {
	r       *ir.Route
	idx     int // position in precedence order
	key     string
	conds   []string // header and query conditions, canonical, sorted, unique
	condKey string
	// regexLit is the literal prefix of the path read as a regular
	// expression (regex and path-separated prefix routes, as pathCovers
	// reads them); anyLit and anyOK say whether a regex is "literal.*".
	regexLit string
	anyLit   string
	anyOK    bool
	re       *regexp.Regexp // a regex path, anchored; nil if it does not compile
}

func newMatchInfo(r *ir.Route, idx int) *matchInfo {
	m := &r.Match
	mi := &matchInfo{r: r, idx: idx, key: Key(m)}
	for _, h := range m.Headers {
		mi.conds = append(mi.conds, "h"+strconv.Quote(h.Name)+strconv.Quote(string(h.Kind))+strconv.Quote(h.Value)+
			strconv.FormatBool(h.IgnoreCase)+strconv.FormatBool(h.Invert))
	}
	for _, q := range m.Query {
		mi.conds = append(mi.conds, "q"+strconv.Quote(q.Name)+strconv.Quote(string(q.Kind))+strconv.Quote(q.Value)+
			strconv.FormatBool(q.IgnoreCase))
	}
	slices.Sort(mi.conds)
	mi.conds = slices.Compact(mi.conds)
	mi.condKey = strings.Join(mi.conds, "\x00")
	switch m.PathKind {
	case ir.PathRegex:
		mi.re = anchored(m.Path)
		if mi.re != nil {
			mi.regexLit, _ = mi.re.LiteralPrefix()
		}
		mi.anyLit, mi.anyOK = prefixAnything(m.Path)
	case ir.PathSegment:
		mi.regexLit = literalPrefix(m.Path)
	}
	return mi
}

// group holds the routes under one path, by their conditions.
type group struct {
	all    []*matchInfo
	byCond map[string][]*matchInfo
}

func (g *group) add(mi *matchInfo) {
	g.all = append(g.all, mi)
	if g.byCond == nil {
		g.byCond = map[string][]*matchInfo{}
	}
	g.byCond[mi.condKey] = append(g.byCond[mi.condKey], mi)
}

// each calls f for every route of g whose conditions may be a subset of b's.
func (g *group) each(b *matchInfo, f func(*matchInfo)) {
	if g == nil {
		return
	}
	n := len(b.conds)
	if n > maxSubsetConds || 1<<n > len(g.byCond)*4 {
		for _, a := range g.all {
			f(a)
		}
		return
	}
	var sel []string
	for mask := 0; mask < 1<<n; mask++ {
		sel = sel[:0]
		for i, c := range b.conds {
			if mask&(1<<i) != 0 {
				sel = append(sel, c)
			}
		}
		for _, a := range g.byCond[strings.Join(sel, "\x00")] {
			f(a)
		}
	}
}

// index holds the routes seen so far that can cover later ones.
type index struct {
	exact    map[string]*group // exact paths
	prefix   map[string]*group // prefixes and path-separated prefixes
	regexLit map[string]*group // regexes by literal prefix
	regexAny map[string]*group // "literal.*" regexes by literal
	regex    map[string]*group // regexes by pattern
}

func newIndex() *index {
	return &index{exact: map[string]*group{}, prefix: map[string]*group{}, regexLit: map[string]*group{},
		regexAny: map[string]*group{}, regex: map[string]*group{}}
}

func addTo(m map[string]*group, k string, mi *matchInfo) {
	g := m[k]
	if g == nil {
		g = &group{}
		m[k] = g
	}
	g.add(mi)
}

func (x *index) add(mi *matchInfo) {
	m := &mi.r.Match
	switch m.PathKind {
	case ir.PathExact:
		addTo(x.exact, m.Path, mi)
	case ir.PathPrefix, ir.PathSegment:
		addTo(x.prefix, m.Path, mi)
	case ir.PathRegex:
		addTo(x.regexLit, mi.regexLit, mi)
		if mi.anyOK {
			addTo(x.regexAny, mi.anyLit, mi)
		}
		addTo(x.regex, m.Path, mi)
	}
}

// prefixes calls f with the group of every key of m that begins s.
func prefixes(m map[string]*group, s string, b *matchInfo, f func(*matchInfo)) {
	for k := 0; k <= len(s); k++ {
		m[s[:k]].each(b, f)
	}
}

// candidates calls f for every indexed route that may cover b: a superset
// of those that do.
func (x *index) candidates(b *matchInfo, f func(*matchInfo)) {
	m := &b.r.Match
	switch m.PathKind {
	case ir.PathExact:
		x.exact[m.Path].each(b, f)
		prefixes(x.prefix, m.Path, b, f)
		prefixes(x.regexLit, m.Path, b, f)
	case ir.PathPrefix:
		prefixes(x.prefix, m.Path, b, f)
		prefixes(x.regexAny, m.Path, b, f)
	case ir.PathSegment:
		prefixes(x.prefix, m.Path, b, f)
		prefixes(x.regexAny, b.regexLit, b, f)
	case ir.PathRegex:
		prefixes(x.prefix, b.regexLit, b, f)
		if !strings.HasPrefix(b.regexLit, "/") {
			x.prefix["/"].each(b, f)
		}
		prefixes(x.regexAny, b.regexLit, b, f)
		x.regex[m.Path].each(b, f)
	}
}

// conflicts reports routes that match the same requests (an error: which one
// wins would be an accident of precedence) and routes that can never match
// because an earlier route takes every request they would (a warning). rs is
// in precedence order; of several routes that cover one, the first is named.
func (l *lowerer) conflicts(d *intent.Doc, rs []*ir.Route) {
	first := map[string]*ir.Route{}
	x := newIndex()
	for j, b := range rs {
		bi := newMatchInfo(b, j)
		if a, dup := first[bi.key]; dup {
			l.duplicate(d, a, b)
			continue
		}
		first[bi.key] = b
		var by *matchInfo
		x.candidates(bi, func(a *matchInfo) {
			if (by == nil || a.idx < by.idx) && coversInfo(a, bi) {
				by = a
			}
		})
		if by != nil {
			l.shadowed(by.r, b)
		}
		x.add(bi)
	}
}

func (l *lowerer) duplicate(d *intent.Doc, a, b *ir.Route) {
	other := "another route"
	if t := team(a.Team, b.Team); t != "" {
		other = "a route" + t
	}
	l.diags.Errorf(b.Origin, "duplicate-route", "this route%s has the same match as %s in %s (%s)", team(b.Team, a.Team), other, d.ID(), describeMatch(&b.Match)).
		Note(a.Origin, "the other route%s", team(a.Team, b.Team))
}

func (l *lowerer) shadowed(a, b *ir.Route) {
	l.diags.Warnf(b.Origin, "shadowed-route", "this route%s never matches: every request it matches is taken first by the route%s for %s", team(b.Team, a.Team), team(a.Team, b.Team), describeMatch(&a.Match)).
		Note(a.Origin, "the route%s that takes its requests", team(a.Team, b.Team))
}

// coversInfo is covers with the regexes compiled once.
func coversInfo(a, b *matchInfo) bool {
	am, bm := &a.r.Match, &b.r.Match
	if len(am.Methods) > 0 && (len(bm.Methods) == 0 || !subset(bm.Methods, am.Methods)) {
		return false
	}
	if !sortedSubset(a.conds, b.conds) {
		return false
	}
	return pathCoversInfo(a, b)
}

// sortedSubset reports whether every element of the sorted xs is in the
// sorted ys.
func sortedSubset(xs, ys []string) bool {
	i := 0
	for _, x := range xs {
		for i < len(ys) && ys[i] < x {
			i++
		}
		if i == len(ys) || ys[i] != x {
			return false
		}
	}
	return true
}

// pathCoversInfo is pathCovers with regexes compiled once.
func pathCoversInfo(a, b *matchInfo) bool {
	am, bm := &a.r.Match, &b.r.Match
	if am.PathKind == ir.PathSegment {
		below := func(p string) bool { return p == am.Path || strings.HasPrefix(p, am.Path+"/") }
		switch bm.PathKind {
		case ir.PathExact, ir.PathSegment:
			return below(bm.Path)
		case ir.PathPrefix:
			return strings.HasPrefix(bm.Path, am.Path+"/")
		case ir.PathRegex:
			return strings.HasPrefix(b.regexLit, am.Path+"/")
		}
		return false
	}
	if bm.PathKind == ir.PathSegment && am.PathKind == ir.PathPrefix {
		return strings.HasPrefix(bm.Path, am.Path)
	}
	switch am.PathKind {
	case ir.PathPrefix:
		switch bm.PathKind {
		case ir.PathPrefix, ir.PathExact:
			return strings.HasPrefix(bm.Path, am.Path)
		case ir.PathRegex:
			return am.Path == "/" || strings.HasPrefix(b.regexLit, am.Path)
		}
	case ir.PathExact:
		return bm.PathKind == ir.PathExact && am.Path == bm.Path
	case ir.PathRegex:
		if bm.PathKind == ir.PathExact {
			return a.re != nil && a.re.MatchString(bm.Path)
		}
		if a.anyOK {
			if bm.PathKind == ir.PathPrefix {
				return strings.HasPrefix(bm.Path, a.anyLit)
			}
			return strings.HasPrefix(b.regexLit, a.anyLit)
		}
		return am.Path == bm.Path && am.PathKind == bm.PathKind
	}
	return false
}
