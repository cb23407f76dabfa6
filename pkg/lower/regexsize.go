package lower

import (
	"regexp/syntax"
	"unicode"
)

// RE2 program size. Envoy refuses a regex whose RE2 program has more
// instructions than re2.max_program_size.error_level (100 by default). Go's
// regexp/syntax compiles a similar program, but its size is no measure of
// RE2's: RE2 matches bytes, so "." or a Unicode class becomes a UTF-8
// automaton of dozens to over a thousand instructions where Go has one,
// and RE2 factors alternations ("GET|HEAD|...") that Go keeps apart. On
// the cases in regexsize_test.go Go's count is from 0.8 to 300 times
// RE2's, neither a bound above nor below.
//
// re2MinSize is instead a lower bound on RE2's count: every RE2 program
// has a fail and a match instruction; a literal needs at least one
// instruction per character, a class or "." at least one; RE2 expands a
// counted repetition x{n,m} into m copies of x (n when unbounded, x{n,}
// being n-1 copies and x+), each compiled on its own; an alternation
// needs at least as many as its largest branch, since RE2 may share the
// rest; a capture group adds two. Repetitions of a single character next
// to each other may be merged by RE2 (a*a becomes a+), so within a
// concatenation those count only their minimum. A regex whose bound
// exceeds the limit is refused by Envoy for certain; the bound is the
// margin, and the estimate above it only warns.
func re2MinSize(re *syntax.Regexp) int {
	return 2 + minInsts(re, false)
}

// minInsts bounds the instructions of re from below; merged says whether a
// neighbour may absorb it (only its minimum count is then certain).
func minInsts(re *syntax.Regexp, merged bool) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return 1
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture:
		return 2 + minInsts(re.Sub[0], false)
	case syntax.OpStar:
		return 0
	case syntax.OpPlus:
		return minInsts(re.Sub[0], false)
	case syntax.OpQuest:
		if merged {
			return 0
		}
		return minInsts(re.Sub[0], false)
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 || merged {
			n = re.Min
		}
		return n * minInsts(re.Sub[0], false)
	case syntax.OpConcat:
		total := 0
		for i, sub := range re.Sub {
			m := i > 0 && mayMerge(sub, re.Sub[i-1], false) || i+1 < len(re.Sub) && mayMerge(sub, re.Sub[i+1], true)
			total += minInsts(sub, m)
		}
		return total
	case syntax.OpAlternate:
		most := 0
		for _, sub := range re.Sub {
			most = max(most, minInsts(sub, false))
		}
		return most
	}
	return 0 // empty-width assertions, empty match, no match
}

// mayMerge reports whether RE2 may merge a single-character repetition
// with its neighbour: a repetition of the same character, or a literal
// that begins (after) or ends (before) with it.
func mayMerge(re, next *syntax.Regexp, after bool) bool {
	if !singleCharRepeat(re) {
		return false
	}
	op := re.Sub[0]
	if singleCharRepeat(next) {
		return op.Equal(next.Sub[0])
	}
	if next.Op != syntax.OpLiteral || op.Op != syntax.OpLiteral || len(next.Rune) == 0 {
		return false
	}
	r := next.Rune[len(next.Rune)-1]
	if after {
		r = next.Rune[0]
	}
	return unicode.SimpleFold(r) == op.Rune[0] || r == op.Rune[0] || unicode.ToLower(r) == unicode.ToLower(op.Rune[0])
}

func singleChar(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) == 1
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	}
	return false
}

func singleCharRepeat(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return singleChar(re.Sub[0])
	}
	return false
}
