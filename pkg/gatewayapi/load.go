// Package gatewayapi is the Kubernetes Gateway API dialect: it loads
// GatewayClass, Gateway, HTTPRoute, GRPCRoute and ReferenceGrant manifests
// with the Services, EndpointSlices and Namespaces they refer to, and lowers
// them into the same IR as edgectl's own intents, with the status a
// conformant controller would give each object.
package gatewayapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

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

	node *yaml.Node
}

// ID names the document for messages: `HTTPRoute "shop/orders"`.
func (d *Doc) ID() string { return fmt.Sprintf("%s %q", d.Kind, d.Namespace+"/"+d.Name) }

// Pos returns the position of the value at path (field names and list
// indexes from the document root), or of the deepest part of it that exists.
func (d *Doc) Pos(path ...any) diag.Pos {
	n := d.node
	for _, step := range path {
		next := child(n, step)
		if next == nil {
			break
		}
		n = next
	}
	if n == nil {
		return diag.Pos{File: d.File}
	}
	return diag.Pos{File: d.File, Line: n.Line, Col: n.Column}
}

func child(n *yaml.Node, step any) *yaml.Node {
	n = schema.Resolve(n)
	if n == nil {
		return nil
	}
	switch s := step.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		pairs, _ := schema.Pairs(n)
		for _, p := range pairs {
			if schema.Resolve(p.Key).Value == s {
				return schema.Resolve(p.Value)
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
			return schema.Resolve(n.Content[s])
		}
	}
	return nil
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
	ReferenceGrant struct {
		Doc *Doc
		Obj *gwv1.ReferenceGrant
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
	Grants         []*ReferenceGrant
	Services       []*Service
	EndpointSlices []*EndpointSlice
	Namespaces     []*Namespace
	// Files lists the files that held at least one manifest, by path.
	Files []intent.File
}

// Empty reports whether the set holds no Gateway API object at all.
func (s *Set) Empty() bool {
	return len(s.Classes)+len(s.Gateways)+len(s.HTTPRoutes)+len(s.GRPCRoutes)+len(s.Grants) == 0
}

// unsupportedKinds are Gateway API kinds edgectl reads but cannot compile
// yet: a warning says so rather than a silent skip.
var unsupportedKinds = []string{"BackendLBPolicy", "BackendTLSPolicy", "ListenerSet", "TCPRoute", "TLSRoute", "UDPRoute", "XBackendTrafficPolicy", "XListenerSet"}

// Load reads every YAML file of fsys (except hidden directories and
// edgectl's own output) and keeps the manifests of the kinds this dialect
// knows. Documents of other kinds are left alone: a directory of Kubernetes
// manifests holds Deployments too.
func Load(fsys fs.FS) (*Set, diag.List, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			if _, err := fs.Stat(fsys, path.Join(p, source.OutputMarker)); err == nil {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walk repository: %w", err)
	}
	slices.Sort(paths)
	set := &Set{}
	var diags diag.List
	order := 0
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			if d, ok := intent.SymlinkProblem(fsys, p, err); ok {
				diags.Add(d)
				continue
			}
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !Mentions(data) {
			continue
		}
		docs, dd := intent.Documents(p, data)
		diags = append(diags, dd...)
		kept := false
		for _, doc := range docs {
			d := &Doc{File: p, Index: doc.Index, Order: order, node: doc.Node}
			order++
			ok, dd := set.add(d)
			diags = append(diags, dd...)
			kept = kept || ok
		}
		if kept || len(dd) > 0 {
			set.Files = append(set.Files, intent.File{Path: p, Data: data})
		}
	}
	return set, diags, nil
}

// Mentions reports whether a file may hold a manifest this dialect reads.
// It is a cheap filter before parsing: every such document names its kind.
func Mentions(data []byte) bool {
	return bytes.Contains(data, []byte("kind"))
}

// add decodes one document into the set; it reports whether the document
// was of a kind the dialect keeps.
func (s *Set) add(d *Doc) (bool, diag.List) {
	var diags diag.List
	if d.node.Kind != yaml.MappingNode {
		return false, nil
	}
	av, kind := scalar(d.node, "apiVersion"), scalar(d.node, "kind")
	if av == "" || kind == "" {
		return false, nil
	}
	d.APIVersion, d.Kind = av, kind
	group, version, _ := strings.Cut(av, "/")
	if version == "" {
		group, version = "", av
	}
	var target any
	switch {
	case group == Group:
		switch {
		case kind == "GatewayClass" && (version == "v1" || version == "v1beta1"):
			v := &GatewayClass{Doc: d, Obj: &gwv1.GatewayClass{}}
			target, s.Classes = v.Obj, append(s.Classes, v)
		case kind == "Gateway" && (version == "v1" || version == "v1beta1"):
			v := &Gateway{Doc: d, Obj: &gwv1.Gateway{}}
			target, s.Gateways = v.Obj, append(s.Gateways, v)
		case kind == "HTTPRoute" && (version == "v1" || version == "v1beta1"):
			v := &HTTPRoute{Doc: d, Obj: &gwv1.HTTPRoute{}}
			target, s.HTTPRoutes = v.Obj, append(s.HTTPRoutes, v)
		case kind == "GRPCRoute" && version == "v1":
			v := &GRPCRoute{Doc: d, Obj: &gwv1.GRPCRoute{}}
			target, s.GRPCRoutes = v.Obj, append(s.GRPCRoutes, v)
		case kind == "ReferenceGrant" && (version == "v1" || version == "v1beta1"):
			v := &ReferenceGrant{Doc: d, Obj: &gwv1.ReferenceGrant{}}
			target, s.Grants = v.Obj, append(s.Grants, v)
		case slices.Contains(unsupportedKinds, kind):
			diags.Warnf(d.Pos("kind"), "unsupported-kind", "%s %s is not compiled by edgectl yet; it has no effect on the bundles", av, kind)
			return false, diags
		default:
			diags.Errorf(d.Pos("apiVersion"), "document", "unknown Gateway API kind %s in %s", kind, av)
			return false, diags
		}
	case av == "v1" && kind == "Service":
		v := &Service{Doc: d, Obj: &corev1.Service{}}
		target, s.Services = v.Obj, append(s.Services, v)
	case av == "v1" && kind == "Namespace":
		v := &Namespace{Doc: d, Obj: &corev1.Namespace{}}
		target, s.Namespaces = v.Obj, append(s.Namespaces, v)
	case av == "discovery.k8s.io/v1" && kind == "EndpointSlice":
		v := &EndpointSlice{Doc: d, Obj: &discoveryv1.EndpointSlice{}}
		target, s.EndpointSlices = v.Obj, append(s.EndpointSlices, v)
	default:
		return false, nil
	}
	if err := decode(d.node, target); err != nil {
		diags.Add(decodeError(d, err))
		s.drop(d)
		return true, diags
	}
	d.Name = scalar(child(d.node, "metadata"), "name")
	d.Namespace = scalar(child(d.node, "metadata"), "namespace")
	if d.Kind != "Namespace" && d.Kind != "GatewayClass" && d.Namespace == "" {
		d.Namespace = "default"
		setNamespace(target, "default")
	}
	if d.Name == "" {
		diags.Errorf(d.Pos("metadata"), "schema", "metadata.name: a %s needs a name", d.Kind)
		s.drop(d)
	}
	return true, diags
}

// drop takes back the last document added, which failed to decode.
func (s *Set) drop(d *Doc) {
	switch d.Kind {
	case "GatewayClass":
		s.Classes = dropLast(s.Classes, func(v *GatewayClass) *Doc { return v.Doc }, d)
	case "Gateway":
		s.Gateways = dropLast(s.Gateways, func(v *Gateway) *Doc { return v.Doc }, d)
	case "HTTPRoute":
		s.HTTPRoutes = dropLast(s.HTTPRoutes, func(v *HTTPRoute) *Doc { return v.Doc }, d)
	case "GRPCRoute":
		s.GRPCRoutes = dropLast(s.GRPCRoutes, func(v *GRPCRoute) *Doc { return v.Doc }, d)
	case "ReferenceGrant":
		s.Grants = dropLast(s.Grants, func(v *ReferenceGrant) *Doc { return v.Doc }, d)
	case "Service":
		s.Services = dropLast(s.Services, func(v *Service) *Doc { return v.Doc }, d)
	case "Namespace":
		s.Namespaces = dropLast(s.Namespaces, func(v *Namespace) *Doc { return v.Doc }, d)
	case "EndpointSlice":
		s.EndpointSlices = dropLast(s.EndpointSlices, func(v *EndpointSlice) *Doc { return v.Doc }, d)
	}
}

func dropLast[T any](list []T, doc func(T) *Doc, d *Doc) []T {
	if n := len(list); n > 0 && doc(list[n-1]) == d {
		return list[:n-1]
	}
	return list
}

func setNamespace(target any, ns string) {
	if o, ok := target.(interface{ SetNamespace(string) }); ok {
		o.SetNamespace(ns)
	}
}

// decode turns a YAML tree into a typed Kubernetes object the way the API
// server would read its JSON: unknown fields are refused.
func decode(n *yaml.Node, target any) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	data, err := json.Marshal(jsonable(v))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(target)
}

// jsonable turns the maps YAML decodes with non-string keys into maps JSON
// can encode.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonable(e)
		}
		return v
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		for i, e := range v {
			v[i] = jsonable(e)
		}
		return v
	}
	return v
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
	v := child(n, name)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}
