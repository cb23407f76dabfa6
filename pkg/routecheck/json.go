package routecheck

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/diag"
)

// jsonDoc is YAML turned into the JSON protojson reads, with every mapping
// key and list item on a line of its own, so that the line protojson names
// in an error leads back to the place in the YAML file.
type jsonDoc struct {
	data []byte
	pos  []diag.Pos // pos[i] is where line i+1 of data came from
}

func toJSON(file string, n *yaml.Node) *jsonDoc {
	d := &jsonDoc{pos: []diag.Pos{nodePos(file, n)}}
	var b bytes.Buffer
	d.write(&b, file, n)
	d.data = b.Bytes()
	return d
}

func nodePos(file string, n *yaml.Node) diag.Pos {
	return diag.Pos{File: file, Line: n.Line, Col: n.Column}
}

func (d *jsonDoc) newline(b *bytes.Buffer, p diag.Pos) {
	b.WriteByte('\n')
	d.pos = append(d.pos, p)
}

func (d *jsonDoc) write(b *bytes.Buffer, file string, n *yaml.Node) {
	n = resolve(n)
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return
		}
		d.write(b, file, n.Content[0])
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			d.newline(b, nodePos(file, n.Content[i]))
			k, _ := json.Marshal(resolve(n.Content[i]).Value)
			b.Write(k)
			b.WriteByte(':')
			d.write(b, file, n.Content[i+1])
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			d.newline(b, nodePos(file, c))
			d.write(b, file, c)
		}
		b.WriteByte(']')
	default:
		b.WriteString(scalarJSON(n))
	}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// scalarJSON writes a YAML scalar as the JSON value Envoy's YAML loader
// would make of it: numbers and booleans as such, everything else a string.
func scalarJSON(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		var v bool
		if n.Decode(&v) == nil {
			return strconv.FormatBool(v)
		}
	case "!!int":
		if json.Valid([]byte(n.Value)) {
			return n.Value
		}
		var i int64
		if n.Decode(&i) == nil {
			return strconv.FormatInt(i, 10)
		}
		var u uint64
		if n.Decode(&u) == nil {
			return strconv.FormatUint(u, 10)
		}
	case "!!float":
		if json.Valid([]byte(n.Value)) {
			return n.Value
		}
		var f float64
		if n.Decode(&f) == nil {
			switch {
			case math.IsNaN(f):
				return `"NaN"`
			case math.IsInf(f, 1):
				return `"Infinity"`
			case math.IsInf(f, -1):
				return `"-Infinity"`
			}
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	s, _ := json.Marshal(n.Value)
	return string(s)
}

// protoErr matches the parts of protojson's errors that are about the JSON
// rather than the file: a prefix that varies on purpose, and the line and
// column in the JSON.
var (
	protoPrefix = regexp.MustCompile(`^proto:[\s\x{a0}]*`)
	protoLine   = regexp.MustCompile(`[\s\x{a0}]*\(line (\d+):\d+\)`)
)

// unmarshal decodes d into m with protojson, which refuses unknown fields
// as Envoy does, and turns its error into a finding at the YAML position.
func (d *jsonDoc) unmarshal(m proto.Message, at diag.Pos, where string) (diag.Diagnostic, bool) {
	err := protojson.Unmarshal(d.data, m)
	if err == nil {
		return diag.Diagnostic{}, true
	}
	msg := err.Error()
	pos := at
	msg = protoPrefix.ReplaceAllString(msg, "")
	if sub := protoLine.FindStringSubmatch(msg); sub != nil {
		msg = strings.TrimLeft(strings.Replace(msg, sub[0], "", 1), ": ")
		if line, err := strconv.Atoi(sub[1]); err == nil && line >= 1 && line <= len(d.pos) {
			pos = d.pos[line-1]
		}
	}
	msg = strings.ReplaceAll(msg, "\u00a0", " ")
	if where != "" {
		msg = where + ": " + msg
	}
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Message: msg}, false
}
