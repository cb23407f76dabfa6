package xds

import (
	"slices"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
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
	if l.Protocol == ir.HTTP {
		out.FilterChains = []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{t.hcmFilter(statsName(l), l.Routes, nil, routes)},
		}}
		return out
	}
	out.ListenerFilters = []*listenerv3.ListenerFilter{{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: toAny(&tlsinspectorv3.TlsInspector{})},
	}}
	for _, fc := range l.Chains {
		tlsCtx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsParams: &tlsv3.TlsParameters{
				TlsMinimumProtocolVersion: tlsVersion(l.TLS.MinVersion),
				TlsMaximumProtocolVersion: tlsVersion(l.TLS.MaxVersion),
			},
			AlpnProtocols:                  l.TLS.ALPN,
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{t.sdsRef(fc.Certificate)},
		}}
		t.clientCertificates(tlsCtx, fc.ClientCertificates)
		out.FilterChains = append(out.FilterChains, &listenerv3.FilterChain{
			Name:             fc.Name,
			FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: fc.ServerNames},
			TransportSocket: &corev3.TransportSocket{
				Name:       wellknown.TransportSocketTLS,
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: toAny(tlsCtx)},
			},
			Filters: []*listenerv3.Filter{t.hcmFilter(statsName(l)+"."+fc.Name, fc.Routes, fc.ClientCertificates, routes)},
		})
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

func tlsVersion(v string) tlsv3.TlsParameters_TlsProtocol {
	return map[string]tlsv3.TlsParameters_TlsProtocol{
		"":    tlsv3.TlsParameters_TLS_AUTO,
		"1.0": tlsv3.TlsParameters_TLSv1_0,
		"1.1": tlsv3.TlsParameters_TLSv1_1,
		"1.2": tlsv3.TlsParameters_TLSv1_2,
		"1.3": tlsv3.TlsParameters_TLSv1_3,
	}[v]
}

// hcmFilter builds the HTTP connection manager serving one route
// configuration: inline in Static mode, by RDS otherwise.
func (t translator) hcmFilter(statPrefix string, table *ir.RouteTable, clientCerts *ir.ClientCertificates, routes []*routev3.RouteConfiguration) *listenerv3.Filter {
	routeName := table.Name
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:        statPrefix,
		CodecType:         hcmv3.HttpConnectionManager_AUTO,
		UseRemoteAddress:  wrapperspb.Bool(true),
		XffNumTrustedHops: t.g.TrustedProxyHops,
		NormalizePath:     wrapperspb.Bool(true),
		MergeSlashes:      true,
		StripPortMode:     &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        wrapperspb.UInt32(100),
			InitialStreamWindowSize:     wrapperspb.UInt32(64 * 1024),
			InitialConnectionWindowSize: wrapperspb.UInt32(1024 * 1024),
		},
		HttpFilters: t.httpFilters(table),
		AccessLog:   t.accessLog(),
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
	a := t.g.AccessLog
	if a == nil {
		return nil
	}
	fl := &filev3.FileAccessLog{Path: a.Path}
	if a.JSON {
		fields := map[string]*structpb.Value{}
		for k, v := range accessLogFields {
			fields[k] = structpb.NewStringValue(v)
		}
		for _, f := range a.Fields {
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
