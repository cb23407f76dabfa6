package tenancy

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/glob"
)

// TestLiteralDir checks what the index of assign relies on: every path a
// pattern matches is the pattern's literal directory or lies below it, so
// looking a file up by the directories that hold it (and itself) finds
// every team that owns it.
func TestLiteralDir(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ pattern, want string }{
		{"teams/payments/**", "teams/payments"},
		{"teams/t0*/**", "teams"},
		{"**/*.yaml", ""},
		{"gateways/edge.yaml", "gateways/edge.yaml"},
		{"teams/[ab]/x.yaml", "teams"},
		{`teams/\*/x`, "teams"},
		{"*.yaml", ""},
	} {
		if got := literalDir(tc.pattern); got != tc.want {
			t.Errorf("literalDir(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
	segs := []string{"teams", "t0", "t01", "a", "**", "*", "t0*", "x.yaml", "*.yaml", "[at]0", "?"}
	names := []string{"teams", "t0", "t01", "a", "x.yaml", "y.yaml", "t0.yaml"}
	r := rand.New(rand.NewPCG(1, 2))
	join := func(pool []string) string {
		parts := make([]string, 1+r.IntN(4))
		for i := range parts {
			parts[i] = pool[r.IntN(len(pool))]
		}
		return strings.Join(parts, "/")
	}
	matched := 0
	for range 200000 {
		p, f := join(segs), join(names)
		if glob.Match(p, f) {
			matched++
			if d := literalDir(p); d != "" && f != d && !strings.HasPrefix(f, d+"/") {
				t.Fatalf("%q matches %q, which is not %q or below it", p, f, d)
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d random paths matched their patterns", matched)
	}
}
