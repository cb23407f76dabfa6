package lower

import (
	"testing"

	"github.com/edgectl/edgectl/pkg/ir"
)

// TestOverlaps checks the test for "some request certainly matches both
// routes": true only with a request in hand, false when the matches are
// disjoint or cannot be told apart cheaply.
func TestOverlaps(t *testing.T) {
	t.Parallel()
	ex := func(p string) ir.Match { return ir.Match{PathKind: ir.PathExact, Path: p} }
	pre := func(p string) ir.Match { return ir.Match{PathKind: ir.PathPrefix, Path: p} }
	seg := func(p string) ir.Match { return ir.Match{PathKind: ir.PathSegment, Path: p} }
	re := func(p string) ir.Match { return ir.Match{PathKind: ir.PathRegex, Path: p} }
	with := func(m ir.Match, f func(*ir.Match)) ir.Match { f(&m); return m }
	hdr := func(name string, kind ir.MatchKind, value string, invert bool) ir.HeaderMatch {
		return ir.HeaderMatch{Name: name, StringMatch: ir.StringMatch{Kind: kind, Value: value}, Invert: invert}
	}
	for _, tc := range []struct {
		name string
		a, b ir.Match
		want bool
	}{
		{"prefix below prefix", pre("/checkout/x"), pre("/checkout"), true},
		{"sibling prefixes", pre("/cart/"), pre("/checkout/"), false},
		{"prefix below segment", pre("/checkout/x"), seg("/checkout"), true},
		{"prefix beside segment", pre("/checkoutx"), seg("/checkout"), false},
		{"segment at prefix", seg("/checkout"), pre("/check"), true},
		{"exact in prefix", ex("/checkout/confirm"), pre("/checkout/"), true},
		{"exact outside segment", ex("/checkouts"), seg("/checkout"), false},
		{"exact matched by regex", ex("/checkout/12"), re("/checkout/[0-9]+"), true},
		{"exact not matched by regex", ex("/checkout/ab"), re("/checkout/[0-9]+"), false},
		{"regex under prefix", re("/checkout/[0-9]+"), pre("/checkout/"), true},
		{"regex under segment", re("/checkout/[0-9]+"), seg("/checkout"), true},
		{"regex matching the prefix", re("/check(out)?/.*"), pre("/checkout/"), true},
		{"literal-any regex above prefix", re("/check.*"), pre("/checkout/receipts/"), true},
		{"regex elsewhere", re("/cart/[0-9]+"), pre("/checkout/"), false},
		{"regex not told apart", re("/(cart|checkout)/[0-9]+"), pre("/checkout/"), false},
		{"invalid regex", re("/checkout/("), pre("/checkout/"), false},
		{"same regex", re("/a/[0-9]+"), re("/a/[0-9]+"), true},
		{"regex under literal-any", re("/a/[0-9]+"), re("/a/.*"), true},
		{"two other regexes", re("/a/[0-9]+"), re("/a/[a-z0-9]+"), false},
		{"shared method", with(pre("/a"), func(m *ir.Match) { m.Methods = []string{"GET", "POST"} }),
			with(pre("/a/b"), func(m *ir.Match) { m.Methods = []string{"POST"} }), true},
		{"disjoint methods", with(pre("/a"), func(m *ir.Match) { m.Methods = []string{"GET"} }),
			with(pre("/a/b"), func(m *ir.Match) { m.Methods = []string{"POST"} }), false},
		{"one route every method", pre("/a"), with(pre("/a/b"), func(m *ir.Match) { m.Methods = []string{"POST"} }), true},
		{"different headers", with(pre("/a/b"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchExact, "1", false)} }),
			with(pre("/a"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-b", ir.MatchExact, "2", false)} }), true},
		{"one header two values", with(pre("/a/b"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchExact, "1", false)} }),
			with(pre("/a"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchExact, "2", false)} }), false},
		{"present and a value", with(pre("/a/b"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchPresent, "", false)} }),
			with(pre("/a"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchExact, "2", false)} }), true},
		{"present and absent", with(pre("/a/b"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchPresent, "", false)} }),
			with(pre("/a"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchAbsent, "", false)} }), false},
		{"present and inverted", with(pre("/a/b"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchPresent, "", false)} }),
			with(pre("/a"), func(m *ir.Match) { m.Headers = []ir.HeaderMatch{hdr("x-a", ir.MatchExact, "1", true)} }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newMatchInfo(&ir.Route{Match: tc.a}, 0)
			b := newMatchInfo(&ir.Route{Match: tc.b}, 1)
			if got := overlaps(a, b); got != tc.want {
				t.Errorf("overlaps(%s, %s) = %v, want %v", Key(&tc.a), Key(&tc.b), got, tc.want)
			}
			if got := overlaps(b, a); got != tc.want {
				t.Errorf("overlaps(%s, %s) = %v, want %v (the other way round)", Key(&tc.b), Key(&tc.a), got, tc.want)
			}
		})
	}
}

// TestAllowed checks when a route may take requests from another team's:
// when that team included it, or it was given a narrower prefix.
func TestAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		ia, ib inclusion
		want   bool
	}{
		{"host's own routes after a route set", inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, inclusion{teams: []string{"shop"}}, true},
		{"host's own route before a route set", inclusion{teams: []string{"shop"}}, inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, false},
		{"included in turn", inclusion{teams: []string{"shop", "payments", "identity"}, fence: "/checkout/3ds"}, inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, true},
		{"delegator before delegate", inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, inclusion{teams: []string{"shop", "payments", "identity"}, fence: "/checkout/3ds"}, false},
		{"narrower sibling", inclusion{teams: []string{"shop", "identity"}, fence: "/checkout/3ds"}, inclusion{teams: []string{"shop", "growth"}}, true},
		{"siblings with one prefix", inclusion{teams: []string{"shop", "growth"}, fence: "/checkout"}, inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, false},
		{"not a path boundary", inclusion{teams: []string{"shop", "growth"}, fence: "/checkoutx"}, inclusion{teams: []string{"shop", "payments"}, fence: "/checkout"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bTeam := tc.ib.teams[len(tc.ib.teams)-1]
			if got := allowed(tc.ia, tc.ib, bTeam); got != tc.want {
				t.Errorf("allowed = %v, want %v", got, tc.want)
			}
		})
	}
}
