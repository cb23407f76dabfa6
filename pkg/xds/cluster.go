package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// httpProtocolOptions is the key Envoy reads upstream HTTP settings under.
const httpProtocolOptions = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

var lbPolicies = map[ir.LBPolicy]clusterv3.Cluster_LbPolicy{
	ir.RoundRobin:   clusterv3.Cluster_ROUND_ROBIN,
	ir.LeastRequest: clusterv3.Cluster_LEAST_REQUEST,
	ir.Random:       clusterv3.Cluster_RANDOM,
	ir.RingHash:     clusterv3.Cluster_RING_HASH,
	ir.Maglev:       clusterv3.Cluster_MAGLEV,
}

func (t translator) cluster(c *ir.Cluster) *clusterv3.Cluster {
	out := &clusterv3.Cluster{
		Name:           c.Name,
		ConnectTimeout: dur(c.ConnectTimeout),
		LbPolicy:       lbPolicies[c.LB],
	}
	switch {
	case c.Discovery == ir.Kubernetes && t.mode.static():
		// No xDS at all: the cluster exists, so routes to it load, but
		// has no endpoints.
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		out.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: c.Name}
	case c.Discovery == ir.Kubernetes:
		name := ServiceName(*c.Service)
		src := adsSource()
		if t.mode == Files {
			src = t.fileSource(EndpointsFile(name))
		}
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		out.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: src, ServiceName: name}
		// Kubernetes decides which pods take traffic. In panic mode (by
		// default, under half the endpoints healthy, as in a rollout)
		// Envoy would balance over every endpoint, pods that are not
		// ready included: never panic.
		out.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}}
	case c.Discovery == ir.StrictDNS:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		out.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
		out.LoadAssignment = loadAssignment(c)
	default:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		out.LoadAssignment = loadAssignment(c)
	}
	if c.HTTP2 {
		out.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptions: toAny(&upstreamhttpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
			}},
		})}
	}
	if tls := c.TLS; tls != nil {
		ctx := &tlsv3.UpstreamTlsContext{Sni: tls.SNI, CommonTlsContext: &tlsv3.CommonTlsContext{}}
		if tls.MinVersion != "" || tls.MaxVersion != "" || len(tls.CipherSuites) > 0 {
			ctx.CommonTlsContext.TlsParams = tlsParams(tls.MinVersion, tls.MaxVersion, tls.CipherSuites, nil)
		}
		if tls.ClientCertificate != nil {
			ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{t.sdsRef(*tls.ClientCertificate)}
		}
		if tls.CA != nil {
			def := &tlsv3.CertificateValidationContext{}
			for _, san := range tls.SubjectAltNames {
				def.MatchTypedSubjectAltNames = append(def.MatchTypedSubjectAltNames, &tlsv3.SubjectAltNameMatcher{
					SanType: tlsv3.SubjectAltNameMatcher_DNS,
					Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: san}},
				})
			}
			ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
				CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
					DefaultValidationContext:         def,
					ValidationContextSdsSecretConfig: t.sdsRef(*tls.CA),
				}}
		}
		out.TransportSocket = &corev3.TransportSocket{
			Name:       wellknown.TransportSocketTLS,
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: toAny(ctx)},
		}
	}
	if hc := c.HealthCheck; hc != nil {
		out.HealthChecks = []*corev3.HealthCheck{healthCheck(hc)}
	}
	if cb := c.CircuitBreaker; cb != nil {
		out.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:           corev3.RoutingPriority_DEFAULT,
			MaxConnections:     u32p(cb.MaxConnections),
			MaxPendingRequests: u32p(cb.MaxPendingRequests),
			MaxRequests:        u32p(cb.MaxRequests),
			MaxRetries:         u32p(cb.MaxRetries),
		}}}
	}
	upstream(c, out)
	if o := c.Outlier; o != nil {
		out.OutlierDetection = &clusterv3.OutlierDetection{
			Consecutive_5Xx:           u32p(o.Consecutive5xx),
			ConsecutiveGatewayFailure: u32p(o.ConsecutiveGatewayErrors),
			Interval:                  durp(o.Interval),
			BaseEjectionTime:          durp(o.BaseEjectionTime),
			MaxEjectionPercent:        u32p(o.MaxEjectionPercent),
		}
		if o.ConsecutiveGatewayErrors != nil {
			out.OutlierDetection.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(100)
		}
	}
	return out
}

func loadAssignment(c *ir.Cluster) *endpointv3.ClusterLoadAssignment {
	// A locality weight is set for consumers that need one (gRPC's xDS
	// client drops localities without); Envoy ignores it by default.
	// Endpoints of one priority are one group; priorities are numbered
	// from 0 without gaps (checked when lowering), so group i is priority i.
	var locs []*endpointv3.LocalityLbEndpoints
	for _, ep := range c.Endpoints {
		for uint32(len(locs)) <= ep.Priority {
			locs = append(locs, &endpointv3.LocalityLbEndpoints{LoadBalancingWeight: wrapperspb.UInt32(1), Priority: uint32(len(locs))})
		}
		loc := locs[ep.Priority]
		lbe := &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: socketAddress(ep.Address, ep.Port)}}}
		if ep.Weight > 0 {
			lbe.LoadBalancingWeight = wrapperspb.UInt32(ep.Weight)
		}
		loc.LbEndpoints = append(loc.LbEndpoints, lbe)
	}
	if len(locs) == 0 {
		locs = []*endpointv3.LocalityLbEndpoints{{LoadBalancingWeight: wrapperspb.UInt32(1)}}
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: c.Name, Endpoints: locs}
}

func healthCheck(hc *ir.HealthCheck) *corev3.HealthCheck {
	out := &corev3.HealthCheck{
		Timeout:            dur(hc.Timeout),
		Interval:           dur(hc.Interval),
		HealthyThreshold:   wrapperspb.UInt32(hc.HealthyThreshold),
		UnhealthyThreshold: wrapperspb.UInt32(hc.UnhealthyThreshold),
	}
	switch hc.Kind {
	case ir.HealthHTTP:
		h := &corev3.HealthCheck_HttpHealthCheck{Path: hc.Path, Host: hc.Host}
		for _, s := range hc.ExpectedStatuses {
			h.ExpectedStatuses = append(h.ExpectedStatuses, &typev3.Int64Range{Start: int64(s), End: int64(s) + 1})
		}
		out.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: h}
	case ir.HealthTCP:
		out.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
	case ir.HealthGRPC:
		out.HealthChecker = &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{ServiceName: hc.Service}}
	}
	return out
}

func secret(s *ir.Secret) *tlsv3.Secret {
	file := func(p string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: p}}
	}
	if s.CA != "" {
		return &tlsv3.Secret{Name: s.Name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: file(s.CA)}}}
	}
	return &tlsv3.Secret{Name: s.Name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: file(s.Chain), PrivateKey: file(s.Key)}}}
}

// sdsCluster reaches the gateway's SDS server over HTTP/2.
func sdsCluster(s *ir.SDSServer) *clusterv3.Cluster {
	if s.Pipe != "" {
		return grpcCluster(SDSCluster, &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: s.Pipe}}}, clusterv3.Cluster_STATIC)
	}
	return hostCluster(SDSCluster, s.Address, s.Port)
}

// hostCluster is a gRPC cluster of one host: an IP, or a name resolved by
// DNS.
func hostCluster(name, host string, port uint32) *clusterv3.Cluster {
	typ := clusterv3.Cluster_STATIC
	if !isIP(host) {
		typ = clusterv3.Cluster_STRICT_DNS
	}
	return grpcCluster(name, socketAddress(host, port), typ)
}

// grpcCluster is a static cluster that speaks HTTP/2 to one address, as a
// gRPC service (an SDS or xDS server) needs.
func grpcCluster(name string, addr *corev3.Address, typ clusterv3.Cluster_DiscoveryType) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       dur(defaultConnectTimeout),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: typ},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptions: toAny(&upstreamhttpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
			}},
		})},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: addr}}}},
		}}},
	}
}
