package lower

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// TestConflictsAgreeWithPairwise checks the indexed conflict checks against
// the algorithm they replaced, which compares every route with every earlier
// one: on random route sets built to overlap (few path pieces, regexes of
// every shape the checks treat apart, shared conditions), both must give
// exactly the same findings in the same order. Half the sets are in
// precedence order, as lowering passes them; half in random order, which
// puts regexes and prefixes before exact paths and so reaches every way one
// match can cover another.
func TestConflictsAgreeWithPairwise(t *testing.T) {
	t.Parallel()
	for seed := range uint64(600) {
		r := rand.New(rand.NewPCG(seed, 7))
		rs := randomRoutes(r, 1+r.IntN(120))
		if seed%2 == 0 {
			sortRoutes(rs)
		}
		got, want := findConflicts(infosOf(rs)), pairwiseConflicts(rs)
		if !reflect.DeepEqual(got, want) {
			var b strings.Builder
			for _, r := range rs {
				fmt.Fprintf(&b, "  %v %s\n", r.Origin, Key(&r.Match))
			}
			t.Fatalf("seed %d: indexed checks differ from pairwise ones\nroutes:\n%s--- got\n%s--- want\n%s",
				seed, b.String(), conflictsString(got), conflictsString(want))
		}
	}
}

// TestConflictsFindings checks that the random sets exercise what the
// equivalence test relies on: both findings occur, from every path kind,
// and regexes take exact paths.
func TestConflictsFindings(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for seed := range uint64(600) {
		r := rand.New(rand.NewPCG(seed, 7))
		rs := randomRoutes(r, 1+r.IntN(120))
		if seed%2 == 0 {
			sortRoutes(rs)
		}
		for _, c := range findConflicts(infosOf(rs)) {
			rule := "shadowed-route"
			if c.dup {
				rule = "duplicate-route"
			}
			seen[fmt.Sprintf("%s by %s", rule, c.a.Match.PathKind)] = true
			seen[fmt.Sprintf("%s %s by %s", rule, c.b.Match.PathKind, c.a.Match.PathKind)] = true
		}
	}
	for _, k := range []ir.PathKind{ir.PathExact, ir.PathPrefix, ir.PathSegment, ir.PathRegex} {
		for _, rule := range []string{"duplicate-route", "shadowed-route"} {
			if !seen[fmt.Sprintf("%s by %s", rule, k)] {
				t.Errorf("no %s by a %s route in the random sets", rule, k)
			}
		}
	}
	for _, k := range []string{"shadowed-route exact by regex", "shadowed-route regex by prefix", "shadowed-route path-prefix by regex"} {
		if !seen[k] {
			t.Errorf("no %s in the random sets", k)
		}
	}
}

func conflictsString(cs []conflict) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%v (%s) by %v (%s), dup=%v\n", c.b.Origin, Key(&c.b.Match), c.a.Origin, Key(&c.a.Match), c.dup)
	}
	return b.String()
}

var (
	randomPaths = []string{"/", "/a", "/a/", "/a/b", "/a/b/", "/ab", "/a/b/c", "/b", "/b/c", "/a.b"}
	// Regexes: "literal.*" ones, ones with a literal prefix, ones with
	// none, one that does not compile.
	randomRegexes = []string{"/a/.*", "/.*", "/a.*", ".*", "/a/b/.*", "/a/[0-9]+", "/a/b/[a-z]", "(/a|/b)/c",
		"/a(/.*)?", "/b/c", "/(", "/a/b/c|/b/c", "/A/.*", "(?i)/a/.*"}
	randomHeaders = []ir.HeaderMatch{
		{Name: "x-a", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "1"}},
		{Name: "x-a", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "1", IgnoreCase: true}},
		{Name: "x-b", StringMatch: ir.StringMatch{Kind: ir.MatchPresent}},
		{Name: "x-b", StringMatch: ir.StringMatch{Kind: ir.MatchPresent}, Invert: true},
		{Name: "x-c", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: "v"}},
	}
	randomQuery = []ir.QueryMatch{
		{Name: "q", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "1"}},
		{Name: "x-a", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "1"}},
	}
	randomMethods = []string{"GET", "HEAD", "POST"}
)

func randomRoutes(r *rand.Rand, n int) []*ir.Route {
	teams := []string{"", "shop", "payments"}
	rs := make([]*ir.Route, n)
	for i := range rs {
		m := ir.Match{}
		switch r.IntN(4) {
		case 0:
			m.PathKind, m.Path = ir.PathExact, randomPaths[r.IntN(len(randomPaths))]
		case 1:
			m.PathKind, m.Path = ir.PathPrefix, randomPaths[r.IntN(len(randomPaths))]
		case 2:
			m.PathKind, m.Path = ir.PathSegment, strings.TrimSuffix(randomPaths[r.IntN(len(randomPaths))], "/")
			if m.Path == "" {
				m.Path = "/"
			}
		case 3:
			m.PathKind, m.Path = ir.PathRegex, randomRegexes[r.IntN(len(randomRegexes))]
		}
		if r.IntN(3) == 0 {
			for _, meth := range randomMethods {
				if r.IntN(2) == 0 {
					m.Methods = append(m.Methods, meth)
				}
			}
		}
		// Mostly few conditions; sometimes more than the checks look up
		// subsets of, repeated ones included.
		nh := r.IntN(3)
		if r.IntN(20) == 0 {
			nh = maxSubsetConds + 2
		}
		for range nh {
			m.Headers = append(m.Headers, randomHeaders[r.IntN(len(randomHeaders))])
		}
		for range r.IntN(2) {
			m.Query = append(m.Query, randomQuery[r.IntN(len(randomQuery))])
		}
		rs[i] = &ir.Route{Match: m, Team: teams[r.IntN(len(teams))],
			Origin: diag.Pos{File: fmt.Sprintf("f%d.yaml", r.IntN(3)), Line: i + 1, Col: 5}}
	}
	return rs
}

// pairwiseConflicts is the conflict check as it was before routes were
// indexed: every route against every earlier one. It is the reference
// findConflicts must agree with.
func pairwiseConflicts(rs []*ir.Route) []conflict {
	var out []conflict
	first := map[string]*ir.Route{}
	for j, b := range rs {
		key := Key(&b.Match)
		if a, dup := first[key]; dup {
			out = append(out, conflict{dup: true, a: a, b: b})
			continue
		}
		first[key] = b
		for _, a := range rs[:j] {
			if Key(&a.Match) != key && covers(&a.Match, &b.Match) {
				out = append(out, conflict{a: a, b: b})
				break
			}
		}
	}
	return out
}

// covers reports whether every request matching b also matches a. It is
// conservative: false means "not proven".
func covers(a, b *ir.Match) bool {
	if len(a.Methods) > 0 && (len(b.Methods) == 0 || !subset(b.Methods, a.Methods)) {
		return false
	}
	for _, h := range a.Headers {
		if !slices.ContainsFunc(b.Headers, func(x ir.HeaderMatch) bool { return x == h }) {
			return false
		}
	}
	for _, q := range a.Query {
		if !slices.ContainsFunc(b.Query, func(x ir.QueryMatch) bool { return x == q }) {
			return false
		}
	}
	return pathCovers(a, b)
}

// pathCovers reports whether a's path condition holds for every path that
// satisfies b's. Paths always start with "/".
func pathCovers(a, b *ir.Match) bool {
	if a.PathKind == ir.PathSegment {
		// a takes its path and what is below it.
		below := func(p string) bool { return p == a.Path || strings.HasPrefix(p, a.Path+"/") }
		switch b.PathKind {
		case ir.PathExact, ir.PathSegment:
			return below(b.Path)
		case ir.PathPrefix:
			return strings.HasPrefix(b.Path, a.Path+"/")
		case ir.PathRegex:
			return strings.HasPrefix(literalPrefix(b.Path), a.Path+"/")
		}
		return false
	}
	if b.PathKind == ir.PathSegment && a.PathKind == ir.PathPrefix {
		return strings.HasPrefix(b.Path, a.Path)
	}
	switch a.PathKind {
	case ir.PathPrefix:
		switch b.PathKind {
		case ir.PathPrefix, ir.PathExact:
			return strings.HasPrefix(b.Path, a.Path)
		case ir.PathRegex:
			return a.Path == "/" || strings.HasPrefix(literalPrefix(b.Path), a.Path)
		}
	case ir.PathExact:
		return b.PathKind == ir.PathExact && a.Path == b.Path
	case ir.PathRegex:
		if b.PathKind == ir.PathExact {
			re := anchored(a.Path)
			return re != nil && re.MatchString(b.Path)
		}
		if lit, ok := prefixAnything(a.Path); ok {
			if b.PathKind == ir.PathPrefix {
				return strings.HasPrefix(b.Path, lit)
			}
			return strings.HasPrefix(literalPrefix(b.Path), lit)
		}
		return a.Path == b.Path && a.PathKind == b.PathKind
	}
	return false
}

func infosOf(rs []*ir.Route) []*matchInfo {
	out := make([]*matchInfo, len(rs))
	for j, r := range rs {
		out[j] = newMatchInfo(r, j)
	}
	return out
}

// BenchmarkConflicts runs the conflict checks on one virtual host of many
// routes of the shapes hack/genrepo writes, two teams sharing it.
func BenchmarkConflicts(b *testing.B) {
	for _, n := range []int{20000, 100000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			rs := make([]*ir.Route, n)
			by := map[*ir.Route]inclusion{}
			for i := range rs {
				m := ir.Match{}
				switch i % 5 {
				case 0:
					m = ir.Match{PathKind: ir.PathExact, Path: fmt.Sprintf("/api/v1/resource%d", i), Methods: []string{"GET", "HEAD"}}
				case 1:
					m = ir.Match{PathKind: ir.PathRegex, Path: fmt.Sprintf("/api/v2/items%d/[0-9]+", i)}
				case 2:
					m = ir.Match{PathKind: ir.PathPrefix, Path: fmt.Sprintf("/api/v3/area%d/", i),
						Headers: []ir.HeaderMatch{{Name: "x-tenant", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: fmt.Sprint(i % 100)}}}}
				default:
					m = ir.Match{PathKind: ir.PathPrefix, Path: fmt.Sprintf("/app%d/", i)}
				}
				team := []string{"shop", "payments"}[i%2]
				rs[i] = &ir.Route{Match: m, Team: team, Origin: diag.Pos{File: "vh.yaml", Line: i + 1}}
				by[rs[i]] = inclusion{teams: []string{"shop", team}}
			}
			sortRoutes(rs)
			d := &intent.Doc{File: "vh.yaml", Kind: "VirtualHost", Name: "vh"}
			b.ReportAllocs()
			for b.Loop() {
				l := &lowerer{}
				l.conflicts(d, rs, by)
				if len(l.diags) != 0 {
					b.Fatalf("findings: %v", l.diags[0])
				}
			}
		})
	}
}
