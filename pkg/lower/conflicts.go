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

// conflict is one finding of findConflicts: b has the same match as a
// (dup), or a takes every request b matches.
type conflict struct {
	dup  bool
	a, b *ir.Route
}

// findConflicts finds, for every route, an earlier one with the same match
// or, failing that, the first earlier route that takes all its requests. rs
// is in precedence order.
func findConflicts(infos []*matchInfo) []conflict {
	var out []conflict
	first := map[string]*ir.Route{}
	x := newIndex()
	for _, bi := range infos {
		b := bi.r
		if a, dup := first[bi.key]; dup {
			out = append(out, conflict{dup: true, a: a, b: b})
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
			out = append(out, conflict{a: by.r, b: b})
		}
		x.add(bi)
	}
	return out
}

// conflicts reports routes that match the same requests (an error: which one
// wins would be an accident of precedence), routes that can never match
// because an earlier route takes every request they would (a warning), and
// routes of one team that take requests from a later route of another
// (an error, see crossTeam). rs is in precedence order.
func (l *lowerer) conflicts(d *intent.Doc, rs []*ir.Route, by map[*ir.Route]inclusion) {
	infos := make([]*matchInfo, len(rs))
	info := func(_ *lowerer, j int) { infos[j] = newMatchInfo(rs[j], j) }
	if len(rs) >= parallelRoutes {
		l.inParallel(len(rs), info)
	} else {
		for j := range rs {
			info(l, j)
		}
	}
	takers := map[*ir.Route]bool{}
	for _, c := range findConflicts(infos) {
		switch {
		case c.dup:
			l.duplicate(d, c.a, c.b)
		case takesFrom(c.a, c.b, by) && !takers[c.a]:
			l.crossTeamShadow(c.a, c.b, true)
			takers[c.a] = true
		case !takesFrom(c.a, c.b, by):
			l.shadowed(c.a, c.b)
		}
	}
	for _, c := range findCrossTeam(infos, by, takers) {
		l.crossTeamShadow(c.a, c.b, false)
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

func (l *lowerer) crossTeamShadow(a, b *ir.Route, all bool) {
	what := "some of the requests"
	if all {
		what = "every request"
	}
	l.diags.Errorf(a.Origin, "cross-team-shadow", "this route of team %s takes %s that the route of team %s at %s matches (%s): it comes first, and team %s did not include it",
		a.Team, what, b.Team, b.Origin, describeMatch(&b.Match), b.Team).
		Note(b.Origin, "the route of team %s whose requests it takes", b.Team)
}

// Cross-team shadowing. Routes are tried in precedence order, so an
// earlier route takes the requests it shares with a later one. Within a
// team that is the team's own business (shadowed-route warns when nothing
// is left). Across teams it is allowed only where the later route's team
// handed the earlier route its place: the earlier route came in through an
// include chain that passes through a document of the later route's team.
// That is delegation working as meant — a virtual host's catch-all "/"
// after the route sets it includes, or a route set's own routes after the
// route sets it includes in turn. Anything else is one team taking requests
// from another: an error, reported at the route that takes them.
//
// "Takes requests" is decided conservatively, so that the error is never
// raised without cause: the two matches must certainly share a request.
// See overlaps for the test.

// takesFrom reports whether a, earlier than b and sharing requests with it,
// takes them across teams without b's team having included it. by lists,
// for each route, the teams of the documents on its include chain.
func takesFrom(a, b *ir.Route, by map[*ir.Route]inclusion) bool {
	return a.Team != "" && b.Team != "" && a.Team != b.Team && !allowed(by[a], by[b], b.Team)
}

// allowed reports whether a route included as ia may take requests from a
// route of team bTeam included as ib: bTeam is on its include chain, or it
// was given a prefix strictly inside the one the other route was given.
func allowed(ia, ib inclusion, bTeam string) bool {
	return slices.Contains(ia.teams, bTeam) || ia.fence != ib.fence && inside(&ir.Match{PathKind: ir.PathPrefix, Path: ia.fence}, ib.fence)
}

// anchor is the text every path of a route starts with: its path, or a
// regular expression's literal prefix.
func anchor(mi *matchInfo) string {
	if mi.r.Match.PathKind == ir.PathRegex {
		return mi.regexLit
	}
	return mi.r.Match.Path
}

// findCrossTeam finds every route that takes some of the requests of a
// later route of another team without being allowed to, except those
// already in takers, each once: with the first route (in precedence order)
// it takes from. takers gains the routes found.
//
// The routes of each team are sorted by anchor. A route b is compared only
// with routes of other teams whose anchor begins b's (found by one binary
// search per prefix of b's anchor) or, when b can match paths below its
// anchor, lies below it (one range of the sorted list). A team all of whose
// routes b's team included is skipped outright, which is what a platform
// catch-all after the teams' route sets meets. The work is near-linear
// unless many routes of other teams sit below a broad route they were not
// included by, and then each is a finding.
func findCrossTeam(infos []*matchInfo, by map[*ir.Route]inclusion, takers map[*ir.Route]bool) []conflict {
	type teamRoutes struct {
		name      string
		infos     []*matchInfo    // by anchor, then precedence
		delegated map[string]bool // teams that included every route of this team
	}
	var teams []*teamRoutes
	byName := map[string]*teamRoutes{}
	for j, mi := range infos {
		r := mi.r
		if r.Team == "" {
			continue
		}
		t := byName[r.Team]
		if t == nil {
			t = &teamRoutes{name: r.Team, delegated: map[string]bool{}}
			for _, d := range by[r].teams {
				t.delegated[d] = true
			}
			byName[r.Team] = t
			teams = append(teams, t)
		}
		t.infos = append(t.infos, infos[j])
		for d := range t.delegated {
			if !slices.Contains(by[r].teams, d) {
				delete(t.delegated, d)
			}
		}
	}
	if len(teams) < 2 {
		return nil
	}
	slices.SortFunc(teams, func(a, b *teamRoutes) int { return strings.Compare(a.name, b.name) })
	for _, t := range teams {
		slices.SortFunc(t.infos, func(a, b *matchInfo) int {
			if c := strings.Compare(anchor(a), anchor(b)); c != 0 {
				return c
			}
			return a.idx - b.idx
		})
	}
	var out []conflict
	for j, bi := range infos {
		b := bi.r
		if b.Team == "" {
			continue
		}
		s := anchor(bi)
		var found []*matchInfo
		try := func(a *matchInfo) {
			if a.idx < j && !takers[a.r] && !allowed(by[a.r], by[b], b.Team) && overlaps(a, bi) {
				takers[a.r] = true
				found = append(found, a)
			}
		}
		below := belowAnchor(bi)
		for _, t := range teams {
			if t.name == b.Team || t.delegated[b.Team] {
				continue
			}
			key := func(a *matchInfo) string { return anchor(a) }
			// Anchors that begin s, s itself included.
			for k := 0; k <= len(s); k++ {
				i, _ := slices.BinarySearchFunc(t.infos, s[:k], func(a *matchInfo, p string) int { return strings.Compare(key(a), p) })
				for ; i < len(t.infos) && key(t.infos[i]) == s[:k]; i++ {
					try(t.infos[i])
				}
			}
			if !below {
				continue
			}
			// Anchors below s.
			i, _ := slices.BinarySearchFunc(t.infos, s, func(a *matchInfo, p string) int { return strings.Compare(key(a), p) })
			for ; i < len(t.infos) && strings.HasPrefix(key(t.infos[i]), s); i++ {
				if key(t.infos[i]) != s {
					try(t.infos[i])
				}
			}
		}
		slices.SortFunc(found, func(x, y *matchInfo) int { return x.idx - y.idx })
		for _, a := range found {
			out = append(out, conflict{a: a.r, b: b})
		}
	}
	return out
}

// belowAnchor reports whether a route can share requests with routes whose
// anchor lies below its own: a prefix does, and a regular expression may.
func belowAnchor(mi *matchInfo) bool {
	return mi.r.Match.PathKind != ir.PathExact
}

// overlaps reports whether some request certainly matches both a and b. It
// assumes each match on its own matches some request, and answers false
// when it cannot tell. Methods overlap when either route takes every method
// or they share one. Header (and query) conditions are compatible when, for
// every name both routes test, they test it the same way, or one only asks
// that it be present and the other neither inverts nor asks for absence.
// Paths overlap as pathsOverlap says.
func overlaps(a, b *matchInfo) bool {
	am, bm := &a.r.Match, &b.r.Match
	if len(am.Methods) > 0 && len(bm.Methods) > 0 && !slices.ContainsFunc(am.Methods, func(m string) bool { return slices.Contains(bm.Methods, m) }) {
		return false
	}
	return conditionsCompatible(headerConds(am), headerConds(bm)) &&
		conditionsCompatible(queryConds(am), queryConds(bm)) &&
		pathsOverlap(a, b)
}

type cond struct {
	name string
	ir.StringMatch
	invert bool
}

func headerConds(m *ir.Match) []cond {
	out := make([]cond, len(m.Headers))
	for i, h := range m.Headers {
		out[i] = cond{h.Name, h.StringMatch, h.Invert}
	}
	return out
}

func queryConds(m *ir.Match) []cond {
	out := make([]cond, len(m.Query))
	for i, q := range m.Query {
		out[i] = cond{name: q.Name, StringMatch: q.StringMatch}
	}
	return out
}

func conditionsCompatible(as, bs []cond) bool {
	on := func(cs []cond, name string) []cond {
		var out []cond
		for _, c := range cs {
			if c.name == name && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out
	}
	justPresent := func(cs []cond) bool {
		return len(cs) == 1 && cs[0].Kind == ir.MatchPresent && !cs[0].invert
	}
	positive := func(cs []cond) bool {
		return !slices.ContainsFunc(cs, func(c cond) bool { return c.invert || c.Kind == ir.MatchAbsent })
	}
	for _, x := range as {
		ca, cb := on(as, x.name), on(bs, x.name)
		if len(cb) == 0 {
			continue
		}
		same := len(ca) == len(cb) && !slices.ContainsFunc(ca, func(c cond) bool { return !slices.Contains(cb, c) })
		if !same && !(justPresent(ca) && positive(cb)) && !(justPresent(cb) && positive(ca)) {
			return false
		}
	}
	return true
}

// pathsOverlap reports whether some path certainly matches both routes'
// path conditions. Two prefixes overlap when one begins the other; an exact
// path when the other route takes it; a regular expression when every path
// it matches lies under the other's prefix (its literal prefix does), when
// it is "literal.*" and takes the other's prefix or literal prefix, or when
// it matches the other's prefix itself. Two different regular expressions
// that are neither of these shapes are not compared: that would take
// intersecting automata.
func pathsOverlap(a, b *matchInfo) bool {
	if a.r.Match.PathKind == ir.PathRegex && b.r.Match.PathKind != ir.PathRegex {
		a, b = b, a
	}
	am, bm := &a.r.Match, &b.r.Match
	// Now a regex, if any, is b.
	takes := func(m *ir.Match, p string) bool { // does m's path match the path p?
		switch m.PathKind {
		case ir.PathExact:
			return p == m.Path
		case ir.PathPrefix:
			return strings.HasPrefix(p, m.Path)
		case ir.PathSegment:
			return p == m.Path || strings.HasPrefix(p, m.Path+"/")
		}
		return false
	}
	switch {
	case am.PathKind == ir.PathExact:
		if bm.PathKind == ir.PathRegex {
			return b.re != nil && b.re.MatchString(am.Path)
		}
		return takes(bm, am.Path)
	case bm.PathKind == ir.PathExact:
		return takes(am, bm.Path)
	case bm.PathKind != ir.PathRegex:
		// Prefixes: the longer path is taken by both when the shorter
		// route takes it.
		if len(am.Path) < len(bm.Path) {
			return takes(am, bm.Path)
		}
		return takes(bm, am.Path)
	case am.PathKind != ir.PathRegex:
		// A prefix and a regex.
		under := am.Path
		if am.PathKind == ir.PathSegment {
			under += "/"
		}
		return b.re != nil && (strings.HasPrefix(b.regexLit, under) || b.re.MatchString(am.Path) ||
			b.anyOK && strings.HasPrefix(am.Path, b.anyLit))
	}
	// Two regexes.
	if a.re == nil || b.re == nil {
		return false
	}
	return am.Path == bm.Path || a.anyOK && strings.HasPrefix(b.regexLit, a.anyLit) || b.anyOK && strings.HasPrefix(a.regexLit, b.anyLit)
}
