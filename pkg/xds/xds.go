// Package xds translates the IR of a gateway into Envoy resources
// (go-control-plane types). The constructors are pure: the same IR always
// gives equal messages, and nothing here reports user errors.
package xds

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// Mode says how the resources reach Envoy, which decides how they refer to
// each other.
type Mode int

const (
	// Static: everything in the bootstrap's static_resources; route
	// configurations inline in their listeners, secrets by name.
	Static Mode = iota
	// Files: file-based xDS; listeners and clusters in lds.yaml and
	// cds.yaml, each route configuration and secret in a file of its own,
	// all in the gateway's xDS directory.
	Files
	// ADS: everything over one aggregated gRPC stream.
	ADS
	// StaticSpliced is Static with each inline route configuration a
	// stand-in that names it (SplicedRoutes): the routes are checked and
	// encoded once, for their RDS file, and the bundle's encoder splices
	// that encoding into the static bootstrap, which then reads exactly as
	// a Static one.
	StaticSpliced
)

func (m Mode) String() string {
	return [...]string{"static", "files", "ads", "static-spliced"}[m]
}

func (m Mode) static() bool { return m == Static || m == StaticSpliced }

// SplicedRoutes is the stand-in for route configuration name in the
// listeners of StaticSpliced: a name no user can give (the prefix is
// reserved, and ':' is in no generated name).
func SplicedRoutes(name string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: "edgectl-spliced:" + name}
}

// SDSCluster is the static cluster that reaches a gateway's SDS server.
const SDSCluster = "edgectl-sds"

// Resources are the xDS resources of one gateway, each list sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Secrets   []*tlsv3.Secret
	// Endpoints hold, for each Kubernetes Service the clusters name, an
	// assignment without endpoints (Files and ADS modes): an xDS server
	// that watches the cluster replaces them.
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// Translate builds the resources of a gateway for each delivery mode asked
// for, in that order. Route configurations do not depend on the mode, so
// they are built once and shared.
func Translate(g *ir.Gateway, modes ...Mode) []*Resources {
	var routes []*routev3.RouteConfiguration
	for _, l := range g.Listeners {
		if l.Routes != nil {
			routes = append(routes, routeConfiguration(l.Routes))
		}
		for _, fc := range l.Chains {
			if fc.Routes != nil {
				routes = append(routes, routeConfiguration(fc.Routes))
			}
		}
	}
	sortByName(routes)
	out := make([]*Resources, len(modes))
	for i, mode := range modes {
		t := translator{g: g, mode: mode}
		r := &Resources{Routes: routes}
		for _, l := range g.Listeners {
			r.Listeners = append(r.Listeners, t.listener(l, routes))
			if l.HTTP3 {
				r.Listeners = append(r.Listeners, t.quicListener(l, routes))
			}
		}
		for k, c := range g.Clusters {
			if i > 0 && !modal(c) {
				// The same in every form: shared, so it is encoded and
				// checked once (see CheckAfter).
				r.Clusters = append(r.Clusters, out[0].Clusters[k])
				continue
			}
			r.Clusters = append(r.Clusters, t.cluster(c))
		}
		for _, s := range g.Secrets {
			r.Secrets = append(r.Secrets, secret(s))
		}
		if !mode.static() {
			r.Endpoints = placeholders(g)
		}
		out[i] = r
	}
	return out
}

// modal reports whether a cluster's translation depends on the form:
// endpoints from Kubernetes, and certificates, are found differently in
// each.
func modal(c *ir.Cluster) bool {
	return c.Discovery == ir.Kubernetes || c.TLS != nil && (c.TLS.ClientCertificate != nil || c.TLS.CA != nil)
}

type translator struct {
	g    *ir.Gateway
	mode Mode
}

// File names inside the xDS directory. They are flat, so the directory can
// also be a mounted Kubernetes ConfigMap.
const (
	LDSFile = "lds.yaml"
	CDSFile = "cds.yaml"
)

// RouteFile is the file holding one route configuration.
func RouteFile(name string) string { return "rds-" + name + ".yaml" }

// SecretFile is the file holding one secret.
func SecretFile(name string) string { return "sds-" + name + ".yaml" }

func (t translator) fileSource(file string) *corev3.ConfigSource {
	return pathSource(t.g.XDSDir, file)
}

func pathSource(dir, file string) *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
			Path:             path.Join(dir, file),
			WatchedDirectory: &corev3.WatchedDirectory{Path: dir},
		}},
	}
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// sdsRef refers to a certificate: a secret of the bundle, delivered the way
// the mode delivers resources, or a secret held by the gateway's SDS server.
func (t translator) sdsRef(ref ir.CertRef) *tlsv3.SdsSecretConfig {
	c := &tlsv3.SdsSecretConfig{Name: ref.Name}
	switch {
	case ref.SDS:
		c.Name = ref.SDSName
		c.SdsConfig = &corev3.ConfigSource{
			ResourceApiVersion: corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: SDSCluster}}}},
			}},
		}
	case t.mode == Files:
		c.SdsConfig = t.fileSource(SecretFile(ref.Name))
	case t.mode == ADS:
		c.SdsConfig = adsSource()
	}
	return c
}

// toAny packs a message deterministically: anypb.New does not, and then
// equal configurations produce different bytes and spurious updates.
func toAny(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(fmt.Sprintf("xds: pack %T: %v", m, err)) // only fails for invalid UTF-8, which the schema excludes
	}
	return a
}

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func durp(d *time.Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return durationpb.New(*d)
}

func u32p(v *uint32) *wrapperspb.UInt32Value {
	if v == nil {
		return nil
	}
	return wrapperspb.UInt32(*v)
}

func socketAddress(addr string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: addr, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

type named interface{ GetName() string }

func sortByName[T named](xs []T) {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(a.GetName(), b.GetName()) })
}
