// Package gatewayapi is the Kubernetes Gateway API dialect: it loads
// GatewayClass, Gateway, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute and
// ReferenceGrant manifests with the Services, EndpointSlices and Namespaces
// they refer to, and lowers them into the same IR as edgectl's own
// intents, with the status a conformant controller would give each object.
package gatewayapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/internal/par"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/schema"
	"github.com/edgectl/edgectl/pkg/source"
)

// Group is the API group of the Gateway API kinds.
const Group = "gateway.networking.k8s.io"

// Doc is one manifest and where it came from.
type Doc struct {
	File  string
	Index int // among the file's documents
	// Order is the document's place among all documents of the input,
	// by file path and then index: the tie-break after creationTimestamp.
	Order      int
	APIVersion string
	Kind       string
	Namespace  string
	Name       string

	src     []byte     // the whole file, to parse again for positions
	node    *yaml.Node // nil once released; parsed again when asked for
	origins [][]diag.Pos
}

// syntax returns the document's tree, parsing its file again if the tree
// was let go after decoding: positions are asked for by findings, which
// are rare, and keeping every tree of a large input costs most of its
// memory.
func (d *Doc) syntax() *yaml.Node {
	if d.node != nil || d.src == nil {
		return d.node
	}
	d.node = schema.DocumentAt(d.src, d.Index)
	return d.node
}

// release lets the syntax tree go, keeping the positions of route matches,
// which every route's origin needs.
func (d *Doc) release() {
	if d.Kind == "HTTPRoute" || d.Kind == "GRPCRoute" {
		spec := schema.Child(d.node, "spec")
		rules := schema.Child(spec, "rules")
		pos := func(n *yaml.Node) diag.Pos { return diag.Pos{File: d.File, Line: n.Line, Col: n.Column} }
		switch {
		case rules != nil && rules.Kind == yaml.SequenceNode && len(rules.Content) > 0:
			d.origins = make([][]diag.Pos, len(rules.Content))
			for i := range rules.Content {
				matches := schema.Child(schema.Child(rules, i), "matches")
				if matches == nil || matches.Kind != yaml.SequenceNode || len(matches.Content) == 0 {
					// A rule without matches is one match, at the rule.
					d.origins[i] = []diag.Pos{pos(schema.Child(rules, i))}
					continue
				}
				for j := range matches.Content {
					m := schema.Child(matches, j)
					d.origins[i] = append(d.origins[i], pos(m))
				}
			}
		case d.node != nil:
			// No rules: one rule of one match, at the deepest of spec.rules
			// that exists, as Pos would find it.
			at := d.node
			if spec != nil {
				at = spec
			}
			if rules != nil {
				at = rules
			}
			d.origins = [][]diag.Pos{{pos(at)}}
		}
	}
	d.node = nil
}

// origin is the position of a route's match, or of its rule when the
// rule has no matches.
func (d *Doc) origin(rule, match int) diag.Pos {
	if rule < len(d.origins) && match < len(d.origins[rule]) {
		return d.origins[rule][match]
	}
	return d.Pos("spec", "rules", rule, "matches", match)
}

// ID names the document for messages: `HTTPRoute "shop/orders"`.
func (d *Doc) ID() string { return fmt.Sprintf("%s %q", d.Kind, d.Namespace+"/"+d.Name) }

// Pos returns the position of the value at path (field names and list
// indexes from the document root), or of the deepest part of it that exists.
func (d *Doc) Pos(path ...any) diag.Pos {
	n := schema.Deepest(d.syntax(), path...)
	if n == nil {
		return diag.Pos{File: d.File}
	}
	return diag.Pos{File: d.File, Line: n.Line, Col: n.Column}
}

// Each kind, decoded, beside its document.
type (
	GatewayClass struct {
		Doc *Doc
		Obj *gwv1.GatewayClass
	}
	Gateway struct {
		Doc *Doc
		Obj *gwv1.Gateway
	}
	HTTPRoute struct {
		Doc *Doc
		Obj *gwv1.HTTPRoute
	}
	GRPCRoute struct {
		Doc *Doc
		Obj *gwv1.GRPCRoute
	}
	TLSRoute struct {
		Doc *Doc
		Obj *gwv1.TLSRoute
	}
	TCPRoute struct {
		Doc *Doc
		Obj *gwv1.TCPRoute
	}
	ReferenceGrant struct {
		Doc *Doc
		Obj *gwv1.ReferenceGrant
	}
	BackendTLSPolicy struct {
		Doc *Doc
		Obj *gwv1.BackendTLSPolicy
	}
	Service struct {
		Doc *Doc
		Obj *corev1.Service
	}
	EndpointSlice struct {
		Doc *Doc
		Obj *discoveryv1.EndpointSlice
	}
	Namespace struct {
		Doc *Doc
		Obj *corev1.Namespace
	}
)

// Set is every manifest of an input, each kind in document order.
type Set struct {
	Classes        []*GatewayClass
	Gateways       []*Gateway
	HTTPRoutes     []*HTTPRoute
	GRPCRoutes     []*GRPCRoute
	TLSRoutes      []*TLSRoute
	TCPRoutes      []*TCPRoute
	Grants         []*ReferenceGrant
	TLSPolicies    []*BackendTLSPolicy
	Services       []*Service
	EndpointSlices []*EndpointSlice
	Namespaces     []*Namespace
	// Files lists the files that held at least one manifest, by path.
	Files []intent.File
	// docs are the documents of every object above.
	docs []*Doc
}

// ReleaseSyntax lets the YAML syntax trees go once nothing needs positions
// any more; they are most of the memory a large input takes.
func (s *Set) ReleaseSyntax() {
	for _, d := range s.docs {
		d.release()
	}
}

// Empty reports whether the set holds no Gateway API object at all.
func (s *Set) Empty() bool {
	return len(s.Classes)+len(s.Gateways)+len(s.HTTPRoutes)+len(s.GRPCRoutes)+len(s.TLSRoutes)+len(s.TCPRoutes)+len(s.Grants)+len(s.TLSPolicies) == 0
}

// unsupportedKinds are Gateway API kinds edgectl reads but cannot compile
// yet: a warning says so rather than a silent skip.
var unsupportedKinds = []string{"BackendLBPolicy", "ListenerSet", "UDPRoute", "XBackendTrafficPolicy", "XListenerSet"}

// Options tune Load. The zero value is ready to use.
type Options struct {
	// Workers read files in parallel; zero means GOMAXPROCS.
	Workers int
}

// Load reads every YAML file of fsys (except hidden directories and
// edgectl's own output) and keeps the manifests of the kinds this dialect
// knows. Documents of other kinds are left alone: a directory of Kubernetes
// manifests holds Deployments too.
func Load(fsys fs.FS, opts Options) (*Set, diag.List, error) {
	var paths []string
	err := source.WalkManifests(fsys, func(p string, _ fs.DirEntry) error {
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walk repository: %w", err)
	}
	slices.Sort(paths)
	// Files are read and their documents decoded in parallel; the set is
	// assembled in path order afterwards, so it never depends on timing.
	results := make([]fileDocs, len(paths))
	par.Each(len(paths), opts.Workers, func(i int) { results[i] = readFile(fsys, paths[i]) })
	set := &Set{}
	var diags diag.List
	order := 0
	for _, r := range results {
		if r.err != nil {
			return nil, nil, r.err
		}
		diags = append(diags, r.diags...)
		for _, d := range r.docs {
			d.doc.Order = order
			order++
			set.addDecoded(d)
		}
		if r.keep {
			set.Files = append(set.Files, intent.File{Path: r.path, Data: r.data})
		}
	}
	return set, diags, nil
}

type fileDocs struct {
	path  string
	data  []byte
	keep  bool
	docs  []decoded
	diags diag.List
	err   error
}

func readFile(fsys fs.FS, p string) fileDocs {
	r := fileDocs{path: p}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		if d, ok := intent.SymlinkProblem(fsys, p, err); ok {
			r.diags.Add(d)
			return r
		}
		r.err = fmt.Errorf("read %s: %w", p, err)
		return r
	}
	if !Mentions(data) {
		return r
	}
	r.data = data
	docs, dd := intent.Documents(p, data)
	if !bytes.Contains(data, []byte(Group+"/")) {
		// A file that names no Gateway API kind may be anything: a Helm
		// template is not YAML until it is rendered. It is skipped with a
		// warning; a private key in it is still an error.
		for i := range dd {
			if dd[i].Rule == "yaml" && dd[i].Severity == diag.Error {
				dd[i].Severity = diag.Warning
				dd[i].Message += "; the file is skipped (it names no Gateway API kind)"
			}
		}
	}
	r.diags = append(r.diags, dd...)
	r.keep = len(dd) > 0
	for _, doc := range docs {
		d := &Doc{File: p, Index: doc.Index, node: doc.Node, src: data}
		dec, ok, dd := decodeDoc(d)
		d.release()
		r.diags = append(r.diags, dd...)
		if ok {
			r.keep = true
		}
		if dec.target != nil {
			r.docs = append(r.docs, dec)
		}
	}
	return r
}

// Mentions reports whether a file may hold a manifest this dialect reads.
// It is a cheap filter before parsing: every such document names its kind.
func Mentions(data []byte) bool {
	return bytes.Contains(data, []byte("kind"))
}

// decoded is one document decoded into its kind's wrapper (*Gateway,
// *HTTPRoute, ...); target is nil when the document was not kept.
type decoded struct {
	doc    *Doc
	target any
}

// decodeDoc decodes one document; it reports whether the document was of
// a kind the dialect reads, even when it failed to decode.
func decodeDoc(d *Doc) (decoded, bool, diag.List) {
	var diags diag.List
	if d.node.Kind != yaml.MappingNode {
		return decoded{}, false, nil
	}
	av, kind := scalar(d.node, "apiVersion"), scalar(d.node, "kind")
	if av == "" || kind == "" {
		return decoded{}, false, nil
	}
	d.APIVersion, d.Kind = av, kind
	group, version, _ := strings.Cut(av, "/")
	if version == "" {
		group, version = "", av
	}
	var wrapper, obj any
	switch {
	case group == Group:
		switch {
		case kind == "GatewayClass" && (version == "v1" || version == "v1beta1"):
			v := &GatewayClass{Doc: d, Obj: &gwv1.GatewayClass{}}
			wrapper, obj = v, v.Obj
		case kind == "Gateway" && (version == "v1" || version == "v1beta1"):
			v := &Gateway{Doc: d, Obj: &gwv1.Gateway{}}
			wrapper, obj = v, v.Obj
		case kind == "HTTPRoute" && (version == "v1" || version == "v1beta1"):
			v := &HTTPRoute{Doc: d, Obj: &gwv1.HTTPRoute{}}
			wrapper, obj = v, v.Obj
		case kind == "GRPCRoute" && version == "v1":
			v := &GRPCRoute{Doc: d, Obj: &gwv1.GRPCRoute{}}
			wrapper, obj = v, v.Obj
		case kind == "TLSRoute" && (version == "v1" || version == "v1alpha3" || version == "v1alpha2"):
			v := &TLSRoute{Doc: d, Obj: &gwv1.TLSRoute{}}
			wrapper, obj = v, v.Obj
		case kind == "TCPRoute" && (version == "v1" || version == "v1alpha2"):
			v := &TCPRoute{Doc: d, Obj: &gwv1.TCPRoute{}}
			wrapper, obj = v, v.Obj
		case kind == "ReferenceGrant" && (version == "v1" || version == "v1beta1"):
			v := &ReferenceGrant{Doc: d, Obj: &gwv1.ReferenceGrant{}}
			wrapper, obj = v, v.Obj
		case kind == "BackendTLSPolicy" && (version == "v1" || version == "v1alpha3"):
			v := &BackendTLSPolicy{Doc: d, Obj: &gwv1.BackendTLSPolicy{}}
			wrapper, obj = v, v.Obj
		case slices.Contains(unsupportedKinds, kind):
			diags.Warnf(d.Pos("kind"), "unsupported-kind", "%s %s is not compiled by edgectl yet; it has no effect on the bundles", av, kind)
			return decoded{}, true, diags
		default:
			diags.Errorf(d.Pos("apiVersion"), "document", "unknown Gateway API kind %s in %s", kind, av)
			return decoded{}, true, diags
		}
	case av == "v1" && kind == "Service":
		v := &Service{Doc: d, Obj: &corev1.Service{}}
		wrapper, obj = v, v.Obj
	case av == "v1" && kind == "Namespace":
		v := &Namespace{Doc: d, Obj: &corev1.Namespace{}}
		wrapper, obj = v, v.Obj
	case av == "discovery.k8s.io/v1" && kind == "EndpointSlice":
		v := &EndpointSlice{Doc: d, Obj: &discoveryv1.EndpointSlice{}}
		wrapper, obj = v, v.Obj
	default:
		return decoded{}, false, nil
	}
	if err := decode(d.node, obj); err != nil {
		diags.Add(decodeError(d, err))
		return decoded{}, true, diags
	}
	d.Name = scalar(schema.Child(d.node, "metadata"), "name")
	d.Namespace = scalar(schema.Child(d.node, "metadata"), "namespace")
	if d.Kind != "Namespace" && d.Kind != "GatewayClass" && d.Namespace == "" {
		d.Namespace = "default"
		setNamespace(obj, "default")
	}
	if d.Name == "" {
		diags.Errorf(d.Pos("metadata"), "schema", "metadata.name: a %s needs a name", d.Kind)
		return decoded{}, true, diags
	}
	return decoded{doc: d, target: wrapper}, true, diags
}

// addDecoded adds a decoded document to the set.
func (s *Set) addDecoded(d decoded) {
	s.docs = append(s.docs, d.doc)
	switch v := d.target.(type) {
	case *GatewayClass:
		s.Classes = append(s.Classes, v)
	case *Gateway:
		s.Gateways = append(s.Gateways, v)
	case *HTTPRoute:
		s.HTTPRoutes = append(s.HTTPRoutes, v)
	case *GRPCRoute:
		s.GRPCRoutes = append(s.GRPCRoutes, v)
	case *TLSRoute:
		s.TLSRoutes = append(s.TLSRoutes, v)
	case *TCPRoute:
		s.TCPRoutes = append(s.TCPRoutes, v)
	case *ReferenceGrant:
		s.Grants = append(s.Grants, v)
	case *BackendTLSPolicy:
		s.TLSPolicies = append(s.TLSPolicies, v)
	case *Service:
		s.Services = append(s.Services, v)
	case *Namespace:
		s.Namespaces = append(s.Namespaces, v)
	case *EndpointSlice:
		s.EndpointSlices = append(s.EndpointSlices, v)
	}
}

func setNamespace(target any, ns string) {
	if o, ok := target.(interface{ SetNamespace(string) }); ok {
		o.SetNamespace(ns)
	}
}

// decode turns a YAML tree into a typed Kubernetes object the way the API
// server would read its JSON: unknown fields are refused.
func decode(n *yaml.Node, target any) error {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer jsonBuffers.Put(buf)
	buf.Reset()
	if err := writeJSON(buf, n, 0); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	return dec.Decode(target)
}

var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes a YAML tree as JSON, scalars typed by their resolved
// tags, without building Go values in between.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, depth int) error {
	if depth > 100 {
		return fmt.Errorf("line %d: nested too deeply", n.Line)
	}
	n = schema.Resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		pairs, err := mappingPairs(n)
		if err != nil {
			return err
		}
		buf.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				buf.WriteByte(',')
			}
			k := schema.Resolve(p.Key)
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a mapping key must be a scalar", k.Line)
			}
			writeString(buf, k.Value)
			buf.WriteByte(':')
			if err := writeJSON(buf, p.Value, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, c, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return err
			}
			buf.WriteString(strconv.FormatBool(b))
		case "!!int":
			i, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				// Octal, hexadecimal, underscores: YAML's own reading.
				if err := n.Decode(&i); err != nil {
					return err
				}
			}
			buf.WriteString(strconv.FormatInt(i, 10))
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return err
			}
			if math.IsInf(f, 0) || math.IsNaN(f) {
				writeString(buf, n.Value)
			} else {
				buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			}
		default: // strings, timestamps, binary: as written
			writeString(buf, n.Value)
		}
	default:
		buf.WriteString("null")
	}
	return nil
}

// mappingPairs is schema.Pairs without its copy for the usual mapping,
// which has no merge key.
func mappingPairs(n *yaml.Node) ([]schema.Pair, error) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "<<" {
			return schema.Pairs(n)
		}
	}
	pairs := make([]schema.Pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, schema.Pair{Key: n.Content[i], Value: n.Content[i+1]})
	}
	return pairs, nil
}

func writeString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			buf.Write(b)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

// decodeError places a decoding failure at the field it names.
func decodeError(d *Doc, err error) diag.Diagnostic {
	pos := d.Pos()
	msg := err.Error()
	var field string
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field = te.Field
		msg = fmt.Sprintf("%s: a %s cannot hold a %s", te.Field, te.Type, te.Value)
	case strings.HasPrefix(msg, "json: unknown field "):
		field = strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		msg = fmt.Sprintf("unknown field %q in %s %s", field, d.APIVersion, d.Kind)
	}
	if field != "" {
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		if n := findKey(d.node, field); n != nil {
			pos = diag.Pos{File: d.File, Line: n.Line, Col: n.Column}
		}
	}
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: "schema", Message: msg}
}

// findKey finds the first mapping key with a name, depth first.
func findKey(n *yaml.Node, name string) *yaml.Node {
	n = schema.Resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		pairs, _ := schema.Pairs(n)
		for _, p := range pairs {
			if k := schema.Resolve(p.Key); k.Value == name {
				return k
			}
		}
	}
	for _, c := range n.Content {
		if k := findKey(c, name); k != nil {
			return k
		}
	}
	return nil
}

func scalar(n *yaml.Node, name string) string {
	v := schema.Child(n, name)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}
