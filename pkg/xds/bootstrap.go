package xds

import (
	"net"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/edgectl/edgectl/pkg/ir"
)

const defaultConnectTimeout = 2 * time.Second

func isIP(s string) bool { return net.ParseIP(s) != nil }

func node(g *ir.Gateway) *corev3.Node { return &corev3.Node{Id: g.NodeID, Cluster: g.NodeCluster} }

// RE2ErrorLevel is the runtime key of Envoy's limit on a regex's RE2
// program size.
const RE2ErrorLevel = "re2.max_program_size.error_level"

// Runtime layer names; like every name edgectl makes up, reserved.
const (
	RuntimeLayer      = "edgectl-runtime"
	AdminRuntimeLayer = "edgectl-admin"
)

// layeredRuntime sets the runtime keys the gateway needs in a static layer, and
// keeps an admin layer so /runtime_modify still works as it does without
// a layered runtime. Nil when the defaults do.
func layeredRuntime(g *ir.Gateway) *bootstrapv3.LayeredRuntime {
	if g.RE2MaxProgramSize == 0 {
		return nil
	}
	static := &structpb.Struct{Fields: map[string]*structpb.Value{
		RE2ErrorLevel: structpb.NewNumberValue(float64(g.RE2MaxProgramSize)),
	}}
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: RuntimeLayer, LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: static}},
		{Name: AdminRuntimeLayer, LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}
}

func admin(g *ir.Gateway) *bootstrapv3.Admin {
	if g.Admin == nil {
		return nil
	}
	return &bootstrapv3.Admin{Address: socketAddress(g.Admin.Address, g.Admin.Port)}
}

// StaticBootstrap holds the whole configuration in static_resources: the
// simplest deployment, where any change needs a restart (or hot restart).
func StaticBootstrap(g *ir.Gateway, r *Resources) *bootstrapv3.Bootstrap {
	clusters := r.Clusters
	if g.SDS != nil {
		clusters = append([]*clusterv3.Cluster{sdsCluster(g.SDS)}, clusters...)
		sortByName(clusters)
	}
	return &bootstrapv3.Bootstrap{
		Node:           node(g),
		Admin:          admin(g),
		LayeredRuntime: layeredRuntime(g),
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: r.Listeners,
			Clusters:  clusters,
			Secrets:   r.Secrets,
		},
	}
}

// FilesBootstrap points Envoy at the gateway's xDS directory: listeners and
// clusters (and through them routes and secrets) are read from files there
// and reloaded when a new version is moved into place.
func FilesBootstrap(g *ir.Gateway) *bootstrapv3.Bootstrap {
	b := &bootstrapv3.Bootstrap{
		Node:           node(g),
		Admin:          admin(g),
		LayeredRuntime: layeredRuntime(g),
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			LdsConfig: pathSource(g.XDSDir, LDSFile),
			CdsConfig: pathSource(g.XDSDir, CDSFile),
		},
	}
	if g.SDS != nil {
		b.StaticResources = &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{sdsCluster(g.SDS)}}
	}
	return b
}

// ADSCluster is the static cluster through which an ADS bootstrap reaches
// edgectl serve.
const ADSCluster = "edgectl-xds"

// ADSBootstrap turns a gateway's file-based bootstrap into one that gets
// listeners and clusters (and through them route configurations and
// secrets) from an ADS server at host:port, such as edgectl serve, over
// state-of-the-world or, with delta, incremental xDS. Node, admin and the
// SDS server stay as they are: the node's cluster is what edgectl serve
// picks the gateway by.
func ADSBootstrap(files *bootstrapv3.Bootstrap, host string, port uint32, delta bool) *bootstrapv3.Bootstrap {
	b := proto.Clone(files).(*bootstrapv3.Bootstrap)
	apiType := corev3.ApiConfigSource_GRPC
	if delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	b.DynamicResources = &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:             apiType,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: ADSCluster},
			}}},
			SetNodeOnFirstMessageOnly: true,
		},
		LdsConfig: adsSource(),
		CdsConfig: adsSource(),
	}
	if b.StaticResources == nil {
		b.StaticResources = &bootstrapv3.Bootstrap_StaticResources{}
	}
	b.StaticResources.Clusters = append(b.StaticResources.Clusters, hostCluster(ADSCluster, host, port))
	sortByName(b.StaticResources.Clusters)
	return b
}
