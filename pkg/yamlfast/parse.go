package yamlfast

import (
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The subset of YAML the fast parser reads, and what yaml.v3 makes of it.
//
// A stream holds only '\n' and the printable ASCII characters, so a
// column is a byte offset; only comments may also hold printable
// characters beyond ASCII, other than line breaks, as no node follows one
// on its line. Documents are separated by "---" lines; a document's root
// is a block collection, a flow collection or a scalar, and it starts on
// the line after "---" or on the same line (then it is a flow collection
// or a scalar, and the document ends with that line).
//
// A comment is a '#' at the start of a line or after a space, up to the
// end of the line; a '#' elsewhere is part of a plain scalar ("a#b"), or
// of a quoted one. A comment moves no node, wherever it is: the parser
// skips lines of only a comment, at any indentation, as it skips blank
// lines, and a comment after a node, a key's ':', a "-" or a "---" ends
// the line as spaces would. yaml.v3 keeps comments in the nodes around
// them; the parser drops them.
//
// A block mapping is keys at one column, each a plain or quoted scalar on
// one line followed by ':'. A value is on the key's line (a scalar or a
// flow collection that ends that line), or on the following lines: a
// block collection indented further, or a sequence at the key's own column
// ("key:\n- item"). With neither, the value is an empty !!null scalar
// where the ':' ends. A block sequence is "-" entries at one column; an
// entry holds what a value holds, or a block collection that starts on the
// entry's line ("- key: value", "- - item"), or nothing: an empty scalar
// where the '-' ends. A line after a collection is at the column of one
// that holds it, or the document ends.
//
// Whatever else the parser meets makes it give up: anchors, aliases,
// tags, block scalars, directives, "?" keys, "...", "<<" keys, a scalar or
// flow collection over several lines, a flow collection as a key, empty
// entries in flow collections, a comment inside a flow collection, a '#'
// right after a quoted scalar or a flow collection (a comment to yaml.v3,
// an error to YAML), and every syntax error.

// giveUp is the panic with which the parser leaves a stream outside its
// subset; parseFast recovers it.
type giveUp struct{}

const (
	// none is the indentation of the line after a document's last: the
	// end of the stream, or a "---".
	none = -1
	// maxDepth bounds the nesting of collections; yaml.v3 refuses depths
	// beyond 10,000.
	maxDepth = 1000
	// maxKeyLen bounds the distance from a key's start to its ':'; yaml.v3
	// looks no further than 1,024 characters.
	maxKeyLen = 1000
	// Nodes and Content pointers are allocated minChunk at a time at
	// the start of a document, twice as many each time after, up to
	// maxChunk.
	minChunk = 16
	maxChunk = 1024
	// maxTags bounds the memory of resolved tags.
	maxTags = 4096
)

const (
	mapTag  = "!!map"
	seqTag  = "!!seq"
	strTag  = "!!str"
	nullTag = "!!null"
)

// parseFast parses the YAML stream data into its documents, each a
// DocumentNode, as yaml.v3 would. It returns false when the stream is
// outside the subset it reads, valid YAML or not.
func parseFast(data []byte) (docs []*yaml.Node, ok bool) {
	var wide []int
	lineWide := false
	for i, c := range data {
		switch {
		case c == '\n':
			lineWide = false
		case c < ' ':
			return nil, false
		case c > '~' && !lineWide:
			wide = append(wide, i)
			lineWide = true
		}
	}
	p := &parser{src: string(data), wide: wide}
	defer func() {
		if r := recover(); r != nil {
			if _, give := r.(giveUp); !give {
				panic(r)
			}
			docs, ok = nil, false
		}
	}()
	return p.stream(), true
}

type parser struct {
	src  string
	pos  int // offset of the next byte to read
	line int // line of pos, from 0
	bol  int // offset of the start of that line
	// ind is, after a block node, the indentation of the content line
	// that follows it (p.pos is at its first non-space), or none.
	ind   int
	depth int

	slab  []yaml.Node  // nodes are allocated from here
	stack []*yaml.Node // children of the collections being read
	arena []*yaml.Node // Content slices are cut from here
	tags  map[string]string

	// wide holds the offset of the first byte beyond ASCII of each line
	// that has one, in order; such bytes are read only in comments, and
	// the comment of the line of wide[0] has not been met yet.
	wide []int
}

func (p *parser) fail() {
	panic(giveUp{})
}

// at returns the byte at offset i, or 0 at the end of the stream (no
// stream the parser reads holds a 0).
func (p *parser) at(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func blankz(c byte) bool {
	return c == ' ' || c == '\n' || c == 0
}

func (p *parser) spaces() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

// endLine consumes the rest of a line that must hold only spaces and
// perhaps a comment.
func (p *parser) endLine() {
	p.spaces()
	if p.at(p.pos) == '#' {
		// A comment starts after a space or at the start of a line;
		// yaml.v3 also takes a '#' right after a quoted scalar or a
		// flow collection for one, which YAML does not, and so the
		// parser leaves that to yaml.v3.
		if p.pos > p.bol && p.src[p.pos-1] != ' ' {
			p.fail()
		}
		p.comment()
	}
	switch p.at(p.pos) {
	case 0:
	case '\n':
		p.pos++
		p.line++
		p.bol = p.pos
	default:
		p.fail()
	}
}

// comment skips the comment at p.pos, up to the end of its line.
func (p *parser) comment() {
	start := p.pos
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		p.pos += i
	} else {
		p.pos = len(p.src)
	}
	if len(p.wide) > 0 && p.wide[0] < p.pos {
		if p.wide[0] < start {
			p.fail() // a byte beyond ASCII before the comment
		}
		p.wide = p.wide[1:]
		commentText(p.src[start:p.pos])
	}
}

// commentText gives up on a comment that holds what yaml.v3 refuses or
// reads as a line break: invalid UTF-8, a character that is not
// printable, a byte order mark, U+0085, U+2028 or U+2029. Other
// characters beyond ASCII move no node: a comment ends its line, and
// yaml.v3 counts columns in characters only up to the '#'.
func commentText(s string) {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			if s[i] == 0x7f {
				panic(giveUp{})
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1,
			r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			panic(giveUp{})
		}
		i += size
	}
}

// lineEnds reports whether nothing but a comment is left on the line at
// p.pos, which follows a space or a line break.
func (p *parser) lineEnds() bool {
	c := p.at(p.pos)
	return c == '\n' || c == 0 || c == '#'
}

// nextLine moves from the start of a line to the first non-space of the
// next line with more than spaces and a comment, and returns that line's
// indentation, or none at the end of the stream or at a "---". Lines of
// only a comment, at any indentation, are skipped as blank lines are:
// yaml.v3 attaches them to nodes as comments, but they move no node.
func (p *parser) nextLine() int {
	for {
		p.spaces()
		if p.at(p.pos) == '#' {
			p.comment()
		}
		if p.pos == len(p.src) {
			return none
		}
		if p.src[p.pos] != '\n' {
			break
		}
		p.pos++
		p.line++
		p.bol = p.pos
	}
	ind := p.pos - p.bol
	if ind == 0 {
		rest := p.src[p.pos:]
		if strings.HasPrefix(rest, "---") && blankz(p.at(p.pos+3)) {
			return none
		}
		if strings.HasPrefix(rest, "---") || strings.HasPrefix(rest, "...") {
			p.fail()
		}
	}
	return ind
}

// entry reports whether p.pos is at a block sequence entry's "-".
func (p *parser) entry() bool {
	return p.at(p.pos) == '-' && blankz(p.at(p.pos+1))
}

// colon reports whether, past spaces, a ':' follows that makes the scalar
// which started at offset start a key of a block mapping, and consumes
// the ':'.
func (p *parser) colon(start int) bool {
	i := p.pos
	for p.at(i) == ' ' {
		i++
	}
	if p.at(i) != ':' || !blankz(p.at(i+1)) {
		return false
	}
	if i-start > maxKeyLen {
		p.fail()
	}
	p.pos = i + 1
	return true
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail()
	}
}

func (p *parser) node(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, min(max(minChunk, 2*cap(p.slab)), maxChunk))
	}
	p.slab = p.slab[:len(p.slab)+1]
	n := &p.slab[len(p.slab)-1]
	n.Kind, n.Tag, n.Line, n.Column = kind, tag, line+1, col+1
	return n
}

// empty returns the !!null scalar of a missing value at line and col.
func (p *parser) empty(line, col int) *yaml.Node {
	return p.node(yaml.ScalarNode, nullTag, line, col)
}

// collect returns the children pushed since the stack held base, and
// pops them. The slice is cut from a shared array with its capacity at
// its length, so that an append to it copies.
func (p *parser) collect(base int) []*yaml.Node {
	k := len(p.stack) - base
	if k == 0 {
		return nil
	}
	if cap(p.arena)-len(p.arena) < k {
		p.arena = make([]*yaml.Node, 0, max(k, min(max(minChunk, 2*cap(p.arena)), maxChunk)))
	}
	a := len(p.arena)
	p.arena = append(p.arena, p.stack[base:]...)
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return p.arena[a : a+k : a+k]
}

// stream parses every document of the stream.
func (p *parser) stream() []*yaml.Node {
	var docs []*yaml.Node
	ind := p.nextLine()
	for p.pos < len(p.src) {
		// A document's nodes and Content slices share no array with
		// another's: a caller who keeps one document does not keep
		// the rest of the stream alive.
		p.slab, p.arena = nil, nil
		doc := p.node(yaml.DocumentNode, "", p.line, p.pos-p.bol)
		var root *yaml.Node
		switch {
		case ind == none: // at a "---"
			p.pos += 3
			p.spaces()
			if !p.lineEnds() {
				root = p.inline()
				p.endLine()
				p.ind = p.nextLine()
				break
			}
			p.endLine()
			if ind = p.nextLine(); ind != none {
				root = p.top(ind)
				break
			}
			// An empty document: its scalar is where the next token
			// starts, a "---" or the end of the stream, which is always
			// at the start of a line.
			line := p.line
			if p.pos == len(p.src) && p.pos > p.bol {
				line++
			}
			root = p.empty(line, 0)
			p.ind = none
		case len(docs) == 0:
			root = p.top(ind)
		default:
			p.fail()
		}
		if p.ind != none {
			p.fail()
		}
		base := len(p.stack)
		p.stack = append(p.stack, root)
		doc.Content = p.collect(base)
		docs = append(docs, doc)
		ind = none
	}
	if len(p.wide) > 0 {
		p.fail() // a byte beyond ASCII outside a comment
	}
	return docs
}

// top parses the root of a document that starts a line, at column ind.
func (p *parser) top(ind int) *yaml.Node {
	if p.entry() {
		return p.sequence(ind, false)
	}
	var n *yaml.Node
	if c := p.src[p.pos]; c == '[' || c == '{' {
		n = p.flow()
	} else {
		start := p.pos
		n = p.scalar()
		if p.colon(start) {
			return p.mapping(ind, n)
		}
	}
	p.endLine()
	p.ind = p.nextLine()
	return n
}

// collection parses the block collection that starts the line at column
// ind.
func (p *parser) collection(ind int) *yaml.Node {
	if p.entry() {
		return p.sequence(ind, false)
	}
	start := p.pos
	k := p.scalar()
	if !p.colon(start) {
		p.fail()
	}
	return p.mapping(ind, k)
}

// mapping parses a block mapping at column col whose first key, k, has
// been read with its ':'.
func (p *parser) mapping(col int, k *yaml.Node) *yaml.Node {
	p.enter()
	n := p.node(yaml.MappingNode, mapTag, k.Line-1, col)
	base := len(p.stack)
	for {
		p.stack = append(p.stack, k)
		v := p.value(col)
		p.stack = append(p.stack, v)
		if p.ind != col {
			break
		}
		if p.entry() {
			p.fail()
		}
		start := p.pos
		k = p.scalar()
		if !p.colon(start) {
			p.fail()
		}
	}
	if p.ind > col {
		p.fail()
	}
	n.Content = p.collect(base)
	p.depth--
	return n
}

// value parses the value after a key's ':' in a block mapping at column
// col.
func (p *parser) value(col int) *yaml.Node {
	line, end := p.line, p.pos-p.bol
	p.spaces()
	if p.lineEnds() {
		p.endLine()
		ind := p.nextLine()
		switch {
		case ind > col:
			return p.collection(ind)
		case ind == col && p.entry():
			return p.sequence(col, true)
		}
		p.ind = ind
		return p.empty(line, end)
	}
	n := p.inline()
	p.endLine()
	p.ind = p.nextLine()
	if p.ind > col {
		p.fail()
	}
	return n
}

// sequence parses a block sequence whose first "-" is at p.pos, column
// col. An indentless sequence is the value of a key at the same column,
// and ends at the next key.
func (p *parser) sequence(col int, indentless bool) *yaml.Node {
	p.enter()
	n := p.node(yaml.SequenceNode, seqTag, p.line, col)
	base := len(p.stack)
	for {
		line := p.line
		p.pos++
		p.spaces()
		item := p.item(col, line)
		p.stack = append(p.stack, item)
		if p.ind != col || !p.entry() {
			break
		}
	}
	if p.ind > col || (p.ind == col && !indentless) {
		p.fail()
	}
	n.Content = p.collect(base)
	p.depth--
	return n
}

// item parses the entry of a block sequence at column col after its "-"
// and spaces; line is the line of the "-".
func (p *parser) item(col, line int) *yaml.Node {
	if p.lineEnds() {
		p.endLine()
		ind := p.nextLine()
		if ind > col {
			return p.collection(ind)
		}
		p.ind = ind
		return p.empty(line, col+1)
	}
	var n *yaml.Node
	switch c := p.src[p.pos]; {
	case p.entry():
		return p.sequence(p.pos-p.bol, false)
	case c == '[' || c == '{':
		n = p.flow()
	default:
		start := p.pos
		n = p.scalar()
		if p.colon(start) {
			return p.mapping(start-p.bol, n)
		}
	}
	p.endLine()
	p.ind = p.nextLine()
	if p.ind > col {
		p.fail()
	}
	return n
}

// inline parses a scalar or a flow collection in the block context.
func (p *parser) inline() *yaml.Node {
	if c := p.src[p.pos]; c == '[' || c == '{' {
		return p.flow()
	}
	return p.scalar()
}

// scalar parses a quoted or plain scalar in the block context.
func (p *parser) scalar() *yaml.Node {
	if c := p.src[p.pos]; c == '\'' || c == '"' {
		return p.quoted()
	}
	return p.plain(false)
}

// flowSpaces skips spaces inside a flow collection, which must not end
// on this line.
func (p *parser) flowSpaces() {
	p.spaces()
	if c := p.at(p.pos); c == '\n' || c == 0 {
		p.fail()
	}
}

// flow parses a flow collection, all on one line.
func (p *parser) flow() *yaml.Node {
	p.enter()
	open := p.src[p.pos]
	kind, tag, closer := yaml.SequenceNode, seqTag, byte(']')
	if open == '{' {
		kind, tag, closer = yaml.MappingNode, mapTag, '}'
	}
	n := p.node(kind, tag, p.line, p.pos-p.bol)
	n.Style = yaml.FlowStyle
	p.pos++
	base := len(p.stack)
	p.flowSpaces()
	if p.src[p.pos] == closer {
		p.pos++
	} else {
		for {
			if open == '[' {
				item := p.flowNode()
				p.stack = append(p.stack, item)
			} else {
				start := p.pos
				var k *yaml.Node
				if c := p.src[p.pos]; c == '\'' || c == '"' {
					k = p.quoted()
				} else {
					k = p.plain(true)
				}
				p.flowSpaces()
				if p.src[p.pos] != ':' || p.pos-start > maxKeyLen {
					p.fail()
				}
				p.pos++
				p.flowSpaces()
				if c := p.src[p.pos]; c == ',' || c == closer {
					p.fail()
				}
				p.stack = append(p.stack, k)
				v := p.flowNode()
				p.stack = append(p.stack, v)
			}
			p.flowSpaces()
			c := p.src[p.pos]
			p.pos++
			if c == closer {
				break
			}
			if c != ',' {
				p.fail()
			}
			p.flowSpaces()
			if p.src[p.pos] == closer {
				p.fail()
			}
		}
	}
	n.Content = p.collect(base)
	p.depth--
	return n
}

// flowNode parses an entry of a flow sequence or a value of a flow
// mapping.
func (p *parser) flowNode() *yaml.Node {
	switch p.src[p.pos] {
	case '[', '{':
		return p.flow()
	case '\'', '"':
		return p.quoted()
	}
	return p.plain(true)
}

// plain parses a plain scalar that ends on its line, in the flow context
// or the block context.
func (p *parser) plain(flow bool) *yaml.Node {
	start := p.pos
	switch p.at(start) {
	case '-':
		// "-x" is a scalar, "- x" a sequence entry; in a flow
		// collection, accept only the plainly plain.
		c := p.at(start + 1)
		if blankz(c) || flow && strings.IndexByte("-,[]{}:?#'\"", c) >= 0 {
			p.fail()
		}
	case 0, ' ', '\n', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		p.fail()
	}
	i, end := start, start
scan:
	for ; i < len(p.src); i++ {
		switch p.src[i] {
		case '\n':
			break scan
		case ' ':
			if p.at(i+1) == '#' {
				break scan // a comment
			}
			continue // trailing spaces are not part of the value
		case ':':
			c := p.at(i + 1)
			if blankz(c) {
				break scan
			}
			if flow && strings.IndexByte(",[]{}", c) >= 0 {
				p.fail()
			}
		case ',', '[', ']', '{', '}':
			if flow {
				break scan
			}
		case '?':
			if flow {
				p.fail()
			}
		}
		end = i + 1
	}
	if flow && (i == len(p.src) || p.src[i] == '\n') {
		p.fail() // a flow collection over lines, or unclosed
	}
	v := p.src[start:end]
	if v == "<<" {
		p.fail() // a merge key
	}
	n := p.node(yaml.ScalarNode, p.plainTag(v), p.line, start-p.bol)
	n.Value = v
	p.pos = end
	return n
}

// plainTag is the tag yaml.v3 resolves the plain scalar v to.
func (p *parser) plainTag(v string) string {
	// yaml.v3 looks for another type than !!str only in scalars that
	// start with a digit, a sign, '.', '~' or one of the letters of
	// true, false, null, yes, no, on and off; TestPlainTag holds this
	// shortcut to it.
	if c := v[0] | 0x20; 'a' <= c && c <= 'z' && c != 'y' && c != 'n' && c != 't' && c != 'f' && c != 'o' || v[0] == '/' || v[0] == '_' {
		return strTag
	}
	if t, ok := p.tags[v]; ok {
		return t
	}
	t := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
	if p.tags == nil {
		p.tags = map[string]string{}
	}
	if len(p.tags) < maxTags {
		p.tags[v] = t
	}
	return t
}

// quoted parses a single- or double-quoted scalar that ends on its line.
func (p *parser) quoted() *yaml.Node {
	start := p.pos
	q := p.src[start]
	var buf []byte
	escaped := false
	i, lit := start+1, start+1 // lit: where the text not yet in buf starts
	for {
		if i == len(p.src) || p.src[i] == '\n' {
			p.fail()
		}
		c := p.src[i]
		if c == q {
			if q == '\'' && p.at(i+1) == '\'' {
				buf = append(buf, p.src[lit:i+1]...)
				escaped = true
				i += 2
				lit = i
				continue
			}
			break
		}
		if c == '\\' && q == '"' {
			buf = append(buf, p.src[lit:i]...)
			buf, i = p.escape(buf, i)
			escaped = true
			lit = i
			continue
		}
		i++
	}
	v := p.src[start+1 : i]
	if escaped {
		v = string(append(buf, p.src[lit:i]...))
	}
	style := yaml.SingleQuotedStyle
	if q == '"' {
		style = yaml.DoubleQuotedStyle
	}
	n := p.node(yaml.ScalarNode, strTag, p.line, start-p.bol)
	n.Style, n.Value = style, v
	p.pos = i + 1
	return n
}

// escape appends what the escape sequence at offset i of a double-quoted
// scalar stands for, and returns the offset after it.
func (p *parser) escape(buf []byte, i int) ([]byte, int) {
	width := 0
	switch c := p.at(i + 1); c {
	case '0':
		buf = append(buf, 0)
	case 'a':
		buf = append(buf, '\a')
	case 'b':
		buf = append(buf, '\b')
	case 't':
		buf = append(buf, '\t')
	case 'n':
		buf = append(buf, '\n')
	case 'v':
		buf = append(buf, '\v')
	case 'f':
		buf = append(buf, '\f')
	case 'r':
		buf = append(buf, '\r')
	case 'e':
		buf = append(buf, 0x1b)
	case ' ', '"', '\'', '\\':
		buf = append(buf, c)
	case 'N':
		buf = utf8.AppendRune(buf, 0x85)
	case '_':
		buf = utf8.AppendRune(buf, 0xa0)
	case 'L':
		buf = utf8.AppendRune(buf, 0x2028)
	case 'P':
		buf = utf8.AppendRune(buf, 0x2029)
	case 'x':
		width = 2
	case 'u':
		width = 4
	case 'U':
		width = 8
	default:
		p.fail() // an escaped line break, or what yaml.v3 refuses
	}
	i += 2
	if width == 0 {
		return buf, i
	}
	r := 0
	for k := range width {
		d := p.at(i + k)
		switch {
		case '0' <= d && d <= '9':
			r = r<<4 | int(d-'0')
		case 'a' <= d|0x20 && d|0x20 <= 'f':
			r = r<<4 | int(d|0x20-'a'+10)
		default:
			p.fail()
		}
	}
	if 0xd800 <= r && r <= 0xdfff || r > 0x10ffff {
		p.fail()
	}
	return utf8.AppendRune(buf, rune(r)), i + width
}
