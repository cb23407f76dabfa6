// Package yamlfast decodes YAML streams into the same node trees as
// go.yaml.in/yaml/v3, several times faster for the plain YAML that
// configuration repositories are written in.
//
// A hand-written parser reads a subset of YAML: block mappings and
// sequences, flow collections on one line, plain and quoted scalars on one
// line, empty values, "---" separators and comments. Whatever it does not
// accept (an anchor, a tag, a block scalar, a scalar over several lines,
// a syntax error, anything it is not sure of) sends the whole stream to
// yaml.v3, so its results and its errors are yaml.v3's own. Its trees
// are identical to yaml.v3's, field by field, positions included, except
// that it drops comments: where yaml.v3 would fill in HeadComment,
// LineComment or FootComment, the fast parser leaves them empty (edgectl
// reads none of them). FuzzAgreesWithYAMLv3 holds it to that.
package yamlfast

import (
	"bytes"
	"io"

	"go.yaml.in/yaml/v3"
)

// Decoder reads the documents of one YAML stream.
type Decoder struct {
	data   []byte
	parsed bool
	docs   []*yaml.Node // the fast parser's documents, or nil
	next   int          // the index in docs of the next document
	slow   *yaml.Decoder
}

// NewDecoder returns a decoder of the YAML stream data whose Decode calls
// give exactly what yaml.v3's yaml.NewDecoder(bytes.NewReader(data)).Decode
// would give: the same *yaml.Node trees, the same errors, the same io.EOF;
// only the comment fields of the nodes may be empty where yaml.v3's are
// not.
// The decoder reads data on the first call of Decode; data must not change
// before then.
func NewDecoder(data []byte) *Decoder {
	return &Decoder{data: data}
}

// Decode stores the next document of the stream in n, which must not be
// nil: its DocumentNode, whose one child is the document's root. At the
// end of the stream it returns io.EOF.
func (d *Decoder) Decode(n *yaml.Node) error {
	if !d.parsed {
		d.parsed = true
		if docs, ok := parseFast(d.data); ok {
			d.docs, d.data = docs, nil
		} else {
			d.slow = yaml.NewDecoder(bytes.NewReader(d.data))
		}
	}
	if d.slow != nil {
		return d.slow.Decode(n)
	}
	if d.next == len(d.docs) {
		return io.EOF
	}
	*n = *d.docs[d.next]
	d.docs[d.next] = nil
	d.next++
	return nil
}
