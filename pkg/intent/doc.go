// Package intent loads the documents of a routing repository: YAML read with
// its positions, checked against the schema of its kind, and decoded into the
// typed intents the compiler lowers.
package intent

import (
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/schema"
	"github.com/edgectl/edgectl/pkg/source"
)

// APIVersion is the version every document declares.
const APIVersion = "edgectl.dev/v1alpha1"

// ProjectFile is the name of the project file at the repository root.
const ProjectFile = source.ProjectFile

// Doc is one YAML document of a file.
type Doc struct {
	File  string // slash-separated, relative to the project root
	Index int    // 0-based position among the file's documents
	Kind  string
	Name  string
	Team  string // the team that owns File, if the project declares teams

	src  []byte     // the whole file
	node *yaml.Node // the document's syntax tree; nil once released
	// mu guards node: the lowering stage asks for positions from several
	// goroutines, and a released tree is parsed again by the first.
	mu sync.Mutex
}

// Syntax returns the document's YAML syntax tree (aliases unresolved; see
// schema.Resolve and schema.Pairs).
func (d *Doc) Syntax() *yaml.Node { return d.syntax() }

// syntax returns the document's syntax tree, parsing its file again if the
// tree was released (see Model.ReleaseSyntax). Positions are asked for
// rarely, so re-parsing beats keeping every tree of a large repository.
func (d *Doc) syntax() *yaml.Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.node != nil {
		return d.node
	}
	d.node = schema.DocumentAt(d.src, d.Index)
	return d.node
}

// release lets the document's syntax tree go.
func (d *Doc) release() {
	d.mu.Lock()
	d.node = nil
	d.mu.Unlock()
}

// ID names the document for messages: `VirtualHost "shop"`.
func (d *Doc) ID() string { return fmt.Sprintf("%s %q", d.Kind, d.Name) }

// Pos returns the position of the value at path, a sequence of field names
// and list indexes from the document root. When the path does not exist all
// the way, it returns the position of the deepest part that does.
func (d *Doc) Pos(path ...any) diag.Pos {
	return d.at(schema.Deepest(d.syntax(), path...))
}

// KeyPos returns the position of the key of the field at path, for findings
// about the field rather than its value.
func (d *Doc) KeyPos(path ...any) diag.Pos {
	if len(path) == 0 {
		return d.at(d.syntax())
	}
	parent := d.syntax()
	for _, step := range path[:len(path)-1] {
		if parent = schema.Child(parent, step); parent == nil {
			return d.Pos(path...)
		}
	}
	if name, ok := path[len(path)-1].(string); ok && parent.Kind == yaml.MappingNode {
		pairs, _ := schema.Pairs(parent)
		for _, p := range pairs {
			if schema.Resolve(p.Key).Value == name {
				return d.at(p.Key)
			}
		}
	}
	return d.Pos(path...)
}

func (d *Doc) at(n *yaml.Node) diag.Pos {
	if n == nil {
		return diag.Pos{File: d.File}
	}
	return diag.Pos{File: d.File, Line: n.Line, Col: n.Column}
}

// Path renders a path for messages: spec.routes[2].backend.
func Path(path ...any) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, s)
		}
	}
	return b.String()
}

// Value returns the document as plain Go values (maps, slices, strings,
// numbers, booleans, nil), the form policies receive.
func (d *Doc) Value() any {
	var v any
	if err := d.syntax().Decode(&v); err != nil {
		return nil
	}
	return v
}
