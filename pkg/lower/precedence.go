package lower

import (
	"cmp"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/ir"
)

// Route precedence. Envoy takes the first route that matches, so edgectl
// orders the routes of a virtual host from most to least specific, and the
// order never depends on which file was read or written first:
//
//  1. exact paths, then regular expressions, then prefixes;
//  2. a longer path (prefix or regular expression) before a shorter one;
//  3. paths of equal length in byte order, which only fixes an order:
//     such paths cannot both match one request unless they are equal;
//  4. for equal paths, more header conditions first, then more query
//     conditions, then routes restricted to methods before routes for
//     every method;
//  5. declaration order: file path, then position in the file.
//
// docs/routing.md explains this with examples.
func sortRoutes(rs []*ir.Route) {
	slices.SortStableFunc(rs, compareRoutes)
}

var pathRank = map[ir.PathKind]int{ir.PathExact: 0, ir.PathRegex: 1, ir.PathPrefix: 2, ir.PathSegment: 2}

func compareRoutes(a, b *ir.Route) int {
	am, bm := &a.Match, &b.Match
	if c := cmp.Compare(pathRank[am.PathKind], pathRank[bm.PathKind]); c != 0 {
		return c
	}
	if c := cmp.Compare(len(bm.Path), len(am.Path)); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(am.Path, bm.Path),
		cmp.Compare(len(bm.Headers), len(am.Headers)),
		cmp.Compare(len(bm.Query), len(am.Query)),
		cmpBool(len(bm.Methods) > 0, len(am.Methods) > 0),
		strings.Compare(a.Origin.File, b.Origin.File),
		cmp.Compare(a.Origin.Line, b.Origin.Line),
		cmp.Compare(a.Origin.Col, b.Origin.Col),
	)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// Key renders a match canonically: two routes with equal keys match exactly
// the same requests.
func Key(m *ir.Match) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", m.PathKind, m.Path)
	if len(m.Methods) > 0 {
		fmt.Fprintf(&b, " methods=%s", strings.Join(m.Methods, ","))
	}
	hs := make([]string, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = condition("header", h.Name, h.StringMatch, h.Invert)
	}
	qs := make([]string, len(m.Query))
	for i, q := range m.Query {
		qs[i] = condition("query", q.Name, q.StringMatch, false)
	}
	slices.Sort(hs)
	slices.Sort(qs)
	for _, s := range append(hs, qs...) {
		b.WriteString(" " + s)
	}
	return b.String()
}

func condition(kind, name string, s ir.StringMatch, invert bool) string {
	out := fmt.Sprintf("%s:%s:%s", kind, name, s.Kind)
	if s.Kind != ir.MatchPresent && s.Kind != ir.MatchAbsent {
		out += fmt.Sprintf("=%q", s.Value)
	}
	if s.IgnoreCase {
		out += ":i"
	}
	if invert {
		out += ":not"
	}
	return out
}

// team names the team of a route in a message, when the other route
// involved belongs to a different team.
func team(t, other string) string {
	if t == "" || t == other {
		return ""
	}
	return fmt.Sprintf(" of team %s", t)
}

// describeMatch renders a match for a message: "prefix /api for GET|POST
// with headers x-a, x-b and query q".
func describeMatch(m *ir.Match) string {
	s := fmt.Sprintf("%s %s", m.PathKind, m.Path)
	if len(m.Methods) > 0 {
		s += " for " + strings.Join(m.Methods, "|")
	}
	var conds []string
	if len(m.Headers) > 0 {
		names := make([]string, len(m.Headers))
		for i, h := range m.Headers {
			names[i] = h.Name
		}
		conds = append(conds, "headers "+strings.Join(names, ", "))
	}
	if len(m.Query) > 0 {
		names := make([]string, len(m.Query))
		for i, q := range m.Query {
			names[i] = q.Name
		}
		conds = append(conds, "query "+strings.Join(names, ", "))
	}
	if len(conds) > 0 {
		s += " with " + strings.Join(conds, " and ")
	}
	return s
}

func subset(xs, ys []string) bool {
	for _, x := range xs {
		if !slices.Contains(ys, x) {
			return false
		}
	}
	return true
}

// literalPrefix returns the text every match of a regex must start with.
func literalPrefix(pattern string) string {
	// A pattern without metacharacters (most paths) is its own prefix,
	// and is spared a compile.
	if regexp.QuoteMeta(pattern) == pattern {
		return pattern
	}
	re := anchored(pattern)
	if re == nil {
		return ""
	}
	p, _ := re.LiteralPrefix()
	return p
}

// prefixAnything reports whether a regex is a literal followed by ".*"
// (such as "/api/.*"), which matches exactly the paths with that prefix.
func prefixAnything(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	last := subs[len(subs)-1]
	if last.Op != syntax.OpStar || (last.Sub[0].Op != syntax.OpAnyChar && last.Sub[0].Op != syntax.OpAnyCharNotNL) {
		return "", false
	}
	var lit strings.Builder
	for _, s := range subs[:len(subs)-1] {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		lit.WriteString(string(s.Rune))
	}
	return lit.String(), true
}
