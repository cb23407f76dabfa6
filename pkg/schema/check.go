package schema

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/token"
	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// Violation is one way a document fails its definition.
type Violation struct {
	// Node is where to report it: the offending value, the key of a field
	// that is not allowed, or the parent of a missing field.
	Node *yaml.Node
	// Path is the field path from the document root, e.g. spec.routes[2].timeout.
	Path string
	// Message reads after the path.
	Message string
	// SchemaLine and SchemaCol locate the constraint in the schema file.
	SchemaLine, SchemaCol int
}

// MaxAliasValues bounds what the YAML aliases of one document may stand
// for, counting each use of an alias with every value inside it, so that a
// document whose aliases expand exponentially fails instead of hanging.
// Values written out are not counted: a document without aliases has no
// size limit here, and the work of checking it grows with its size.
const MaxAliasValues = 1 << 20

// Check validates a document against the named definition (for example
// "#Gateway") and returns every violation, in document order.
func (s *Schema) Check(defName string, doc *yaml.Node) []Violation {
	d, ok := s.defs[defName]
	if !ok {
		panic("schema: unknown definition " + defName)
	}
	c := &checker{b: &budget{}}
	c.check(d.node, doc, doc, "")
	if b := c.b; b.over {
		c.out = append(c.out, Violation{Node: b.at, Path: b.path,
			Message:    fmt.Sprintf("document is too large: its YAML aliases expand beyond %d values", MaxAliasValues),
			SchemaLine: b.pos.Line(), SchemaCol: b.pos.Column()})
	}
	return c.out
}

type checker struct {
	out []Violation
	b   *budget // shared with the checkers of alternatives
}

// budget counts the values checked inside aliases. Once it is spent, the
// check stops and reports that alone, at the end: a violation found by a
// check cut short (say, of an alternative) would be false.
type budget struct {
	depth  int // aliases the check is inside
	values int
	over   bool
	at     *yaml.Node
	path   string
	pos    token.Pos
}

func (c *checker) report(at *yaml.Node, path string, n *node, format string, args ...any) {
	pos := n.pos
	c.out = append(c.out, Violation{Node: at, Path: path, Message: fmt.Sprintf(format, args...),
		SchemaLine: pos.Line(), SchemaCol: pos.Column()})
}

// Resolve follows YAML aliases to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// check validates v against n. key is the node to report missing fields at
// (the key under which v sits, or v itself at the root).
func (c *checker) check(n *node, v, key *yaml.Node, path string) {
	b := c.b
	if v.Kind == yaml.AliasNode {
		b.depth++
		defer func() { b.depth-- }()
	}
	v = Resolve(v)
	if b.over {
		return
	}
	if b.depth > 0 {
		if b.values++; b.values > MaxAliasValues {
			b.over, b.at, b.path, b.pos = true, v, path, n.pos
			return
		}
	}
	switch n.op {
	case opTop:
	case opRef:
		before := len(c.out)
		c.check(n.ref.node, v, key, path)
		// A scalar definition explains itself better by its comment than by
		// the regular expression or bound that failed.
		if len(c.out) > before && n.ref.doc != "" && isScalar(n.ref.node) {
			c.out = c.out[:before+1]
			if k := kindOf(v); k&accepts(n.ref.node) == 0 {
				c.out[before].Message = fmt.Sprintf("expected %s, found %s", n.ref.doc, describeKind(v, k))
			} else {
				c.out[before].Message = fmt.Sprintf("invalid value %s: must be %s", describe(v), n.ref.doc)
			}
		}
	case opAnd:
		for _, a := range n.args {
			before := len(c.out)
			c.check(a, v, key, path)
			if len(c.out) > before && isScalar(a) {
				return // one conflict per scalar is enough
			}
		}
	case opOr:
		c.checkOr(n, v, key, path)
	case opStruct:
		c.checkStruct(n, v, key, path)
	case opList:
		if v.Kind != yaml.SequenceNode {
			c.report(v, path, n, "expected a list, found %s", describe(v))
			return
		}
		for i, el := range v.Content {
			c.check(n.elem, el, el, fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if msg := scalarCheck(n, v); msg != "" {
			c.report(v, path, n, "%s", msg)
		}
	}
}

func isScalar(n *node) bool {
	switch n.op {
	case opStruct, opList:
		return false
	case opRef:
		return isScalar(n.ref.node)
	case opAnd, opOr:
		for _, a := range n.args {
			if !isScalar(a) {
				return false
			}
		}
	}
	return true
}

func (c *checker) checkOr(n *node, v, key *yaml.Node, path string) {
	var lits []string
	allLits := true
	var candidates []*checker
	for _, a := range n.args {
		sub := &checker{b: c.b}
		sub.check(a, v, key, path)
		if len(sub.out) == 0 || c.b.over {
			return
		}
		if a.op == opLit {
			lits = append(lits, a.lit.String())
		} else {
			allLits = false
		}
		if kindOf(v)&accepts(a) != 0 {
			candidates = append(candidates, sub)
		}
	}
	switch {
	case allLits:
		c.report(v, path, n, "invalid value %s (must be one of %s)", describe(v), strings.Join(lits, ", "))
	case len(candidates) == 1:
		c.out = append(c.out, candidates[0].out...)
	default:
		c.report(v, path, n, "invalid value %s (matches none of the allowed forms)", describe(v))
	}
}

// accepts returns the kinds a constraint can possibly accept.
func accepts(n *node) kind {
	all := kString | kInt | kFloat | kBool | kNull | kMap | kSeq | kBytes
	switch n.op {
	case opKind:
		return n.mask
	case opLit:
		if n.lit.k == kInt {
			return kInt
		}
		return n.lit.k
	case opRegex, opRunes:
		return kString
	case opBound:
		return kInt | kFloat
	case opItems, opList:
		return kSeq
	case opStruct:
		return kMap
	case opRef:
		return accepts(n.ref.node)
	case opAnd:
		k := all
		for _, a := range n.args {
			k &= accepts(a)
		}
		return k
	case opOr:
		var k kind
		for _, a := range n.args {
			k |= accepts(a)
		}
		return k
	}
	return all
}

func (c *checker) checkStruct(n *node, v, key *yaml.Node, path string) {
	if v.Kind != yaml.MappingNode {
		c.report(v, path, n, "expected a mapping, found %s", describe(v))
		return
	}
	seen := map[string]*yaml.Node{}
	pairs, err := Pairs(v)
	if err != nil {
		c.report(v, path, n, "%v", err)
		return
	}
	for _, p := range pairs {
		k := Resolve(p.Key)
		if k.Kind != yaml.ScalarNode {
			c.report(k, path, n, "mapping keys must be strings")
			continue
		}
		name := k.Value
		if prev, dup := seen[name]; dup {
			c.report(k, path, n, "field %q is set twice (first at line %d)", name, prev.Line)
			continue
		}
		seen[name] = k
		sub := join(path, name)
		if f := n.field(name); f != nil {
			c.check(f.val, p.Value, k, sub)
			continue
		}
		if n.pattern != nil {
			if msg := keyCheck(n.pattern.key, name); msg == "" {
				c.check(n.pattern.val, p.Value, k, sub)
				continue
			} else if len(n.fields) == 0 {
				c.report(k, path, n, "%s", strings.Replace(msg, "invalid value", "invalid key", 1))
				continue
			}
		}
		msg := fmt.Sprintf("field %q is not allowed", name)
		if s := diag.Suggest(name, n.fieldNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if len(n.fields) > 0 && len(n.fields) <= 8 {
			msg += " (allowed: " + strings.Join(n.fieldNames(), ", ") + ")"
		}
		c.report(k, path, n, "%s", msg)
	}
	for _, f := range n.fields {
		if f.required && seen[f.name] == nil {
			where := path
			if where == "" {
				where = "document"
			}
			c.out = append(c.out, Violation{Node: key, Path: path,
				Message:    fmt.Sprintf("missing required field %q", f.name),
				SchemaLine: f.pos.Line(), SchemaCol: f.pos.Column()})
		}
	}
}

func (n *node) field(name string) *field {
	for _, f := range n.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (n *node) fieldNames() []string {
	out := make([]string, len(n.fields))
	for i, f := range n.fields {
		out[i] = f.name
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// keyCheck applies a pattern's key constraint to a field name.
func keyCheck(n *node, name string) string {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}
	c := &checker{b: &budget{}}
	c.check(n, v, v, "")
	if len(c.out) == 0 {
		return ""
	}
	return c.out[0].Message
}

// Pair is one key and value of a mapping, after YAML merge keys are applied.
type Pair struct{ Key, Value *yaml.Node }

// DocumentAt parses src, a YAML stream, and returns the root of its
// document at index (counting from 0), or nil when there is none: how a
// document whose syntax tree was let go gets it back.
func DocumentAt(src []byte, index int) *yaml.Node {
	dec := yamlfast.NewDecoder(src)
	for i := 0; i <= index; i++ {
		var root yaml.Node
		if err := dec.Decode(&root); err != nil {
			return nil
		}
		if i == index && len(root.Content) > 0 {
			return Resolve(root.Content[0])
		}
	}
	return nil
}

// Deepest steps from n along path (field names and list indexes) as far as
// the path exists, and returns the node it reached: where a finding about
// the value at path points when the value is missing.
func Deepest(n *yaml.Node, path ...any) *yaml.Node {
	for _, step := range path {
		next := Child(n, step)
		if next == nil {
			break
		}
		n = next
	}
	return n
}

// Child steps from n into a field (string) or a list element (int),
// through aliases; nil when there is no such field or element.
func Child(n *yaml.Node, step any) *yaml.Node {
	n = Resolve(n)
	if n == nil {
		return nil
	}
	switch s := step.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		// A mapping's own keys come before merged ones and win over
		// them, so only a key it does not have is looked for in Pairs.
		merges := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
				merges = true
			} else if Resolve(k).Value == s {
				return Resolve(n.Content[i+1])
			}
		}
		if !merges {
			return nil
		}
		pairs, _ := Pairs(n)
		for _, p := range pairs {
			if Resolve(p.Key).Value == s {
				return Resolve(p.Value)
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
			return Resolve(n.Content[s])
		}
	}
	return nil
}

// Pairs lists a mapping's entries. Entries merged in with "<<" come after the
// mapping's own and never override them, as YAML specifies.
func Pairs(m *yaml.Node) ([]Pair, error) {
	own := make([]Pair, 0, len(m.Content)/2)
	var merged []Pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			var srcs []*yaml.Node
			switch rv := Resolve(v); rv.Kind {
			case yaml.MappingNode:
				srcs = []*yaml.Node{rv}
			case yaml.SequenceNode:
				for _, el := range rv.Content {
					srcs = append(srcs, Resolve(el))
				}
			}
			for _, src := range srcs {
				if src.Kind != yaml.MappingNode {
					return nil, fmt.Errorf("a merge key (<<) must refer to a mapping")
				}
				sub, err := Pairs(src)
				if err != nil {
					return nil, err
				}
				merged = append(merged, sub...)
			}
			continue
		}
		own = append(own, Pair{k, v})
	}
	if len(merged) == 0 {
		return own, nil
	}
	out := own
	for _, p := range merged {
		if !slices.ContainsFunc(out, func(q Pair) bool { return Resolve(q.Key).Value == Resolve(p.Key).Value }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// yaml11Octal matches numbers like 0127 that YAML 1.1 read as octal. CUE
// reads them as strings, and so do we.
var yaml11Octal = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// kindOf returns the CUE kind a YAML node decodes to, following the rules of
// CUE's YAML decoder.
func kindOf(v *yaml.Node) kind {
	switch v.Kind {
	case yaml.MappingNode:
		return kMap
	case yaml.SequenceNode:
		return kSeq
	case yaml.DocumentNode:
		return 0
	}
	switch v.ShortTag() {
	case "!!str", "!!timestamp":
		return kString
	case "!!int":
		return kInt
	case "!!float":
		if v.Style&yaml.TaggedStyle == 0 && yaml11Octal.MatchString(v.Value) {
			return kString
		}
		return kFloat
	case "!!bool":
		return kBool
	case "!!null":
		return kNull
	case "!!binary":
		return kBytes
	}
	return 0
}

// value reads a scalar node as CUE would.
func value(v *yaml.Node) (scalar, bool) {
	k := kindOf(v)
	switch k {
	case kString:
		return scalar{k: k, s: v.Value}, true
	case kBool:
		b, _ := strconv.ParseBool(strings.ToLower(v.Value))
		return scalar{k: k, b: b}, true
	case kNull:
		return scalar{k: k}, true
	case kInt, kFloat:
		n, ok := parseNumber(v.Value)
		return scalar{k: k, n: n}, ok
	}
	return scalar{k: k}, k != 0
}

func parseNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case ".inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case ".nan":
		return math.NaN(), true
	}
	if i, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(i), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Integers beyond int64 still compare correctly as floats.
		bf, ok := new(big.Float).SetString(s)
		if !ok {
			return 0, false
		}
		f, _ := bf.Float64()
		return f, true
	}
	return f, true
}

func (s scalar) String() string {
	switch s.k {
	case kString:
		return strconv.Quote(s.s)
	case kBool:
		return strconv.FormatBool(s.b)
	case kNull:
		return "null"
	}
	return strconv.FormatFloat(s.n, 'g', -1, 64)
}

func kindName(k kind) string {
	var names []string
	for _, kn := range []struct {
		k kind
		n string
	}{{kString, "string"}, {kInt, "int"}, {kFloat, "float"}, {kBool, "bool"}, {kNull, "null"}, {kMap, "mapping"}, {kSeq, "list"}, {kBytes, "bytes"}} {
		if k&kn.k != 0 {
			names = append(names, kn.n)
		}
	}
	if k&(kInt|kFloat) == kInt|kFloat {
		names = slices.DeleteFunc(names, func(s string) bool { return s == "int" || s == "float" })
		names = append([]string{"number"}, names...)
	}
	return strings.Join(names, " or ")
}

// describe renders a data value for a message.
func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	k := kindOf(v)
	switch k {
	case kString:
		s := v.Value
		if utf8.RuneCountInString(s) > 60 {
			s = string([]rune(s)[:57]) + "..."
		}
		return strconv.Quote(s)
	case kNull:
		return "null"
	case 0:
		return fmt.Sprintf("a value tagged %s", v.Tag)
	}
	return v.Value
}

// scalarCheck applies a scalar constraint and returns why it fails, or "".
func scalarCheck(n *node, v *yaml.Node) string {
	k := kindOf(v)
	if k&accepts(n) == 0 {
		want := kindName(accepts(n))
		if n.op == opLit {
			want = n.lit.String()
		}
		return fmt.Sprintf("expected %s, found %s", want, describeKind(v, k))
	}
	val, ok := value(v)
	if !ok {
		return fmt.Sprintf("invalid number %s", v.Value)
	}
	switch n.op {
	case opLit:
		if !val.equal(n.lit) {
			return fmt.Sprintf("invalid value %s (must be %s)", describe(v), n.lit)
		}
	case opRegex:
		if n.neg && n.re.MatchString(val.s) {
			return fmt.Sprintf("invalid value %s (must not match %s)", describe(v), n.re)
		}
		if !n.neg && !n.re.MatchString(val.s) {
			return fmt.Sprintf("invalid value %s (must match %s)", describe(v), n.re)
		}
	case opBound:
		var ok bool
		switch n.bop {
		case token.GEQ:
			ok = val.n >= n.bound
		case token.LEQ:
			ok = val.n <= n.bound
		case token.GTR:
			ok = val.n > n.bound
		case token.LSS:
			ok = val.n < n.bound
		}
		if !ok {
			return fmt.Sprintf("invalid value %s (must be %s %s)", v.Value, n.bop, strconv.FormatFloat(n.bound, 'g', -1, 64))
		}
	case opRunes:
		c := utf8.RuneCountInString(val.s)
		if c < n.min {
			return fmt.Sprintf("invalid value %s (must have at least %d %s)", describe(v), n.min, plural(n.min, "character"))
		}
		if n.max >= 0 && c > n.max {
			return fmt.Sprintf("invalid value %s (must have at most %d %s)", describe(v), n.max, plural(n.max, "character"))
		}
	case opItems:
		if len(v.Content) < n.min {
			return fmt.Sprintf("the list must have at least %d %s", n.min, plural(n.min, "item"))
		}
	}
	return ""
}

func describeKind(v *yaml.Node, k kind) string {
	if k == kMap || k == kSeq || k == kNull || k == 0 {
		return describe(v)
	}
	return kindName(k) + " " + describe(v)
}

func (s scalar) equal(o scalar) bool {
	if s.k != o.k {
		return false
	}
	switch s.k {
	case kString:
		return s.s == o.s
	case kBool:
		return s.b == o.b
	case kNull:
		return true
	}
	return s.n == o.n
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
