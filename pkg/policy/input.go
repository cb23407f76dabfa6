package policy

import (
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/schema"
)

// inputValue builds a document's policy input straight from its YAML
// syntax tree: the same value as Input, without the Go maps in between,
// which cost more than evaluating a dozen policies.
func inputValue(d *intent.Doc) ast.Value {
	v := yamlValue(d.Syntax(), 0)
	obj, ok := v.(ast.Object)
	if !ok {
		obj = ast.NewObject()
	}
	obj.Insert(ast.StringTerm("edgectl"), ast.ObjectTerm(
		ast.Item(ast.StringTerm("file"), ast.StringTerm(d.File)),
		ast.Item(ast.StringTerm("team"), ast.StringTerm(d.Team)),
		ast.Item(ast.StringTerm("index"), ast.IntNumberTerm(d.Index)),
	))
	return obj
}

func hasMerge(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i].Tag == "!!merge" {
			return true
		}
	}
	return false
}

// maxDepth bounds recursion through aliases; schema-valid documents are
// far shallower.
const maxDepth = 64

// yamlValue converts a node as CUE's YAML reading does (and the schema
// checked): strings, numbers, booleans, null, mappings and lists.
func yamlValue(n *yaml.Node, depth int) ast.Value {
	n = schema.Resolve(n)
	if n == nil || depth > maxDepth {
		return ast.Null{}
	}
	switch n.Kind {
	case yaml.MappingNode:
		items := make([][2]*ast.Term, 0, len(n.Content)/2)
		if hasMerge(n) {
			pairs, _ := schema.Pairs(n)
			for _, p := range pairs {
				items = append(items, ast.Item(ast.StringTerm(schema.Resolve(p.Key).Value), ast.NewTerm(yamlValue(p.Value, depth+1))))
			}
		} else {
			for i := 0; i+1 < len(n.Content); i += 2 {
				items = append(items, ast.Item(ast.StringTerm(schema.Resolve(n.Content[i]).Value), ast.NewTerm(yamlValue(n.Content[i+1], depth+1))))
			}
		}
		return ast.NewObject(items...)
	case yaml.SequenceNode:
		terms := make([]*ast.Term, len(n.Content))
		for i, c := range n.Content {
			terms[i] = ast.NewTerm(yamlValue(c, depth+1))
		}
		return ast.NewArray(terms...)
	}
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return ast.Number(strconv.FormatInt(i, 10))
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return ast.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		return ast.Boolean(b)
	case "!!null":
		return ast.Null{}
	}
	return ast.String(n.Value)
}
