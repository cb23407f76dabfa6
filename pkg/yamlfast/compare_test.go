package yamlfast

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// decoded is what the Decode calls of a decoder gave for a whole stream:
// its documents, then the error that ended it and what the call after
// that returned.
type decoded struct {
	docs       []*yaml.Node
	err, again string
}

// maxDocs bounds the documents read from one stream.
const maxDocs = 10000

func decodeAll(decode func(*yaml.Node) error) decoded {
	var d decoded
	for len(d.docs) < maxDocs {
		n := new(yaml.Node)
		if err := decode(n); err != nil {
			d.err = errString(err)
			d.again = errString(decode(new(yaml.Node)))
			break
		}
		d.docs = append(d.docs, n)
	}
	return d
}

// decodeAllRecover is decodeAll that returns what a panic of decode
// carried, if it panicked.
func decodeAllRecover(decode func(*yaml.Node) error) (d decoded, panicked any) {
	defer func() { panicked = recover() }()
	return decodeAll(decode), nil
}

func errString(err error) string {
	switch {
	case err == nil:
		return "<nil>"
	case errors.Is(err, io.EOF):
		return "EOF"
	}
	return "error: " + err.Error()
}

// agree decodes data with yaml.v3 and with a Decoder, and returns the
// first difference between the two, or "". Where the fast parser read the
// stream, its trees have no comments, and yaml.v3's are compared without
// theirs; where it gave up, the Decoder's trees are yaml.v3's and are
// compared with their comments.
func agree(data []byte) string {
	slow := yaml.NewDecoder(bytes.NewReader(data))
	want, panicked := decodeAllRecover(func(n *yaml.Node) error { return slow.Decode(n) })
	if panicked != nil {
		// yaml.v3 has inputs it panics on; a Decoder must leave them
		// to it, and panic the same.
		if _, ok := parseFast(data); ok {
			return fmt.Sprintf("yaml.v3 panics (%v) where the fast parser reads the stream", panicked)
		}
		return ""
	}
	dec := NewDecoder(data)
	got := decodeAll(dec.Decode)
	if dec.slow == nil {
		for _, doc := range want.docs {
			dropComments(doc)
		}
	}
	if got.err != want.err {
		return fmt.Sprintf("error: got %q, want %q", got.err, want.err)
	}
	if got.again != want.again {
		return fmt.Sprintf("error after the end: got %q, want %q", got.again, want.again)
	}
	if len(got.docs) != len(want.docs) {
		return fmt.Sprintf("got %d documents, want %d", len(got.docs), len(want.docs))
	}
	for i := range want.docs {
		if d := diffNode(fmt.Sprintf("doc[%d]", i), got.docs[i], want.docs[i], 0); d != "" {
			return d
		}
		// Whatever diffNode does not look at, such as a field a
		// later yaml.v3 adds.
		if !reflect.DeepEqual(got.docs[i], want.docs[i]) {
			return fmt.Sprintf("doc[%d]: trees differ beyond the fields compared", i)
		}
	}
	return ""
}

// dropComments empties the comment fields of the nodes of a tree.
func dropComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c)
	}
}

// diffNode describes the first field in which the trees got and want
// differ, with its path, or returns "".
func diffNode(path string, got, want *yaml.Node, depth int) string {
	if got == nil || want == nil {
		if got != want {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		return ""
	}
	fields := []struct {
		name      string
		got, want any
	}{
		{"Kind", got.Kind, want.Kind},
		{"Style", got.Style, want.Style},
		{"Tag", got.Tag, want.Tag},
		{"Value", got.Value, want.Value},
		{"Anchor", got.Anchor, want.Anchor},
		{"Line", got.Line, want.Line},
		{"Column", got.Column, want.Column},
		{"HeadComment", got.HeadComment, want.HeadComment},
		{"LineComment", got.LineComment, want.LineComment},
		{"FootComment", got.FootComment, want.FootComment},
		{"len(Content)", len(got.Content), len(want.Content)},
		{"Content == nil", got.Content == nil, want.Content == nil},
		{"Alias == nil", got.Alias == nil, want.Alias == nil},
	}
	for _, f := range fields {
		if f.got != f.want {
			return fmt.Sprintf("%s.%s: got %#v, want %#v", path, f.name, f.got, f.want)
		}
	}
	if got.Alias != nil && depth < 100 {
		// An alias's target is a node met elsewhere in the tree; its
		// anchor and position are enough to tell which one it is.
		if d := diffNode(path+".Alias", got.Alias, want.Alias, 100); d != "" {
			return d
		}
	}
	for i := range want.Content {
		if d := diffNode(fmt.Sprintf("%s/%d", path, i), got.Content[i], want.Content[i], depth); d != "" {
			return d
		}
	}
	return ""
}

// TestDiffNode shows that the comparison finds a difference in each field
// of a node and names the node's path.
func TestDiffNode(t *testing.T) {
	t.Parallel()
	base := func() *yaml.Node {
		return &yaml.Node{Kind: yaml.DocumentNode, Line: 1, Column: 1, Content: []*yaml.Node{{
			Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: "a", Line: 1, Column: 1},
				{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1", Line: 1, Column: 4},
			},
		}}}
	}
	tests := []struct {
		name   string
		change func(n *yaml.Node)
		want   string
	}{
		{"same", func(*yaml.Node) {}, ""},
		{"kind", func(n *yaml.Node) { n.Content[0].Kind = yaml.SequenceNode }, "doc/0.Kind"},
		{"style", func(n *yaml.Node) { n.Content[0].Content[1].Style = yaml.DoubleQuotedStyle }, "doc/0/1.Style"},
		{"tag", func(n *yaml.Node) { n.Content[0].Content[1].Tag = "!!str" }, "doc/0/1.Tag"},
		{"value", func(n *yaml.Node) { n.Content[0].Content[0].Value = "b" }, "doc/0/0.Value"},
		{"anchor", func(n *yaml.Node) { n.Content[0].Anchor = "x" }, "doc/0.Anchor"},
		{"line", func(n *yaml.Node) { n.Content[0].Content[1].Line = 2 }, "doc/0/1.Line"},
		{"column", func(n *yaml.Node) { n.Column = 3 }, "doc.Column"},
		{"head comment", func(n *yaml.Node) { n.Content[0].HeadComment = "# x" }, "doc/0.HeadComment"},
		{"line comment", func(n *yaml.Node) { n.Content[0].Content[0].LineComment = "# x" }, "doc/0/0.LineComment"},
		{"foot comment", func(n *yaml.Node) { n.FootComment = "# x" }, "doc.FootComment"},
		{"content", func(n *yaml.Node) { n.Content[0].Content = n.Content[0].Content[:1] }, "doc/0.len(Content)"},
		{"alias", func(n *yaml.Node) { n.Content[0].Content[1].Alias = n.Content[0].Content[0] }, "doc/0/1.Alias == nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := base()
			tt.change(got)
			d := diffNode("doc", got, base(), 0)
			if tt.want == "" && d != "" || tt.want != "" && !bytes.HasPrefix([]byte(d), []byte(tt.want+":")) {
				t.Errorf("diffNode = %q, want a difference at %q", d, tt.want)
			}
		})
	}
}
