package xds

import (
	"net"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
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

// ADSTLS is how an Envoy reaches edgectl serve over TLS: files on the
// Envoy host, read by Envoy.
type ADSTLS struct {
	// CA is the PEM bundle that verifies the server's certificate.
	CA string
	// ClientCert and ClientKey, both or neither, are the certificate Envoy
	// presents to a server that requires one (mutual TLS).
	ClientCert, ClientKey string
}

// SecureADS returns a copy of an ADS bootstrap whose edgectl-xds cluster
// speaks TLS to host: the server's certificate must chain to t.CA and name
// host (a DNS name, or an IP address in an IP SAN), ALPN offers h2 (gRPC
// servers require it), and host is sent as SNI unless it is an IP address.
func SecureADS(ads *bootstrapv3.Bootstrap, host string, t ADSTLS) *bootstrapv3.Bootstrap {
	b := proto.Clone(ads).(*bootstrapv3.Bootstrap)
	san := &tlsv3.SubjectAltNameMatcher{
		SanType: tlsv3.SubjectAltNameMatcher_DNS,
		Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: host}},
	}
	if isIP(host) {
		san.SanType = tlsv3.SubjectAltNameMatcher_IP_ADDRESS
	}
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		AlpnProtocols: []string{"h2"},
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa:                 fileSource(t.CA),
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san},
		}},
	}}
	if !isIP(host) {
		ctx.Sni = host
	}
	if t.ClientCert != "" || t.ClientKey != "" {
		ctx.CommonTlsContext.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: fileSource(t.ClientCert),
			PrivateKey:       fileSource(t.ClientKey),
		}}
	}
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.Name == ADSCluster {
			c.TransportSocket = &corev3.TransportSocket{
				Name:       wellknown.TransportSocketTLS,
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: toAny(ctx)},
			}
		}
	}
	return b
}

func fileSource(name string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: name}}
}
