package intent

import (
	"fmt"

	"github.com/edgectl/edgectl/pkg/diag"
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
