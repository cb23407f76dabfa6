// Package schema checks YAML documents against the CUE definitions embedded
// from schemas/.
//
// Evaluating CUE for every document of a large repository costs seconds, so
// the definitions are compiled once into a plain Go validator instead. It
// understands exactly the subset of CUE the schema is written in (closed
// structs, optional and required fields, pattern fields, open lists, kinds,
// literals, disjunctions, conjunctions, bounds, regular expressions (=~ and
// !~) and the
// strings.MinRunes, strings.MaxRunes, list.MinItems builtins) and refuses to
// compile anything else. A test holds its verdicts to CUE's own evaluator.
package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

type op int

const (
	opTop    op = iota
	opKind      // the value has one of the kinds in mask
	opLit       // the value equals lit
	opRegex     // a string matching re (not matching it, with neg)
	opBound     // a number compared with bound
	opRunes     // a string of at least min and at most max runes (max < 0: no limit)
	opItems     // a list of at least min items
	opAnd       // every arg holds
	opOr        // some arg holds
	opStruct    // a closed mapping
	opList      // a list of elem
	opRef       // the definition ref
)

// kind is a bit set of CUE kinds as they arise from YAML.
type kind uint16

const (
	kString kind = 1 << iota
	kInt
	kFloat
	kBool
	kNull
	kMap
	kSeq
	kBytes
)

type node struct {
	op    op
	pos   token.Pos
	mask  kind
	lit   scalar
	re    *regexp.Regexp
	neg   bool // opRegex: the string must not match
	bop   token.Token
	bound float64
	min   int
	max   int
	args  []*node
	// opStruct
	fields  []*field
	pattern *field // key constraint in pattern.key, value in pattern.val
	elem    *node
	ref     *def
}

type field struct {
	name     string
	required bool
	key      *node // pattern fields only
	val      *node
	pos      token.Pos
}

// def is a top-level definition such as #Gateway.
type def struct {
	name string
	doc  string // first sentence of its comment, used in messages
	expr ast.Expr
	node *node
}

// scalar is a literal in the schema or a scalar in the data.
type scalar struct {
	k kind
	s string  // strings
	n float64 // numbers
	b bool    // booleans
}

// Schema is a compiled set of definitions. It is safe for concurrent use.
type Schema struct {
	file string
	defs map[string]*def
}

// Compile parses CUE source and compiles every definition in it.
func Compile(filename string, src []byte) (*Schema, error) {
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	s := &Schema{file: filename, defs: map[string]*def{}}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.Package, *ast.ImportDecl, *ast.CommentGroup:
		case *ast.Field:
			name, ok := identLabel(d.Label)
			if !ok || !strings.HasPrefix(name, "#") {
				return nil, fmt.Errorf("%s: only definitions are supported at the top level", d.Pos())
			}
			s.defs[name] = &def{name: name, doc: docOf(d), expr: d.Value}
		default:
			return nil, fmt.Errorf("%s: unsupported declaration %T", d.Pos(), d)
		}
	}
	c := compiler{s: s}
	for _, d := range s.defs {
		n, err := c.expr(d.expr)
		if err != nil {
			return nil, err
		}
		d.node = n
	}
	return s, nil
}

// Has reports whether the schema defines name (with its leading #).
func (s *Schema) Has(name string) bool { _, ok := s.defs[name]; return ok }

func docOf(f *ast.Field) string {
	for _, cg := range ast.Comments(f) {
		if !cg.Doc {
			continue
		}
		text := strings.Join(strings.Fields(cg.Text()), " ")
		if i := strings.Index(text, ". "); i >= 0 {
			text = text[:i]
		}
		return strings.TrimSuffix(text, ".")
	}
	return ""
}

func identLabel(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind == token.STRING {
			s, err := literal.Unquote(l.Value)
			return s, err == nil
		}
	}
	return "", false
}

type compiler struct{ s *Schema }

func (c compiler) errorf(n ast.Node, format string, args ...any) error {
	return fmt.Errorf("%s: unsupported schema construct: %s", n.Pos(), fmt.Sprintf(format, args...))
}

func (c compiler) expr(e ast.Expr) (*node, error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.expr(e.X)
	case *ast.Ident:
		return c.ident(e)
	case *ast.BasicLit:
		v, err := c.literal(e)
		if err != nil {
			return nil, err
		}
		return &node{op: opLit, pos: e.Pos(), lit: v}, nil
	case *ast.UnaryExpr:
		return c.unary(e)
	case *ast.BinaryExpr:
		var o op
		switch e.Op {
		case token.AND:
			o = opAnd
		case token.OR:
			o = opOr
		default:
			return nil, c.errorf(e, "operator %s", e.Op)
		}
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		y, err := c.expr(e.Y)
		if err != nil {
			return nil, err
		}
		// Flatten chains such as a | b | c into one node.
		n := &node{op: o, pos: e.Pos()}
		for _, arg := range []*node{x, y} {
			if arg.op == o {
				n.args = append(n.args, arg.args...)
			} else {
				n.args = append(n.args, arg)
			}
		}
		return n, nil
	case *ast.StructLit:
		return c.structLit(e)
	case *ast.ListLit:
		if len(e.Elts) != 1 {
			return nil, c.errorf(e, "only open lists [...T] are supported")
		}
		el, ok := e.Elts[0].(*ast.Ellipsis)
		if !ok {
			return nil, c.errorf(e, "only open lists [...T] are supported")
		}
		n := &node{op: opList, pos: e.Pos(), elem: &node{op: opTop}}
		if el.Type != nil {
			t, err := c.expr(el.Type)
			if err != nil {
				return nil, err
			}
			n.elem = t
		}
		return n, nil
	case *ast.CallExpr:
		return c.call(e)
	}
	return nil, c.errorf(e, "%T", e)
}

func (c compiler) ident(e *ast.Ident) (*node, error) {
	switch e.Name {
	case "_":
		return &node{op: opTop, pos: e.Pos()}, nil
	case "string":
		return &node{op: opKind, pos: e.Pos(), mask: kString}, nil
	case "int":
		return &node{op: opKind, pos: e.Pos(), mask: kInt}, nil
	case "number":
		return &node{op: opKind, pos: e.Pos(), mask: kInt | kFloat}, nil
	case "float":
		return &node{op: opKind, pos: e.Pos(), mask: kFloat}, nil
	case "bool":
		return &node{op: opKind, pos: e.Pos(), mask: kBool}, nil
	case "null":
		return &node{op: opKind, pos: e.Pos(), mask: kNull}, nil
	}
	if d, ok := c.s.defs[e.Name]; ok {
		return &node{op: opRef, pos: e.Pos(), ref: d}, nil
	}
	return nil, c.errorf(e, "unknown identifier %s", e.Name)
}

func (c compiler) literal(e *ast.BasicLit) (scalar, error) {
	switch e.Kind {
	case token.STRING:
		s, err := literal.Unquote(e.Value)
		if err != nil {
			return scalar{}, c.errorf(e, "string %s", e.Value)
		}
		return scalar{k: kString, s: s}, nil
	case token.INT:
		n, err := strconv.ParseInt(strings.ReplaceAll(e.Value, "_", ""), 0, 64)
		if err != nil {
			return scalar{}, c.errorf(e, "integer %s", e.Value)
		}
		return scalar{k: kInt, n: float64(n)}, nil
	case token.FLOAT:
		n, err := strconv.ParseFloat(e.Value, 64)
		if err != nil {
			return scalar{}, c.errorf(e, "number %s", e.Value)
		}
		return scalar{k: kFloat, n: n}, nil
	case token.TRUE, token.FALSE:
		return scalar{k: kBool, b: e.Kind == token.TRUE}, nil
	case token.NULL:
		return scalar{k: kNull}, nil
	}
	return scalar{}, c.errorf(e, "literal %s", e.Value)
}

func (c compiler) unary(e *ast.UnaryExpr) (*node, error) {
	lit, ok := e.X.(*ast.BasicLit)
	if !ok {
		return nil, c.errorf(e, "%s applied to %T", e.Op, e.X)
	}
	v, err := c.literal(lit)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case token.MAT, token.NMAT:
		if v.k != kString {
			return nil, c.errorf(e, "%s needs a string", e.Op)
		}
		re, err := regexp.Compile(v.s)
		if err != nil {
			return nil, c.errorf(e, "regexp: %v", err)
		}
		return &node{op: opRegex, pos: e.Pos(), re: re, neg: e.Op == token.NMAT}, nil
	case token.GEQ, token.LEQ, token.GTR, token.LSS:
		if v.k != kInt && v.k != kFloat {
			return nil, c.errorf(e, "bounds must be numbers")
		}
		return &node{op: opBound, pos: e.Pos(), bop: e.Op, bound: v.n}, nil
	case token.SUB:
		if v.k != kInt && v.k != kFloat {
			return nil, c.errorf(e, "- needs a number")
		}
		v.n = -v.n
		return &node{op: opLit, pos: e.Pos(), lit: v}, nil
	}
	return nil, c.errorf(e, "operator %s", e.Op)
}

func (c compiler) call(e *ast.CallExpr) (*node, error) {
	sel, ok := e.Fun.(*ast.SelectorExpr)
	if !ok || len(e.Args) != 1 {
		return nil, c.errorf(e, "call")
	}
	pkg, _ := sel.X.(*ast.Ident)
	name, _ := identLabel(sel.Sel)
	lit, ok := e.Args[0].(*ast.BasicLit)
	if pkg == nil || !ok || lit.Kind != token.INT {
		return nil, c.errorf(e, "call")
	}
	n, err := strconv.Atoi(lit.Value)
	if err != nil {
		return nil, c.errorf(e, "call argument")
	}
	switch pkg.Name + "." + name {
	case "strings.MinRunes":
		return &node{op: opRunes, pos: e.Pos(), min: n, max: -1}, nil
	case "strings.MaxRunes":
		return &node{op: opRunes, pos: e.Pos(), min: 0, max: n}, nil
	case "list.MinItems":
		return &node{op: opItems, pos: e.Pos(), min: n}, nil
	}
	return nil, c.errorf(e, "builtin %s.%s", pkg.Name, name)
}

func (c compiler) structLit(e *ast.StructLit) (*node, error) {
	n := &node{op: opStruct, pos: e.Pos()}
	for _, d := range e.Elts {
		f, ok := d.(*ast.Field)
		if !ok {
			if _, ok := d.(*ast.CommentGroup); ok {
				continue
			}
			return nil, c.errorf(d, "struct element %T", d)
		}
		val, err := c.expr(f.Value)
		if err != nil {
			return nil, err
		}
		if l, ok := f.Label.(*ast.ListLit); ok {
			if len(l.Elts) != 1 || n.pattern != nil {
				return nil, c.errorf(f, "one pattern field per struct")
			}
			key, err := c.expr(l.Elts[0])
			if err != nil {
				return nil, err
			}
			n.pattern = &field{key: key, val: val, pos: f.Pos()}
			continue
		}
		name, ok := identLabel(f.Label)
		if !ok {
			return nil, c.errorf(f, "label %T", f.Label)
		}
		if f.Constraint == token.ILLEGAL {
			return nil, c.errorf(f, "field %s must be optional (?) or required (!)", name)
		}
		n.fields = append(n.fields, &field{name: name, required: f.Constraint == token.NOT, val: val, pos: f.Pos()})
	}
	return n, nil
}
