package intent

import (
	"errors"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/schema"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// Document is one YAML document of a file, checked like an intent's
// syntax is (encoding, runaway aliases, private keys) but not decoded: for
// another dialect's loader, which decodes it itself.
type Document struct {
	Index int        // 0-based position among the file's documents
	Node  *yaml.Node // the document's root, aliases resolved at the top
}

// Documents reads the documents of a file with the checks every input
// gets. A syntax error ends the file, as it does for intents; a document
// with a problem of its own is left out, with its findings.
func Documents(p string, data []byte) ([]Document, diag.List) {
	diags := scanPrivateKeys(p, data)
	t := newText(p, data)
	if d, ok := checkEncoding(t); ok {
		diags.Add(d)
		return nil, diags
	}
	var out []Document
	dd, syntax := eachDocument(t, data, func(index int, n *yaml.Node) diag.List {
		if dd := scanValues(t, n); len(dd) > 0 {
			return dd
		}
		out = append(out, Document{Index: index, Node: n})
		return nil
	})
	diags = append(diags, dd...)
	if syntax != nil {
		return nil, append(diags, *syntax)
	}
	return out, diags
}

// eachDocument decodes the documents of a file in order and calls each
// with every one that is not empty and whose aliases stay bounded
// (checkNodes; a document that fails it is left out with its findings).
// The findings each returns are kept in document order. A syntax error
// ends the file and is returned on its own: what was read before it may
// be half of what was meant.
func eachDocument(t *text, data []byte, each func(index int, n *yaml.Node) diag.List) (diag.List, *diag.Diagnostic) {
	var diags diag.List
	dec := yamlfast.NewDecoder(data)
	for index := 0; ; index++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return diags, nil
		}
		if err != nil {
			d := yamlError(t, err)
			return diags, &d
		}
		if len(root.Content) == 0 {
			continue
		}
		n := schema.Resolve(root.Content[0])
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			continue // an empty document, such as a leading ---
		}
		if dd := checkNodes(t, n); len(dd) > 0 {
			diags = append(diags, dd...)
			continue
		}
		diags = append(diags, each(index, n)...)
	}
}

// GatewayAPIGroup is the API group of Kubernetes Gateway API manifests.
// Intent files may hold them beside edgectl's kinds; the intent loader
// leaves them to the Gateway API dialect.
const GatewayAPIGroup = "gateway.networking.k8s.io"

// DocOf is a document another dialect read (a Gateway API manifest) as
// edgectl's policies and findings see its own: kind, name and owning team,
// and its tree, parsed from src again when asked for after release.
func DocOf(file string, index int, kind, name, team string, src []byte, node *yaml.Node) *Doc {
	return &Doc{File: file, Index: index, Kind: kind, Name: name, Team: team, src: src, node: node}
}
