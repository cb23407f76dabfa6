package yamlfast

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A generator writes YAML streams of the shape configuration files have,
// with choices taken from a byte string: the fuzzer's input, or random
// bytes. Most streams are in the fast parser's subset; a few mistakes
// (noise) take them just outside it.
type generator struct {
	choices []byte
	sb      strings.Builder
	depth   int
}

// pick returns a choice in [0, n).
func (g *generator) pick(n int) int {
	if len(g.choices) == 0 {
		return 0
	}
	c := int(g.choices[0])
	g.choices = g.choices[1:]
	return c % n
}

var (
	genKeys = []string{"name", "match", "path", "spec", "a", "b", "x-y", "routes", "'quoted key'",
		"\"dq\"", "1", "true", "null", "~", "a:b", "-k", "a b", "''", "k.l", "on", "<<", "é"}
	genScalars = []string{"value", "1", "1.5", "0x1F", "-1", "+1", "0o17", "1e3", ".5", ".inf", "-.Inf",
		"true", "True", "yes", "no", "null", "Null", "~", "2026-11-30", "2026-11-30T10:00:00Z", "/api/v1",
		"http://x:80/y", "a#b", "a b  c", "500ms", "5xx", "10.0.0.1", "'it''s'", "'a: b'", "\"a\\tb\\u00e9\"",
		"\"\"", "''", "\"x\\\"y\"", "---", "-x", "a:b", "a,b", "a[1]", "{}", "[]", "x # c", "&a x", "*a",
		"!t x", "|", "> x", "\"\\/\"", "'multi\n  line'", "plain\n  continued", "%x", "`x"}
	genFlowScalars = []string{"a", "1", "true", "null", "'q'", "\"dq\"", "a b", "http://x", "-1", "~", "",
		"a:b", "'k':v", "a?b", "x#y", "2001:db8::/48"}
	genNoise    = []string{" ", "\n", ":", "- ", "#", " #", "[", "]", "{", "}", ",", "'", "\"", "\t", "---\n", "  ", "?", "&", "*", "!", "|"}
	genComments = []string{"# c", "#", "#c", "# a: b", "# - x", "# ---", "#'", "# [", "# é", "##"}
)

// eol ends a line, perhaps with a comment, and perhaps writes a line of
// only a comment after it, at any indentation.
func (g *generator) eol() {
	if g.pick(6) == 1 {
		g.sb.WriteString(strings.Repeat(" ", 1+g.pick(2)) + genComments[g.pick(len(genComments))])
	}
	g.sb.WriteString("\n")
	if g.pick(8) == 1 {
		g.indent(g.pick(8))
		g.sb.WriteString(genComments[g.pick(len(genComments))] + "\n")
	}
}

// stream writes a stream of documents.
func (g *generator) stream() string {
	g.sb.Reset()
	if g.pick(6) == 1 {
		g.sb.WriteString(genComments[g.pick(len(genComments))] + "\n")
	}
	docs := g.pick(4)
	if g.pick(4) == 0 {
		g.sb.WriteString("---")
		g.eol()
	}
	for i := range docs {
		if i > 0 {
			switch g.pick(4) {
			case 0:
				g.sb.WriteString("--- ")
				g.flow(false)
				g.eol()
				continue
			case 1:
				g.sb.WriteString("---  \n\n")
			default:
				g.sb.WriteString("---")
				g.eol()
			}
		}
		g.block(g.pick(3))
	}
	s := g.sb.String()
	// Noise: a few characters inserted where the choices say.
	for range g.pick(3) {
		if g.pick(2) == 0 || len(s) == 0 {
			continue
		}
		at := g.pick(256) * len(s) / 256
		s = s[:at] + genNoise[g.pick(len(genNoise))] + s[at:]
	}
	if g.pick(3) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

func (g *generator) indent(n int) {
	g.sb.WriteString(strings.Repeat(" ", n))
}

// block writes a block collection at column ind, starting at the start of
// a line.
func (g *generator) block(ind int) {
	g.depth++
	defer func() { g.depth-- }()
	if g.pick(2) == 0 {
		g.mapping(ind, false)
	} else {
		g.sequence(ind, false)
	}
}

// mapping writes a block mapping at column ind; inline, its first key
// goes where the writer is (after "- ").
func (g *generator) mapping(ind int, inline bool) {
	for i := range 1 + g.pick(4) {
		if i > 0 || !inline {
			g.indent(ind)
		}
		g.sb.WriteString(genKeys[g.pick(len(genKeys))])
		g.sb.WriteString(":")
		g.value(ind)
		if g.pick(8) == 0 {
			g.sb.WriteString("\n") // a blank line
		}
	}
}

// value writes what follows a key's ':' in a mapping at column ind, down
// to the end of its last line.
func (g *generator) value(ind int) {
	switch c := g.pick(8); {
	case c == 0 || g.depth > 6: // empty
		g.sb.WriteString(strings.Repeat(" ", g.pick(2)))
		g.eol()
	case c == 1: // nested
		g.eol()
		g.block(ind + 1 + g.pick(4))
	case c == 2: // indentless sequence
		g.eol()
		g.depth++
		g.sequence(ind, false)
		g.depth--
	case c == 3:
		g.sb.WriteString(" ")
		g.flow(false)
		g.eol()
	default:
		g.sb.WriteString(strings.Repeat(" ", 1+g.pick(2)*3))
		g.sb.WriteString(genScalars[g.pick(len(genScalars))])
		g.sb.WriteString(strings.Repeat(" ", g.pick(3)))
		g.eol()
	}
}

// sequence writes a block sequence at column ind.
func (g *generator) sequence(ind int, inline bool) {
	for i := range 1 + g.pick(4) {
		if i > 0 || !inline {
			g.indent(ind)
		}
		g.sb.WriteString("-")
		switch c := g.pick(8); {
		case c == 0 || g.depth > 6:
			g.sb.WriteString(strings.Repeat(" ", g.pick(2)))
			g.eol()
		case c == 1: // a mapping on the entry's line
			pad := 1 + g.pick(3)
			g.sb.WriteString(strings.Repeat(" ", pad))
			g.depth++
			g.mapping(ind+1+pad, true)
			g.depth--
		case c == 2: // a sequence on the entry's line
			g.sb.WriteString(" ")
			g.depth++
			g.sequence(ind+2, true)
			g.depth--
		case c == 3: // a collection on the next lines
			g.eol()
			g.block(ind + 1 + g.pick(3))
		case c == 4:
			g.sb.WriteString(" ")
			g.flow(false)
			g.eol()
		default:
			g.sb.WriteString(" " + genScalars[g.pick(len(genScalars))])
			g.eol()
		}
	}
}

// flow writes a flow collection, or in one a scalar.
func (g *generator) flow(inside bool) {
	c := g.pick(6)
	if inside && (c > 2 || g.depth > 8) {
		g.sb.WriteString(genFlowScalars[g.pick(len(genFlowScalars))])
		return
	}
	g.depth++
	defer func() { g.depth-- }()
	sp := strings.Repeat(" ", g.pick(3))
	n := g.pick(4)
	if c%2 == 0 {
		g.sb.WriteString("[" + sp)
		for i := range n {
			if i > 0 {
				g.sb.WriteString("," + sp)
			}
			g.flow(true)
		}
		g.sb.WriteString(sp + "]")
		return
	}
	g.sb.WriteString("{" + sp)
	for i := range n {
		if i > 0 {
			g.sb.WriteString("," + sp)
		}
		g.sb.WriteString(genFlowScalars[g.pick(len(genFlowScalars))] + ":" + sp + " ")
		g.flow(true)
	}
	g.sb.WriteString(sp + "}")
}

// generate writes the stream that the choices pick.
func generate(choices []byte) string {
	g := generator{choices: choices}
	return g.stream()
}

// TestGenerated decodes thousands of generated streams with a Decoder and
// with yaml.v3, and checks that many are in the fast parser's subset, also
// with comments.
func TestGenerated(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const n = 4000
	fast, commented := 0, 0
	choices := make([]byte, 512)
	for range n {
		for i := range choices {
			choices[i] = byte(r.Uint32())
		}
		src := generate(choices)
		if d := agree([]byte(src)); d != "" {
			t.Fatalf("yamlfast and yaml.v3 differ on %q: %s", src, d)
		}
		if _, ok := parseFast([]byte(src)); ok {
			fast++
			if hasComments([]byte(src)) {
				commented++
			}
		}
	}
	t.Logf("%d of %d streams took the fast path, %d of them with comments", fast, n, commented)
	if fast < n/5 {
		t.Errorf("only %d of %d streams took the fast path; the generator misses the subset", fast, n)
	}
	if commented < fast/5 {
		t.Errorf("only %d of the %d streams that took the fast path have comments", commented, fast)
	}
}

// hasComments reports whether yaml.v3 finds a comment in the stream data
// and keeps it in a node.
func hasComments(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if dec.Decode(&n) != nil {
			return false
		}
		if hasCommentsNode(&n) {
			return true
		}
	}
}

// hasCommentsNode reports whether a node of the tree n has a comment.
func hasCommentsNode(n *yaml.Node) bool {
	if n.HeadComment != "" || n.LineComment != "" || n.FootComment != "" {
		return true
	}
	return slices.ContainsFunc(n.Content, hasCommentsNode)
}
