package lower

import (
	"regexp/syntax"

	"github.com/edgectl/edgectl/pkg/ir"
)

// Overlap is a route of a virtual host that never matches because an
// earlier one takes every request it would: with the same match (Same), or
// with a match that covers it.
type Overlap struct {
	Earlier, Later *ir.Route
	Same           bool
}

// Overlaps finds, for each route of rs (one virtual host's, in precedence
// order), the earlier route with the same match or, failing that, the
// first earlier route that takes all its requests: the checks behind
// duplicate-route and shadowed-route, for a dialect that decides
// precedence by rules of its own.
func Overlaps(rs []*ir.Route) []Overlap {
	infos := make([]*matchInfo, len(rs))
	for j, r := range rs {
		infos[j] = newMatchInfo(r, j)
	}
	var out []Overlap
	for _, c := range findConflicts(infos) {
		out = append(out, Overlap{Earlier: c.a, Later: c.b, Same: c.dup})
	}
	return out
}

// DescribeMatch renders a match for a message: "prefix /api for GET|POST
// with headers x-a, x-b and query q".
func DescribeMatch(m *ir.Match) string { return describeMatch(m) }

// MaxRE2Program is Envoy's default re2.max_program_size.error_level: the
// largest RE2 program a gateway accepts unless edgectl.yaml raises it.
const MaxRE2Program = maxRE2Program

// RE2ProgramSize sizes the RE2 program of a valid pattern as Envoy would
// compile it: min is a lower bound (a larger one is certainly refused),
// approx Go's count of the same program (above the limit, it may be).
func RE2ProgramSize(pattern string) (min, approx int, err error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, 0, err
	}
	min = re2MinSize(re)
	if prog, err := syntax.Compile(re.Simplify()); err == nil {
		approx = len(prog.Inst)
	}
	return min, approx, nil
}
