package intent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// The YAML parser names a line only, often the wrong one (the start of the
// enclosing block rather than the line at fault), in its own terms. The
// functions here find the place a person would point at (the bad byte, the
// quote left open, the line indented wrongly) and say what is wrong in plain
// words.

// text is a file's content with the means to turn offsets into positions.
type text struct {
	file  string
	data  []byte
	lines []int // offset of the start of each line
}

func newText(file string, data []byte) *text {
	t := &text{file: file, data: data, lines: []int{0}}
	for i, b := range data {
		if b == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	return t
}

// pos returns the position of the byte at offset: 1-based line, and column
// in characters (an invalid byte counts as one; the byte order mark at the
// start of the file counts as none, as editors show it).
func (t *text) pos(off int) diag.Pos {
	off = min(max(off, 0), len(t.data))
	line := searchLine(t.lines, off)
	start := t.lines[line]
	if line == 0 && bytes.HasPrefix(t.data, bom) && off >= len(bom) {
		start = len(bom)
	}
	return diag.Pos{File: t.file, Line: line + 1, Col: utf8.RuneCount(t.data[start:off]) + 1}
}

func searchLine(lines []int, off int) int {
	lo, hi := 0, len(lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// line returns the content of 1-based line n without its line break, and
// the offset where it starts.
func (t *text) line(n int) ([]byte, int) {
	if n < 1 || n > len(t.lines) {
		return nil, len(t.data)
	}
	start, end := t.lines[n-1], len(t.data)
	if n < len(t.lines) {
		end = t.lines[n] - 1
	}
	return bytes.TrimSuffix(t.data[start:end], []byte("\r")), start
}

// indent returns the number of leading spaces of a line.
func indent(line []byte) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n
}

// firstToken returns the offset of the first character of line n that is
// not a space or tab.
func (t *text) firstToken(n int) int {
	line, start := t.line(n)
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if n == 1 && bytes.HasPrefix(line, bom) {
		i = len(bom) + indent(line[len(bom):])
	}
	return start + i
}

var bom = []byte("\ufeff")

// checkEncoding finds what the YAML reader refuses before it parses
// anything: bytes that are not UTF-8, control characters, a byte order mark
// past the start.
func checkEncoding(t *text) (diag.Diagnostic, bool) {
	data := t.data
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return yamlDiag(t.pos(0), "the file is UTF-16; save it as UTF-8"), true
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			if utf8.FullRune(data[i:]) {
				return yamlDiag(t.pos(i), fmt.Sprintf("byte 0x%02x is not UTF-8; save the file as UTF-8", data[i])), true
			}
			return yamlDiag(t.pos(i), "the file ends in the middle of a UTF-8 character; save the file as UTF-8"), true
		case r == 0:
			return yamlDiag(t.pos(i), "found a NUL byte; a YAML file is text"), true
		case r == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return yamlDiag(t.pos(i), "found a carriage return without a line feed, which YAML reads as a line break; save the file with LF or CRLF line endings"), true
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			return yamlDiag(t.pos(i), fmt.Sprintf("found %U, which YAML reads as a line break; use a line feed, or an escape in a double-quoted string", r)), true
		case r == 0xfeff && i > 0:
			return yamlDiag(t.pos(i), "found a byte order mark (U+FEFF) inside the file, as joining two files leaves; remove it"), true
		case !printable(r):
			return yamlDiag(t.pos(i), fmt.Sprintf("found the control character %U, which YAML does not allow; remove it or write it as an escape in a double-quoted string", r)), true
		}
		i += size
	}
	return diag.Diagnostic{}, false
}

// printable is YAML's set of characters a stream may hold.
func printable(r rune) bool {
	return r == 0x09 || r == 0x0a || r == 0x0d || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

func yamlDiag(pos diag.Pos, msg string) diag.Diagnostic {
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: "yaml", Message: msg}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseError splits a parser error into the line it names (0 if none) and
// its message.
func parseError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// yamlError explains a parser error on the file t.
func yamlError(t *text, err error) diag.Diagnostic {
	reported, msg := parseError(err)
	reported = min(max(reported, 1), len(t.lines))
	s := scanSyntax(t.data)
	at := func(off int, format string, args ...any) diag.Diagnostic {
		return yamlDiag(t.pos(off), fmt.Sprintf(format, args...))
	}
	switch {
	case strings.HasPrefix(msg, "found unexpected end of stream"), strings.HasPrefix(msg, "did not find expected ',' or"):
		if s.quote >= 0 {
			return at(s.quote, "this %s string is never closed; end it with %c", quoteName(t.data[s.quote]), t.data[s.quote])
		}
		if s.open >= 0 {
			return at(s.open, "this %c is never closed; close it with %c", t.data[s.open], closer(t.data[s.open]))
		}
		if s.stray >= 0 {
			return at(s.stray, "this %c closes nothing", t.data[s.stray])
		}
	case strings.HasPrefix(msg, "found unknown escape character"), strings.HasPrefix(msg, "did not find expected hexdecimal number"):
		if s.escape >= 0 {
			esc := t.data[s.escape : s.escape+2]
			if bytes.IndexByte([]byte("xuU"), esc[1]) >= 0 {
				return at(s.escape, `%s must be followed by %d hexadecimal digits`, esc, map[byte]int{'x': 2, 'u': 4, 'U': 8}[esc[1]])
			}
			return at(s.escape, `%s is not an escape YAML knows; in a double-quoted string write a backslash as \\, or use single quotes, which take backslashes as they are`, esc)
		}
	case strings.HasPrefix(msg, "unknown anchor"):
		if s.alias >= 0 {
			name := aliasName(t.data[s.alias:])
			if def, ok := s.anchors[name]; ok {
				return at(s.alias, "alias *%s comes before its anchor &%s (line %d); an anchor must be defined before it is used", name, name, t.pos(def).Line)
			}
			return at(s.alias, "alias *%s refers to no anchor; define &%s on a value before it", name, name)
		}
	case strings.HasPrefix(msg, "exceeded max depth"):
		if s.deep >= 0 {
			return at(s.deep, "nesting deeper than %d levels; edgectl does not read documents nested this deep", maxDepth)
		}
	case strings.Contains(msg, "tab character"), strings.HasPrefix(msg, "found character that cannot start any token"):
		for n := reported; n <= len(t.lines); n++ {
			line, start := t.line(n)
			lead := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
			if i := bytes.IndexByte(lead, '\t'); i >= 0 {
				return at(start+i, "found a tab character; YAML indents with spaces")
			}
			if n > reported && !strings.Contains(msg, "tab") {
				break
			}
		}
		if off := tokenStartOf(t, reported, "@`"); off >= 0 {
			return at(off, "a value cannot start with %c, which YAML reserves; quote it", t.data[off])
		}
	case strings.HasPrefix(msg, "found undefined tag handle"):
		for n := max(reported-1, 1); n <= min(reported+1, len(t.lines)); n++ {
			if off := tokenStartOf(t, n, "!"); off >= 0 {
				return at(off, "this tag's handle is not defined by a %%TAG directive; edgectl intents need no tags")
			}
		}
	case strings.HasPrefix(msg, "found incompatible YAML document"), strings.Contains(msg, "%YAML"):
		for n := 1; n <= len(t.lines); n++ {
			if line, start := t.line(n); bytes.HasPrefix(line, []byte("%YAML")) {
				return at(start, "%s: edgectl reads YAML 1.1 and 1.2; remove the directive", strings.TrimSpace(string(line)))
			}
		}
	case strings.HasPrefix(msg, "did not find expected comment or line break"):
		if off := blockIndicatorJunk(t, reported); off >= 0 {
			return at(off, "a block scalar's | or > must end its line; put the text on the lines below it")
		}
	case strings.HasPrefix(msg, "found an indentation indicator equal to 0"):
		if off := blockIndicatorJunk(t, reported); off >= 0 {
			return at(off, "a block scalar's indentation indicator must be a digit from 1 to 9")
		}
	}

	// A key or item out of line is the parser's complaint even when a
	// bracket is left open on it.
	block := strings.HasPrefix(msg, "did not find expected key") || strings.HasPrefix(msg, "did not find expected '-'")
	if s.quote >= 0 && !block {
		return at(s.quote, "this %s string is never closed; end it with %c", quoteName(t.data[s.quote]), t.data[s.quote])
	}
	if s.open >= 0 && !block {
		return at(s.open, "this %c is never closed; close it with %c", t.data[s.open], closer(t.data[s.open]))
	}

	// A problem with the block structure: the parser names the start of the
	// enclosing block; the line at fault is the first whose prefix of the
	// file fails the same way.
	n := failingLine(t, reported, msg)
	if s.stray >= 0 && t.pos(s.stray).Line == n {
		return at(s.stray, "this %c closes nothing", t.data[s.stray])
	}
	line, start := t.line(n)
	first := t.firstToken(n)
	rest := bytes.TrimSpace(t.data[first : start+len(line)])
	separator := func(b []byte) bool { return string(b) == "---" || string(b) == "..." }
	if prev := previousContent(t, n); indent(line) > 0 && separator(rest) {
		return at(first, "a document separator (%s) must start at the beginning of its line", rest)
	} else if pline, _ := t.line(prev); prev > 0 && indent(pline) > 0 && separator(bytes.TrimSpace(pline)) {
		return at(t.firstToken(prev), "a document separator (%s) must start at the beginning of its line", bytes.TrimSpace(pline))
	}
	if (bytes.HasPrefix(rest, []byte("... ")) || bytes.HasPrefix(rest, []byte("--- "))) && indent(line) == 0 {
		return at(first+4, "a document marker (%s) must be alone on its line", rest[:3])
	}
	if strings.HasPrefix(msg, "did not find expected ',' or") {
		if off := missingComma(rest); off >= 0 {
			return at(first+off, `expected "," before this; separate the entries of a flow collection with commas`)
		}
	}
	switch {
	case strings.HasPrefix(msg, "mapping values are not allowed"), strings.HasPrefix(msg, "could not find expected ':'"):
		if prev := previousContent(t, n); prev > 0 && strings.HasPrefix(msg, "mapping") {
			pline, _ := t.line(prev)
			ptext := bytes.TrimSpace(pline)
			switch {
			case indent(pline) == indent(line) && colonAt(ptext) < 0:
				return at(t.firstToken(prev), `this line has no ": ", so YAML reads it and the next line as one text value; put ": " after a key`)
			case indent(pline) < indent(line) && colonAt(ptext) >= 0 && colonAt(ptext) < len(ptext)-1 && colonAt(rest) >= 0:
				return at(first, "this line is indented deeper than the key above it, so it continues that key's value and cannot hold a key itself; indent it like the key above")
			}
		}
		if c := colonAt(rest); strings.HasPrefix(msg, "could not find expected ':'") || c > 1024 {
			return at(first, `this key is not followed by ": " on its line (a key must fit on one line and be at most 1024 characters)`)
		}
		if c := colonAt(rest); c >= 0 {
			if c2 := colonAt(rest[c+1:]); c2 >= 0 {
				return at(first+c+1+c2, `a second ": " on one line; quote a value that contains ": "`)
			}
			return at(first+c, `": " is not allowed here; quote a value that contains ": "`)
		}
	case bytes.HasPrefix(rest, []byte("- ")) || string(rest) == "-":
		for p := previousContent(t, n); p > 0; p = previousContent(t, p) {
			pline, _ := t.line(p)
			if indent(pline) < indent(line)-2 {
				break
			}
			if pt := bytes.TrimSpace(pline); (bytes.HasPrefix(pt, []byte("- ")) || string(pt) == "-") && indent(pline) != indent(line) {
				return at(first, "this list item is not lined up with the item on line %d; give the items of a list the same indentation", p)
			}
		}
		return at(first, `a list item ("- ") cannot stand here; it needs a key above it, indented less, with nothing after its ":"`)
	case strings.HasPrefix(msg, "did not find expected '-' indicator"):
		return at(first, `this line is neither a list item ("- ") nor lined up with the keys of the item above it; check its indentation`)
	case strings.HasPrefix(msg, "did not find expected key"), strings.HasPrefix(msg, "did not find expected <document start>"):
		if prev := previousContent(t, n); prev > 0 {
			pline, _ := t.line(prev)
			if indent(line) < indent(pline) {
				return at(first, "this line's indentation matches none of the keys above it; line it up with the keys it belongs with")
			}
		}
		return at(first, "this line does not line up with the keys around it; check its indentation")
	case strings.HasPrefix(msg, "did not find expected node content"):
		return at(first, "expected a value here; check the indentation and the punctuation of this line")
	}
	return at(first, "invalid YAML: %s", msg)
}

// maxDepth is the parser's limit on nesting.
const maxDepth = 10000

func quoteName(q byte) string {
	if q == '"' {
		return "double-quoted"
	}
	return "single-quoted"
}

func closer(open byte) byte {
	if open == '[' {
		return ']'
	}
	return '}'
}

func aliasName(b []byte) string {
	end := 1
	for end < len(b) && !bytes.ContainsRune([]byte(" \t\r\n,[]{}"), rune(b[end])) {
		end++
	}
	return string(b[1:end])
}

// colonAt returns the offset of the first ": " (or a colon ending the
// text) outside quotes, or -1.
func colonAt(s []byte) int {
	var quote byte
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && (i == 0 || s[i-1] == ' '):
			quote = c
		case c == '#' && i > 0 && s[i-1] == ' ':
			return -1
		case c == ':' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t'):
			return i
		}
	}
	return -1
}

// previousContent returns the number of the nearest line before n that
// holds more than spaces or a comment, or 0.
func previousContent(t *text, n int) int {
	for p := n - 1; p >= 1; p-- {
		line, _ := t.line(p)
		s := bytes.TrimSpace(line)
		if len(s) > 0 && s[0] != '#' {
			return p
		}
	}
	return 0
}

// tokenStartOf returns the offset of the first character of line n that is
// one of chars and starts a token, or -1.
func tokenStartOf(t *text, n int, chars string) int {
	line, start := t.line(n)
	for i, c := range line {
		if strings.IndexByte(chars, c) >= 0 && (i == 0 || bytes.IndexByte([]byte(" \t[{,:-"), line[i-1]) >= 0) {
			return start + i
		}
	}
	return -1
}

// blockIndicatorJunk returns the offset of what follows a block scalar
// indicator on line n (its digits and chomping sign, or stray text), or -1.
func blockIndicatorJunk(t *text, n int) int {
	off := tokenStartOf(t, n, "|>")
	if off < 0 {
		return -1
	}
	i := off + 1
	for i < len(t.data) && (t.data[i] == '+' || t.data[i] == '-' || t.data[i] >= '1' && t.data[i] <= '9') {
		i++
	}
	if i < len(t.data) && t.data[i] == '0' {
		return i
	}
	for i < len(t.data) && t.data[i] == ' ' {
		i++
	}
	return i
}

// failingLine returns the first line from which the file, cut after that
// line, fails to parse with msg. The parser names a line at or before it.
func failingLine(t *text, from int, msg string) int {
	fails := func(n int) bool {
		end := len(t.data)
		if n < len(t.lines) {
			end = t.lines[n]
		}
		_, m := firstError(t.data[:end])
		return m == msg
	}
	// The line is nearly always a few lines past the parser's: gallop
	// forward from there, so a large file costs a few parses, not one
	// per halving of everything after it.
	lo, hi := max(from-1, 1), len(t.lines)
	for step := 1; lo < hi; step *= 2 {
		n := min(lo+step-1, hi)
		if fails(n) {
			hi = n
			break
		}
		lo = n + 1
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// A last line without content is not where anything went wrong.
	for lo > 1 {
		if line, _ := t.line(lo); len(bytes.TrimSpace(line)) > 0 {
			break
		}
		lo--
	}
	return lo
}

// firstError parses every document of data and returns the first error.
func firstError(data []byte) (error, string) {
	dec := yamlfast.NewDecoder(data)
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil, ""
		}
		if err != nil {
			_, msg := parseError(err)
			return err, msg
		}
	}
}

// maxExpansion bounds the values a document may expand to through
// aliases: far beyond any real configuration, far below what exhausts
// memory.
const maxExpansion = 1_000_000

// checkNodes finds what the parser accepts but a configuration must not
// hold: a key given twice in one mapping, and aliases that expand to more
// than maxExpansion values (a "billion laughs" document).
func checkNodes(t *text, root *yaml.Node) diag.List {
	var diags diag.List
	size := map[*yaml.Node]int{}
	var walk func(n *yaml.Node) int
	walk = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		if n.Kind == yaml.AliasNode {
			if s, ok := size[n.Alias]; ok {
				return s
			}
			return 1 // an alias to a node being walked: a cycle the parser refused
		}
		// Only an anchored node can be reached twice (through an alias),
		// so only its size is kept.
		if n.Anchor != "" {
			if s, ok := size[n]; ok {
				return s
			}
			size[n] = 1
		}
		total := 1
		if n.Kind == yaml.MappingNode {
			var seen map[string]*yaml.Node // for a large mapping; a small one is searched
			if len(n.Content) > 2*smallMapping {
				seen = make(map[string]*yaml.Node, len(n.Content)/2)
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
					continue
				}
				if first := earlierKey(n, i, seen); first != nil {
					d := yamlDiag(diag.Pos{File: t.file, Line: k.Line, Col: k.Column}, fmt.Sprintf("key %q is given twice in this mapping", k.Value))
					d.Note(diag.Pos{File: t.file, Line: first.Line, Col: first.Column}, "first given here")
					diags.Add(d)
					continue
				}
				if seen != nil {
					seen[k.Value] = k
				}
				// The parser places an empty value ("name:" or "{name}") at
				// the next token, often on another line; its key is where it
				// is missing.
				if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" && v.Style == 0 {
					v.Line, v.Column = k.Line, k.Column
				}
			}
		}
		var over *yaml.Node
		for _, c := range n.Content {
			s := walk(c)
			total = min(total+s, maxExpansion+1)
			if c.Kind == yaml.AliasNode && total > maxExpansion && over == nil {
				over = c
			}
		}
		if n.Anchor != "" {
			size[n] = total
		}
		if over != nil && !reported(diags, "aliases") {
			diags.Add(yamlDiag(diag.Pos{File: t.file, Line: over.Line, Col: over.Column},
				fmt.Sprintf("aliases here expand to more than %d values (an alias bomb); edgectl refuses documents that large", maxExpansion)))
		}
		return total
	}
	walk(root)
	return diags
}

// smallMapping is the number of keys up to which a mapping's keys are
// compared with each other rather than indexed.
const smallMapping = 16

// earlierKey returns the key before n.Content[i] that is the same scalar, the
// first of those checkNodes kept: from seen when the mapping is large,
// otherwise by comparing with each earlier one.
func earlierKey(n *yaml.Node, i int, seen map[string]*yaml.Node) *yaml.Node {
	k := n.Content[i]
	if seen != nil {
		return seen[k.Value]
	}
	for j := 0; j < i; j += 2 {
		if e := n.Content[j]; e.Kind == yaml.ScalarNode && e.Tag != "!!merge" && e.Value == k.Value {
			return e
		}
	}
	return nil
}

func reported(l diag.List, word string) bool {
	for _, d := range l {
		if strings.HasPrefix(d.Message, word) {
			return true
		}
	}
	return false
}

// missingComma returns the offset, in a line of a flow collection, of the
// word that follows a value without the comma that should separate them:
// the key of the second ": " after one opening bracket or comma, or -1.
func missingComma(line []byte) int {
	colons := 0
	for i, c := range line {
		switch {
		case c == '{' || c == '[' || c == ',':
			colons = 0
		case c == ':' && (i+1 == len(line) || line[i+1] == ' '):
			if colons++; colons == 2 {
				j := bytes.LastIndexByte(line[:i], ' ')
				return j + 1
			}
		}
	}
	return -1
}
