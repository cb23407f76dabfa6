package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/edgectl/edgectl/pkg/xds"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// Resources reads the file-based xDS resources of a bundle back into Envoy
// messages, and checks each against the hash the manifest records for it:
// what a server or a push delivers is what was compiled.
//
// The resources of a bundle read by Read or ReadDelivered were verified
// then, and are returned as they are: callers must not change them.
func (b *Bundle) Resources() (*xds.Resources, error) {
	if b.resources != nil {
		return b.resources, nil
	}
	r := &xds.Resources{}
	seen := map[string]bool{}
	for _, f := range b.Files {
		if !strings.HasPrefix(f.Path, XDSDir+"/") {
			continue
		}
		_, msgs, err := readDiscoveryFile(f.Path, f.Data)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if err := b.checkResource(f.Path, m); err != nil {
				return nil, err
			}
			switch m := m.(type) {
			case *listenerv3.Listener:
				r.Listeners = append(r.Listeners, m)
				seen["Listener/"+m.Name] = true
			case *routev3.RouteConfiguration:
				r.Routes = append(r.Routes, m)
				seen["RouteConfiguration/"+m.Name] = true
			case *clusterv3.Cluster:
				r.Clusters = append(r.Clusters, m)
				seen["Cluster/"+m.Name] = true
			case *tlsv3.Secret:
				r.Secrets = append(r.Secrets, m)
				seen["Secret/"+m.Name] = true
			case *endpointv3.ClusterLoadAssignment:
				r.Endpoints = append(r.Endpoints, m)
				seen["ClusterLoadAssignment/"+m.ClusterName] = true
			default:
				return nil, fmt.Errorf("%s: unexpected resource %s", f.Path, m.ProtoReflect().Descriptor().FullName())
			}
		}
	}
	for _, e := range b.Manifest.Resources {
		if !seen[e.Type+"/"+e.Name] {
			return nil, fmt.Errorf("%s %q is in the manifest but in no file", e.Type, e.Name)
		}
	}
	sortResources(r)
	return r, nil
}

// sortResources puts resources read from files in the compiler's order,
// by name. File order differs where one name extends another: the route
// configuration https.cert.vhost is in rds-https.cert.vhost.yaml, which
// sorts before rds-https.cert.yaml.
func sortResources(r *xds.Resources) {
	slices.SortStableFunc(r.Listeners, func(a, b *listenerv3.Listener) int { return strings.Compare(a.GetName(), b.GetName()) })
	slices.SortStableFunc(r.Clusters, func(a, b *clusterv3.Cluster) int { return strings.Compare(a.GetName(), b.GetName()) })
	slices.SortStableFunc(r.Routes, func(a, b *routev3.RouteConfiguration) int { return strings.Compare(a.GetName(), b.GetName()) })
	slices.SortStableFunc(r.Secrets, func(a, b *tlsv3.Secret) int { return strings.Compare(a.GetName(), b.GetName()) })
	slices.SortStableFunc(r.Endpoints, func(a, b *endpointv3.ClusterLoadAssignment) int {
		return strings.Compare(a.GetClusterName(), b.GetClusterName())
	})
}

// Bootstrap reads one of the bundle's bootstraps.
func (b *Bundle) Bootstrap(file string) (*bootstrapv3.Bootstrap, error) {
	js, err := yamlToJSON(b.File(file))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	boot := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, boot); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return boot, nil
}

// resourceName is the name a resource is known by: an assignment of
// endpoints has a cluster (or EDS service) name instead.
func resourceName(m proto.Message) string {
	switch m := m.(type) {
	case *endpointv3.ClusterLoadAssignment:
		return m.ClusterName
	case interface{ GetName() string }:
		return m.GetName()
	}
	return ""
}

// checkResource re-encodes a resource canonically and compares it with
// the manifest's record.
func (b *Bundle) checkResource(file string, m proto.Message) error {
	name := resourceName(m)
	js, err := anyJSON(m)
	if err != nil {
		return err
	}
	for _, e := range b.Manifest.Resources {
		if e.File == file && e.Name == name {
			if e.SHA256 != sum(js) {
				return fmt.Errorf("%s: resource %q does not match the manifest", file, name)
			}
			return nil
		}
	}
	return fmt.Errorf("%s: resource %q is not in the manifest", file, name)
}

// readDiscoveryFile reads an xDS file and the resources in it. The
// DiscoveryResponse it returns holds the file's version and type URL; its
// resources are the messages.
//
// A file shaped as edgectl writes it is read resource by resource, each
// straight into its own type (readResources). Anything else, and any
// file that fails there, is read as protojson reads a DiscoveryResponse
// whole (readWhole), so that what is wrong with it is protojson's own
// word.
func readDiscoveryFile(path string, data []byte) (*discoveryv3.DiscoveryResponse, []proto.Message, error) {
	n, err := firstDocument(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if dr, msgs, ok := readResources(&n); ok {
		return dr, msgs, nil
	}
	dr, msgs, err := readWhole(&n)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dr, msgs, nil
}

// readWhole reads a discovery file's first document as protojson reads a
// DiscoveryResponse, resources in Any messages, then each resource out of
// its Any.
func readWhole(doc *yaml.Node) (*discoveryv3.DiscoveryResponse, []proto.Message, error) {
	var b bytes.Buffer
	if len(doc.Content) == 0 {
		b.WriteString("{}")
	} else if err := nodeJSON(&b, doc.Content[0]); err != nil {
		return nil, nil, err
	}
	var dr discoveryv3.DiscoveryResponse
	if err := protojson.Unmarshal(b.Bytes(), &dr); err != nil {
		return nil, nil, err
	}
	out := make([]proto.Message, 0, len(dr.Resources))
	for _, a := range dr.Resources {
		m, err := a.UnmarshalNew()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, m)
	}
	dr.Resources = nil
	return &dr, out, nil
}

// readResources reads a discovery file of the shape edgectl writes: a
// mapping of version_info, resources and type_url (or their JSON names,
// as protojson takes either), each at most once, the two strings plain
// strings, and each resource a mapping whose first key is @type, naming a
// message that is not one of protobuf's well-known types. Each resource's other fields are read by protojson into a message
// of that type: what protojson makes of the same resource inside an Any,
// without the Any's round trip through the wire form (encoded, then
// decoded again), nor its second pass over the fields to find @type. It
// reports false for any other shape or a resource protojson refuses.
func readResources(doc *yaml.Node) (*discoveryv3.DiscoveryResponse, []proto.Message, bool) {
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, false
	}
	top := doc.Content[0].Content
	dr := &discoveryv3.DiscoveryResponse{}
	var list *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(top); i += 2 {
		k, v := top[i].Value, top[i+1]
		switch k { // protojson takes a field's JSON name or its own
		case "version_info":
			k = "versionInfo"
		case "type_url":
			k = "typeUrl"
		}
		if seen[k] {
			return nil, nil, false
		}
		seen[k] = true
		switch {
		case k == "versionInfo" && isString(v):
			dr.VersionInfo = v.Value
		case k == "typeUrl" && isString(v):
			dr.TypeUrl = v.Value
		case k == "resources" && v.Kind == yaml.SequenceNode:
			list = v
		default:
			return nil, nil, false
		}
	}
	if list == nil {
		return dr, nil, true
	}
	out := make([]proto.Message, 0, len(list.Content))
	var b bytes.Buffer
	for _, r := range list.Content {
		if r.Kind != yaml.MappingNode || len(r.Content) < 2 || r.Content[0].Value != "@type" || !isString(r.Content[1]) {
			return nil, nil, false
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByURL(r.Content[1].Value)
		if err != nil || strings.HasPrefix(string(mt.Descriptor().FullName()), "google.protobuf.") {
			return nil, nil, false
		}
		b.Reset()
		if err := fieldsJSON(&b, r, 2); err != nil {
			return nil, nil, false
		}
		m := mt.New().Interface()
		if err := protojson.Unmarshal(b.Bytes(), m); err != nil {
			return nil, nil, false
		}
		out = append(out, m)
	}
	return dr, out, true
}

// isString tells a scalar that nodeJSON writes as a JSON string.
func isString(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!null":
		return false
	}
	return true
}

// yamlToJSON converts the YAML edgectl writes back to JSON: the first
// document of data, as yaml.Unmarshal reads it.
func yamlToJSON(data []byte) ([]byte, error) {
	n, err := firstDocument(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if len(n.Content) == 0 {
		return []byte("{}"), nil
	}
	if err := nodeJSON(&b, n.Content[0]); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// firstDocument parses the first document of data into what
// yaml.Unmarshal(data, &n) stores in n, and returns yaml.Unmarshal's
// error, with yamlfast, which is several times faster on what edgectl
// writes. yaml.Unmarshal parses the stream's first document as the first
// Decode of a yaml.v3 Decoder does, which yamlfast's Decoder matches but
// for comments, which nodeJSON does not read. At the end of the stream
// Decode returns io.EOF where yaml.Unmarshal leaves n as it was; an error
// is taken from yaml.Unmarshal itself, so that it is its own, word for
// word.
func firstDocument(data []byte) (yaml.Node, error) {
	var n yaml.Node
	err := yamlfast.NewDecoder(data).Decode(&n)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF):
		return yaml.Node{}, nil
	}
	n = yaml.Node{}
	err = yaml.Unmarshal(data, &n)
	return n, err
}

// nodeJSON writes a YAML node as JSON, keeping key order, numbers as
// written and strings as strings.
func nodeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		return fieldsJSON(b, n, 0)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := nodeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			b.WriteString(n.Value)
		case "!!bool":
			b.WriteString(n.Value)
		case "!!null":
			b.WriteString("null")
		default:
			s, _ := json.Marshal(n.Value)
			b.Write(s)
		}
	default:
		return fmt.Errorf("unexpected YAML at line %d", n.Line)
	}
	return nil
}

// fieldsJSON writes a mapping as a JSON object, from its content's entry
// from on (an even index: a key).
func fieldsJSON(b *bytes.Buffer, n *yaml.Node, from int) error {
	b.WriteByte('{')
	for i := from; i+1 < len(n.Content); i += 2 {
		if i > from {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n.Content[i].Value)
		b.Write(k)
		b.WriteByte(':')
		if err := nodeJSON(b, n.Content[i+1]); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}
