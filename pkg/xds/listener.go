package xds

import (
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	quicv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/quic/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// perConnectionBufferLimit follows Envoy's edge deployment guidance.
const perConnectionBufferLimit = 32 * 1024

func (t translator) listener(l *ir.Listener, routes []*routev3.RouteConfiguration) *listenerv3.Listener {
	out := &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       socketAddress(l.Address, l.Port),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(perConnectionBufferLimit),
	}
	if l.ProxyProtocol {
		// First: the PROXY header comes before the TLS handshake.
		out.ListenerFilters = append(out.ListenerFilters, &listenerv3.ListenerFilter{
			Name:       wellknown.ProxyProtocol,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: toAny(&proxyprotocolv3.ProxyProtocol{})},
		})
	}
	switch l.Protocol {
	case ir.HTTP:
		out.FilterChains = []*listenerv3.FilterChain{{
			Filters: t.limit(l, t.hcmFilter(statsName(l), false, l.HTTP, l.Routes, nil, routes)),
		}}
		return out
	case ir.TCP:
		out.FilterChains = []*listenerv3.FilterChain{{
			Filters: t.limit(l, t.tcpProxyFilter(l.Name, l.TCP)),
		}}
		return out
	}
	out.ListenerFilters = append(out.ListenerFilters, &listenerv3.ListenerFilter{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: toAny(&tlsinspectorv3.TlsInspector{})},
	})
	for _, fc := range l.Chains {
		if fc.Passthrough != nil {
			// No transport socket: the bytes go upstream still encrypted.
			out.FilterChains = append(out.FilterChains, &listenerv3.FilterChain{
				Name:             fc.Name,
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: fc.ServerNames},
				Filters:          t.limit(l, t.tcpProxyFilter(l.Name+"."+fc.Name, fc.Passthrough)),
			})
			continue
		}
		tlsCtx := t.downstreamTLS(l, fc, l.TLS.ALPN)
		chain := &listenerv3.FilterChain{
			Name:             fc.Name,
			FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: fc.ServerNames},
			TransportSocket: &corev3.TransportSocket{
				Name:       wellknown.TransportSocketTLS,
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: toAny(tlsCtx)},
			},
			Filters: t.limit(l, t.hcmFilter(statsName(l)+"."+fc.Name, false, l.HTTP, fc.Routes, fc.ClientCertificates, routes)),
		}
		out.FilterChains = append(out.FilterChains, chain)
		if fc.Fallback {
			out.DefaultFilterChain = &listenerv3.FilterChain{
				Name:            fallbackChain,
				TransportSocket: chain.TransportSocket,
				Filters:         t.limit(l, t.hcmFilter(statsName(l)+"."+fallbackChain, false, l.HTTP, fc.Routes, fc.ClientCertificates, routes)),
			}
		}
	}
	return out
}

// statsName is the prefix of a listener's HTTP statistics.
func statsName(l *ir.Listener) string {
	if l.StatsPrefix != "" {
		return l.StatsPrefix
	}
	return l.Name
}

// fallbackChain names the default filter chain, which takes connections
// whose server name no other chain lists.
const fallbackChain = "edgectl-fallback"

// downstreamTLS is the TLS context of one terminated filter chain.
func (t translator) downstreamTLS(l *ir.Listener, fc *ir.FilterChain, alpn []string) *tlsv3.DownstreamTlsContext {
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams:                      tlsParams(l.TLS.MinVersion, l.TLS.MaxVersion, l.TLS.CipherSuites, l.TLS.ECDHCurves),
		AlpnProtocols:                  alpn,
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{t.sdsRef(fc.Certificate)},
	}}
	t.clientCertificates(ctx, fc.ClientCertificates)
	return ctx
}

func tlsParams(minV, maxV string, ciphers, curves []string) *tlsv3.TlsParameters {
	return &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: tlsVersion(minV),
		TlsMaximumProtocolVersion: tlsVersion(maxV),
		CipherSuites:              ciphers,
		EcdhCurves:                curves,
	}
}

// quicListener serves the terminated filter chains of an HTTPS listener
// over HTTP/3: the same port over UDP, the same certificates, the same
// route configurations. Passthrough chains have no place here, since QUIC
// cannot hand an encrypted stream on.
func (t translator) quicListener(l *ir.Listener, routes []*routev3.RouteConfiguration) *listenerv3.Listener {
	addr := socketAddress(l.Address, l.Port)
	addr.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
	out := &listenerv3.Listener{
		Name:              QUICListener(l.Name),
		Address:           addr,
		UdpListenerConfig: &listenerv3.UdpListenerConfig{QuicOptions: &listenerv3.QuicProtocolOptions{}},
	}
	for _, fc := range l.Chains {
		if fc.Passthrough != nil {
			continue
		}
		ctx := t.downstreamTLS(l, fc, []string{"h3"})
		// QUIC is built on TLS 1.3, whose cipher suites are not chosen.
		ctx.CommonTlsContext.TlsParams = tlsParams("1.3", "1.3", nil, l.TLS.ECDHCurves)
		quic := &quicv3.QuicDownstreamTransport{DownstreamTlsContext: ctx}
		chain := &listenerv3.FilterChain{
			Name:             fc.Name,
			FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: fc.ServerNames},
			TransportSocket: &corev3.TransportSocket{
				Name:       wellknown.TransportSocketQuic,
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: toAny(quic)},
			},
			Filters: []*listenerv3.Filter{t.hcmFilter(QUICListener(statsName(l))+"."+fc.Name, true, l.HTTP, fc.Routes, fc.ClientCertificates, routes)},
		}
		out.FilterChains = append(out.FilterChains, chain)
		if fc.Fallback {
			out.DefaultFilterChain = &listenerv3.FilterChain{
				Name:            fallbackChain,
				TransportSocket: chain.TransportSocket,
				Filters:         []*listenerv3.Filter{t.hcmFilter(QUICListener(statsName(l))+"."+fallbackChain, true, l.HTTP, fc.Routes, fc.ClientCertificates, routes)},
			}
		}
	}
	return out
}

// QUICListener names the UDP listener serving an HTTPS listener's HTTP/3.
// Listener names have no dots, so it cannot clash with a declared one.
func QUICListener(name string) string { return name + ".quic" }

// limit puts the connection limit of a listener, when it has one, before
// the filter that serves the connection.
func (t translator) limit(l *ir.Listener, f *listenerv3.Filter) []*listenerv3.Filter {
	if l.MaxConnections == 0 {
		return []*listenerv3.Filter{f}
	}
	cl := &connlimitv3.ConnectionLimit{StatPrefix: l.Name, MaxConnections: wrapperspb.UInt64(l.MaxConnections)}
	return []*listenerv3.Filter{{
		Name:       connectionLimitFilter,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: toAny(cl)},
	}, f}
}

const connectionLimitFilter = "envoy.filters.network.connection_limit"

// tcpProxyFilter forwards a connection as bytes.
func (t translator) tcpProxyFilter(statPrefix string, p *ir.TCPProxy) *listenerv3.Filter {
	tp := &tcpproxyv3.TcpProxy{StatPrefix: statPrefix, AccessLog: t.tcpAccessLog()}
	if p.IdleTimeout != nil {
		tp.IdleTimeout = durationpb.New(*p.IdleTimeout)
	}
	if len(p.Clusters) == 1 {
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: p.Clusters[0].Cluster}
	} else {
		wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
		for _, c := range p.Clusters {
			wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c.Cluster, Weight: c.Weight})
		}
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	return &listenerv3.Filter{
		Name:       wellknown.TCPProxy,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: toAny(tp)},
	}
}

func tlsVersion(v string) tlsv3.TlsParameters_TlsProtocol {
	return map[string]tlsv3.TlsParameters_TlsProtocol{
		"":    tlsv3.TlsParameters_TLS_AUTO,
		"1.0": tlsv3.TlsParameters_TLSv1_0,
		"1.1": tlsv3.TlsParameters_TLSv1_1,
		"1.2": tlsv3.TlsParameters_TLSv1_2,
		"1.3": tlsv3.TlsParameters_TLSv1_3,
	}[v]
}

var escapedSlashes = map[ir.EscapedSlashes]hcmv3.HttpConnectionManager_PathWithEscapedSlashesAction{
	ir.UnescapeAndRedirect: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
	ir.RejectEscaped:       hcmv3.HttpConnectionManager_REJECT_REQUEST,
	ir.UnescapeAndForward:  hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD,
	ir.KeepEscaped:         hcmv3.HttpConnectionManager_KEEP_UNCHANGED,
}

// hcmFilter builds the HTTP connection manager serving one route
// configuration: inline in Static mode, by RDS otherwise. A QUIC listener's
// speaks HTTP/3.
func (t translator) hcmFilter(statPrefix string, h3 bool, s *ir.HTTPSettings, table *ir.RouteTable, clientCerts *ir.ClientCertificates, routes []*routev3.RouteConfiguration) *listenerv3.Filter {
	if s == nil {
		s = ir.DefaultHTTPSettings()
	}
	routeName := table.Name
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:                   statPrefix,
		CodecType:                    hcmv3.HttpConnectionManager_AUTO,
		UseRemoteAddress:             wrapperspb.Bool(true),
		XffNumTrustedHops:            t.g.TrustedProxyHops,
		NormalizePath:                wrapperspb.Bool(s.NormalizePath),
		MergeSlashes:                 s.MergeSlashes,
		PathWithEscapedSlashesAction: escapedSlashes[s.EscapedSlashes],
		StripPortMode:                &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			IdleTimeout: durationpb.New(s.IdleTimeout),
		},
		StreamIdleTimeout:     durationpb.New(s.StreamIdleTimeout),
		RequestHeadersTimeout: durationpb.New(s.RequestHeadersTimeout),
		MaxRequestHeadersKb:   wrapperspb.UInt32(s.MaxRequestHeadersKB),
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        wrapperspb.UInt32(s.MaxConcurrentStreams),
			InitialStreamWindowSize:     wrapperspb.UInt32(s.InitialStreamWindow),
			InitialConnectionWindowSize: wrapperspb.UInt32(s.InitialConnWindow),
		},
		HttpFilters: t.httpFilters(table),
		AccessLog:   t.accessLog(),
	}
	if s.RequestTimeout > 0 {
		hcm.RequestTimeout = durationpb.New(s.RequestTimeout)
	}
	if s.MaxConnectionDuration > 0 {
		hcm.CommonHttpProtocolOptions.MaxConnectionDuration = durationpb.New(s.MaxConnectionDuration)
	}
	if h3 {
		hcm.CodecType = hcmv3.HttpConnectionManager_HTTP3
		hcm.Http2ProtocolOptions = nil
		hcm.Http3ProtocolOptions = &corev3.Http3ProtocolOptions{QuicProtocolOptions: &corev3.QuicProtocolOptions{
			MaxConcurrentStreams: wrapperspb.UInt32(s.MaxConcurrentStreams),
		}}
	}
	forwardClientCert(hcm, clientCerts)
	requestID(t.g.RequestID, hcm)
	hcm.Tracing = tracing(t.g.Tracing)
	hcm.AccessLog = append(hcm.AccessLog, accessLogSinks(t.g.AccessLogs)...)
	switch t.mode {
	case Static:
		i := slices.IndexFunc(routes, func(r *routev3.RouteConfiguration) bool { return r.Name == routeName })
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: routes[i]}
	case StaticSpliced:
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: SplicedRoutes(routeName)}
	case Files:
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: routeName, ConfigSource: t.fileSource(RouteFile(routeName))}}
	case ADS:
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: routeName, ConfigSource: adsSource()}}
	}
	return &listenerv3.Filter{
		Name:       wellknown.HTTPConnectionManager,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: toAny(hcm)},
	}
}

// accessLogFields are the JSON fields every access log line has.
var accessLogFields = map[string]string{
	"start_time":            "%START_TIME%",
	"method":                "%REQ(:METHOD)%",
	"path":                  "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":              "%PROTOCOL%",
	"authority":             "%REQ(:AUTHORITY)%",
	"status":                "%RESPONSE_CODE%",
	"response_flags":        "%RESPONSE_FLAGS%",
	"bytes_received":        "%BYTES_RECEIVED%",
	"bytes_sent":            "%BYTES_SENT%",
	"duration_ms":           "%DURATION%",
	"upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"upstream_host":         "%UPSTREAM_HOST%",
	"upstream_cluster":      "%UPSTREAM_CLUSTER%",
	"route_name":            "%ROUTE_NAME%",
	"downstream_remote":     "%DOWNSTREAM_REMOTE_ADDRESS%",
	"x_forwarded_for":       "%REQ(X-FORWARDED-FOR)%",
	"user_agent":            "%REQ(USER-AGENT)%",
	"request_id":            "%REQ(X-REQUEST-ID)%",
}

func (t translator) accessLog() []*accesslogv3.AccessLog {
	return t.fileAccessLog(accessLogFields, false)
}

// fileAccessLog is the gateway's file access log with the base fields and
// the gateway's own. On a connection (tcp) the gateway's fields that read
// a request's or a response's headers are left out: a raw connection has
// neither, and they would log "-" on every line.
func (t translator) fileAccessLog(base map[string]string, tcp bool) []*accesslogv3.AccessLog {
	a := t.g.AccessLog
	if a == nil {
		return nil
	}
	fl := &filev3.FileAccessLog{Path: a.Path}
	if a.JSON {
		fields := map[string]*structpb.Value{}
		for k, v := range base {
			fields[k] = structpb.NewStringValue(v)
		}
		for _, f := range a.Fields {
			if tcp && readsHeaders(f.Value) {
				continue
			}
			fields[f.Name] = structpb.NewStringValue(f.Value)
		}
		fl.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}},
		}}
	}
	return []*accesslogv3.AccessLog{{
		Name:       wellknown.FileAccessLog,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: toAny(fl)},
	}}
}

// tcpAccessLogFields are the JSON fields of a TCP proxy's access log lines:
// a connection has no method, path or status.
var tcpAccessLogFields = map[string]string{
	"start_time":        "%START_TIME%",
	"bytes_received":    "%BYTES_RECEIVED%",
	"bytes_sent":        "%BYTES_SENT%",
	"duration_ms":       "%DURATION%",
	"response_flags":    "%RESPONSE_FLAGS%",
	"upstream_host":     "%UPSTREAM_HOST%",
	"upstream_cluster":  "%UPSTREAM_CLUSTER%",
	"downstream_remote": "%DOWNSTREAM_REMOTE_ADDRESS%",
	"server_name":       "%REQUESTED_SERVER_NAME%",
}

// tcpAccessLog is the gateway's access log, for connections.
func (t translator) tcpAccessLog() []*accesslogv3.AccessLog {
	return t.fileAccessLog(tcpAccessLogFields, true)
}

// readsHeaders reports whether an access log format reads HTTP headers or
// trailers.
func readsHeaders(format string) bool {
	for _, op := range []string{"%REQ(", "%RESP(", "%TRAILER(", "%REQ_WITHOUT_QUERY("} {
		if strings.Contains(format, op) {
			return true
		}
	}
	return false
}
