package serve

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/edgectl/edgectl/internal/par"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Gateway is one gateway's bundle as a source read it.
type Gateway struct {
	Name string
	// NodeCluster is the manifest's node.cluster: Envoys (and gRPC clients)
	// with that node cluster are served this gateway.
	NodeCluster string
	// Digest is the bundle digest, served as the version.
	Digest string
	// Resources are the bundle's file-based xDS resources.
	Resources *xds.Resources
}

// version is everything served for one version of one gateway: the
// snapshot for Envoy, the one for proxyless gRPC clients, and what the
// latter had to leave out.
type version struct {
	gateway     string
	nodeCluster string
	digest      string
	envoy       *cachev3.Snapshot
	proxyless   *cachev3.Snapshot
	notes       []string
	counts      counts
}

type counts struct {
	listeners, routes, clusters, secrets, grpcListeners, grpcClusters int
}

// buildVersion builds and validates both snapshots of a gateway. Nothing it
// returns without error can be rejected by a client for what edgectl
// checks: the generated validation of every message including those in
// Any, the references between resources, and the snapshot's consistency.
func buildVersion(g *Gateway) (*version, error) {
	ads, err := xds.ADSForm(g.Resources)
	if err != nil {
		return nil, err
	}
	if err := xds.Check(ads, xds.ADS); err != nil {
		return nil, fmt.Errorf("check ADS resources: %w", err)
	}
	envoyResources := map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: resources(ads.Listeners),
		resourcev3.RouteType:    resources(ads.Routes),
		resourcev3.ClusterType:  resources(ads.Clusters),
		resourcev3.SecretType:   resources(ads.Secrets),
	}
	if len(ads.Endpoints) > 0 { // placeholders, filled from Kubernetes (eds.go)
		envoyResources[resourcev3.EndpointType] = resources(ads.Endpoints)
	}
	check, err := cachev3.NewSnapshot(g.Digest, envoyResources)
	if err != nil {
		return nil, fmt.Errorf("build snapshot: %w", err)
	}
	if err := check.Consistent(); err != nil {
		return nil, fmt.Errorf("check snapshot: %w", err)
	}
	pl, notes, err := proxylessForm(ads)
	if err != nil {
		return nil, fmt.Errorf("build proxyless gRPC resources: %w", err)
	}
	if err := checkProxyless(pl); err != nil {
		return nil, fmt.Errorf("check proxyless gRPC resources: %w", err)
	}
	grpcResources := map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: resources(pl.Listeners),
		resourcev3.RouteType:    resources(pl.Routes),
		resourcev3.ClusterType:  resources(pl.Clusters),
		resourcev3.EndpointType: resources(pl.Endpoints),
	}
	// Both flavours share most resources (route configurations are the
	// same messages): encode each once.
	enc := wireEncoder{}
	envoy, err := enc.snapshot(g.Digest, envoyResources)
	if err != nil {
		return nil, fmt.Errorf("build snapshot: %w", err)
	}
	grpc, err := enc.snapshot(g.Digest, grpcResources)
	if err != nil {
		return nil, fmt.Errorf("build proxyless gRPC snapshot: %w", err)
	}
	return &version{
		gateway:     g.Name,
		nodeCluster: g.NodeCluster,
		digest:      g.Digest,
		envoy:       envoy,
		proxyless:   grpc,
		notes:       notes,
		counts: counts{
			listeners: len(ads.Listeners), routes: len(ads.Routes), clusters: len(ads.Clusters), secrets: len(ads.Secrets),
			grpcListeners: len(pl.Listeners), grpcClusters: len(pl.Clusters),
		},
	}, nil
}

func resources[T types.Resource](xs []T) []types.Resource {
	out := make([]types.Resource, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// wireEncoder turns resources into their wire form: a message of the same
// type holding only its name, with every other field kept as the unknown
// bytes of its canonical encoding. Marshaling one is a copy.
//
// go-control-plane's snapshot cache marshals every resource again for every
// response (it wraps resources anew per response), so a new version of a
// 10,000-route gateway sent to a thousand Envoys was a thousand full
// encodings, most of the server's CPU. The bytes on the wire, and the
// per-resource hashes of delta xDS, are unchanged: protobuf writes known
// fields in field-number order, the name (field 1) first, then unknown
// bytes as they are. Each wire form is checked against the encoding it
// replaces. A snapshot of wire forms cannot be checked for consistency
// (its references are opaque), so it is built from checked resources.
type wireEncoder map[proto.Message]types.Resource

func (w wireEncoder) snapshot(version string, rs map[resourcev3.Type][]types.Resource) (*cachev3.Snapshot, error) {
	if err := w.encode(rs); err != nil {
		return nil, err
	}
	out := make(map[resourcev3.Type][]types.Resource, len(rs))
	for typ, list := range rs {
		enc := make([]types.Resource, len(list))
		for i, r := range list {
			enc[i] = w[r]
		}
		out[typ] = enc
	}
	return cachev3.NewSnapshot(version, out)
}

// encode puts the wire form of every resource of rs not encoded yet in w,
// each resource on its own, on every core.
func (w wireEncoder) encode(rs map[resourcev3.Type][]types.Resource) error {
	var todo []types.Resource
	seen := map[types.Resource]bool{}
	for _, typ := range slices.Sorted(maps.Keys(rs)) {
		for _, r := range rs[typ] {
			if _, ok := w[r]; !ok && !seen[r] {
				seen[r] = true
				todo = append(todo, r)
			}
		}
	}
	enc := make([]types.Resource, len(todo))
	errs := make([]error, len(todo))
	par.Each(len(todo), 0, func(i int) { enc[i], errs[i] = wireForm(todo[i]) })
	for i, r := range todo {
		if errs[i] != nil {
			return errs[i]
		}
		w[r] = enc[i]
	}
	return nil
}

var canonical = proto.MarshalOptions{Deterministic: true}

// wireForm is r's wire form, or r itself when its name is not its first
// field.
func wireForm(r types.Resource) (types.Resource, error) {
	b, err := canonical.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.ProtoReflect().Descriptor().FullName(), err)
	}
	num, typ, n := protowire.ConsumeTag(b)
	name := r.ProtoReflect().Descriptor().Fields().ByNumber(1)
	if n < 0 || num != 1 || typ != protowire.BytesType || name == nil || name.Kind() != protoreflect.StringKind {
		return r, nil // no name first: served as it is
	}
	val, m := protowire.ConsumeBytes(b[n:])
	if m < 0 {
		return nil, protowire.ParseError(m)
	}
	h := r.ProtoReflect().New()
	h.Set(name, protoreflect.ValueOfString(string(val)))
	h.SetUnknown(protoreflect.RawFields(b[n+m:]))
	hb, err := canonical.Marshal(h.Interface())
	if err != nil || !bytes.Equal(hb, b) {
		return nil, fmt.Errorf("encode %s %q: the wire form differs from the message", r.ProtoReflect().Descriptor().FullName(), val)
	}
	return h.Interface(), nil
}
