package intent

import (
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// TestKind is the kind of the documents of route test files.
const TestKind = "RouteTest"

// ParseTests reads a route test file (one listed under tests in
// edgectl.yaml) with the checks every intent file gets: encoding, YAML
// syntax, private keys, apiVersion and kind, and the schema of RouteTest.
// It returns the documents that pass, whose syntax stays available for
// decoding and positions; the rest are findings.
func ParseTests(p string, data []byte) ([]*Doc, diag.List, error) {
	sch, err := compiledSchema()
	if err != nil {
		return nil, nil, fmt.Errorf("compile schema: %w", err)
	}
	vs, diags := parseFile(sch, p, data, testFile)
	docs := make([]*Doc, 0, len(vs))
	for _, v := range vs {
		docs = append(docs, v.(*Doc))
	}
	return docs, diags, nil
}

// ReadYAML reads the documents of a YAML (or JSON) file that holds no
// intents, such as an Envoy route configuration or a router_check_tool
// test file, with the guards of every intent file: its encoding checked,
// a syntax error explained at its line and column, and aliases that would
// expand beyond the limits refused. It returns each document's root node;
// a file with a finding returns none.
func ReadYAML(p string, data []byte) ([]*yaml.Node, diag.List) {
	t := newText(p, data)
	if d, ok := checkEncoding(t); ok {
		return nil, diag.List{d}
	}
	dec := yamlfast.NewDecoder(data)
	var out []*yaml.Node
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, diag.List{yamlError(t, err)}
		}
		if len(root.Content) == 0 {
			continue
		}
		n := root.Content[0]
		if dd := checkNodes(t, n); len(dd) > 0 {
			return nil, dd
		}
		out = append(out, n)
	}
}
