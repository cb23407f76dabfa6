package xds

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	zstdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// The HTTP features beyond security: compression, gRPC-Web and fault
// injection in the filter chain (see the order in filters.go), hedging,
// upstream behaviour and the connection manager's observability.
const (
	filterCompressor = "envoy.filters.http.compressor"
	filterGRPCWeb    = "envoy.filters.http.grpc_web"
	filterFault      = "envoy.filters.http.fault"

	tracerOpenTelemetry = "envoy.tracers.opentelemetry"
	loggerStdout        = "envoy.access_loggers.stdout"
	loggerStderr        = "envoy.access_loggers.stderr"
	loggerFile          = "envoy.access_loggers.file"
)

// compressionOrder is the order of the compressors in the filter chain.
// When a client accepts several encodings equally, Envoy takes the first
// compressor in the chain, so the densest comes first.
var compressionOrder = []string{"brotli", "zstd", "gzip"}

// compressorFilter names the compressor of one algorithm with one set of
// settings: a connection manager holds one per distinct setting, since
// content types and minimum length are in the filter's configuration, not
// the route's. Default settings keep a plain name.
func compressorFilter(algorithm string, c *ir.Compression) string {
	return filterCompressor + "/" + algorithm + compressionKey(c)
}

func compressionKey(c *ir.Compression) string {
	if len(c.ContentTypes) == 0 && c.MinLength == nil {
		return ""
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00", strings.Join(c.ContentTypes, ","))
	if c.MinLength != nil {
		fmt.Fprintf(h, "%d", *c.MinLength)
	}
	return fmt.Sprintf("-%08x", h.Sum32())
}

// compressorConfig is the filter configuration of one compressor.
func compressorConfig(algorithm string, c *ir.Compression) *compressorv3.Compressor {
	var lib proto.Message
	switch algorithm {
	case "brotli":
		lib = &brotliv3.Brotli{}
	case "zstd":
		lib = &zstdv3.Zstd{}
	default:
		lib = &gzipv3.Gzip{}
	}
	return &compressorv3.Compressor{
		ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{
			CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{
				MinContentLength: u32p(c.MinLength),
				ContentType:      c.ContentTypes,
			},
		},
		CompressorLibrary: &corev3.TypedExtensionConfig{
			Name:        "envoy.compression." + algorithm + ".compressor",
			TypedConfig: toAny(lib),
		},
	}
}

// httpUse is what the HTTP features of one route table need of its
// connection manager.
type httpUse struct {
	grpcWeb, fault bool
	compressors    map[string]*ir.Compression // by filter name
}

func usedHTTP(t *ir.RouteTable) httpUse {
	var u httpUse
	addComp := func(c *ir.Compression) {
		if c == nil || c.Disabled {
			return
		}
		if u.compressors == nil {
			u.compressors = map[string]*ir.Compression{}
		}
		for _, a := range c.Algorithms {
			u.compressors[compressorFilter(a, c)] = c
		}
	}
	for _, vh := range t.VirtualHosts {
		u.grpcWeb = u.grpcWeb || vh.GRPCWeb
		addComp(vh.Compression)
		for _, r := range vh.Routes {
			u.fault = u.fault || r.Fault != nil
			addComp(r.Compression)
		}
	}
	return u
}

// httpFeatureFilters are the filters of the HTTP features, disabled by
// default like the security filters, in their place in the chain.
func httpFeatureFilters(table *ir.RouteTable) []*hcmv3.HttpFilter {
	u := usedHTTP(table)
	var out []*hcmv3.HttpFilter
	add := func(name string, config proto.Message) { out = append(out, disabledFilter(name, config)) }
	if len(u.compressors) > 0 {
		names := make([]string, 0, len(u.compressors))
		for name := range u.compressors {
			names = append(names, name)
		}
		rank := func(name string) int {
			a, _, _ := strings.Cut(strings.TrimPrefix(name, filterCompressor+"/"), "-")
			return slices.Index(compressionOrder, a)
		}
		slices.SortFunc(names, func(a, b string) int {
			if d := rank(a) - rank(b); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		for _, name := range names {
			a, _, _ := strings.Cut(strings.TrimPrefix(name, filterCompressor+"/"), "-")
			add(name, compressorConfig(a, u.compressors[name]))
		}
	}
	if u.grpcWeb {
		add(filterGRPCWeb, &grpcwebv3.GrpcWeb{})
	}
	if u.fault {
		add(filterFault, &faultv3.HTTPFault{})
	}
	return out
}

// enabledFilter switches on, for a virtual host or route, a filter that
// has no per-route configuration of its own.
var enabledFilterAny = toAny(&routev3.FilterConfig{Config: &anypb.Any{}})

func enabledFilter() *anypb.Any { return proto.Clone(enabledFilterAny).(*anypb.Any) }

// vhostHTTPConfigs adds to a virtual host's per-filter configuration the
// HTTP features it enables.
func vhostHTTPConfigs(vh *ir.VirtualHost, m map[string]*anypb.Any) map[string]*anypb.Any {
	if !vh.GRPCWeb && vh.Compression == nil {
		return m
	}
	if m == nil {
		m = map[string]*anypb.Any{}
	}
	if vh.GRPCWeb {
		m[filterGRPCWeb] = enabledFilter()
	}
	if c := vh.Compression; c != nil && !c.Disabled {
		for _, a := range c.Algorithms {
			m[compressorFilter(a, c)] = enabledFilter()
		}
	}
	return m
}

// routeHTTPConfigs adds to a route's per-filter configuration its fault
// injection and its own compression, which replaces the virtual host's.
func routeHTTPConfigs(vh *ir.VirtualHost, r *ir.Route, m map[string]*anypb.Any) map[string]*anypb.Any {
	if r.Fault == nil && r.Compression == nil {
		return m
	}
	if m == nil {
		m = map[string]*anypb.Any{}
	}
	if f := r.Fault; f != nil {
		m[filterFault] = toAny(httpFault(f))
	}
	if c := r.Compression; c != nil {
		if base := vh.Compression; base != nil && !base.Disabled {
			for _, a := range base.Algorithms {
				m[compressorFilter(a, base)] = disabled()
			}
		}
		if !c.Disabled {
			for _, a := range c.Algorithms {
				m[compressorFilter(a, c)] = enabledFilter()
			}
		}
	}
	return m
}

// fraction is a percentage of requests as Envoy counts them.
func fraction(p float64) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{Numerator: uint32(math.Round(p * 10000)), Denominator: typev3.FractionalPercent_MILLION}
}

func httpFault(f *ir.Fault) *faultv3.HTTPFault {
	out := &faultv3.HTTPFault{MaxActiveFaults: u32p(f.MaxActiveFaults)}
	if d := f.Delay; d != nil {
		out.Delay = &commonfaultv3.FaultDelay{Percentage: fraction(d.Percent)}
		if d.FromHeader {
			out.Delay.FaultDelaySecifier = &commonfaultv3.FaultDelay_HeaderDelay_{HeaderDelay: &commonfaultv3.FaultDelay_HeaderDelay{}}
		} else {
			out.Delay.FaultDelaySecifier = &commonfaultv3.FaultDelay_FixedDelay{FixedDelay: dur(d.Fixed)}
		}
	}
	if a := f.Abort; a != nil {
		out.Abort = &faultv3.FaultAbort{Percentage: fraction(a.Percent)}
		switch {
		case a.FromHeader:
			out.Abort.ErrorType = &faultv3.FaultAbort_HeaderAbort_{HeaderAbort: &faultv3.FaultAbort_HeaderAbort{}}
		case a.GRPCStatus != nil:
			out.Abort.ErrorType = &faultv3.FaultAbort_GrpcStatus{GrpcStatus: *a.GRPCStatus}
		default:
			out.Abort.ErrorType = &faultv3.FaultAbort_HttpStatus{HttpStatus: a.Status}
		}
	}
	return out
}

// hedgePolicy sends a second request when the first exceeds its per-try
// timeout, keeping whichever answers first.
func hedgePolicy(r *ir.Route) *routev3.HedgePolicy {
	if !r.HedgeOnPerTryTimeout {
		return nil
	}
	return &routev3.HedgePolicy{HedgeOnPerTryTimeout: true}
}

// upstream sets a cluster's automatic HTTP protocol, slow start, retry
// budget and endpoint priorities.
func upstream(c *ir.Cluster, out *clusterv3.Cluster) {
	if c.AutoHTTP {
		if out.TypedExtensionProtocolOptions == nil {
			out.TypedExtensionProtocolOptions = map[string]*anypb.Any{}
		}
		out.TypedExtensionProtocolOptions[httpProtocolOptions] = toAny(&upstreamhttpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_AutoConfig{AutoConfig: &upstreamhttpv3.HttpProtocolOptions_AutoHttpConfig{
				HttpProtocolOptions:  &corev3.Http1ProtocolOptions{},
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
			}},
		})
	}
	if ss := c.SlowStart; ss != nil {
		cfg := &clusterv3.Cluster_SlowStartConfig{SlowStartWindow: durationpb.New(ss.Window)}
		if ss.Aggression != nil {
			cfg.Aggression = &corev3.RuntimeDouble{DefaultValue: *ss.Aggression, RuntimeKey: "upstream.slow_start." + c.Name + ".aggression"}
		}
		if ss.MinWeightPercent != nil {
			cfg.MinWeightPercent = &typev3.Percent{Value: *ss.MinWeightPercent}
		}
		switch c.LB {
		case ir.LeastRequest:
			out.LbConfig = &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{SlowStartConfig: cfg}}
		default:
			out.LbConfig = &clusterv3.Cluster_RoundRobinLbConfig_{RoundRobinLbConfig: &clusterv3.Cluster_RoundRobinLbConfig{SlowStartConfig: cfg}}
		}
	}
	if cb := c.CircuitBreaker; cb != nil && cb.RetryBudget != nil && out.CircuitBreakers != nil {
		rb := &clusterv3.CircuitBreakers_Thresholds_RetryBudget{MinRetryConcurrency: u32p(cb.RetryBudget.MinConcurrency)}
		if p := cb.RetryBudget.Percent; p != nil {
			rb.BudgetPercent = &typev3.Percent{Value: *p}
		}
		out.CircuitBreakers.Thresholds[0].RetryBudget = rb
	}
}

// requestID sets how the connection manager handles x-request-id.
func requestID(r *ir.RequestID, hcm *hcmv3.HttpConnectionManager) {
	if r == nil {
		return
	}
	hcm.GenerateRequestId = wrapperspb.Bool(r.Generate)
	hcm.PreserveExternalRequestId = r.PreserveExternal
	hcm.AlwaysSetRequestIdInResponse = r.AlwaysInResponse
}

func percentp(p *float64) *typev3.Percent {
	if p == nil {
		return nil
	}
	return &typev3.Percent{Value: *p}
}

// tracing sends spans to an OpenTelemetry collector over gRPC.
func tracing(t *ir.Tracing) *hcmv3.HttpConnectionManager_Tracing {
	if t == nil {
		return nil
	}
	return &hcmv3.HttpConnectionManager_Tracing{
		RandomSampling:  percentp(t.Random),
		ClientSampling:  percentp(t.Client),
		OverallSampling: percentp(t.Overall),
		Provider: &tracev3.Tracing_Http{
			Name: tracerOpenTelemetry,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: toAny(&tracev3.OpenTelemetryConfig{
				GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: t.Cluster}}},
				ServiceName: t.ServiceName,
			})},
		},
	}
}

// logFormat is the line format of an access log sink; nil keeps Envoy's
// default text line.
func logFormat(s *ir.AccessLogSink) *corev3.SubstitutionFormatString {
	if !s.JSON {
		if s.Text == "" {
			return nil
		}
		return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
			TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s.Text}}}}
	}
	fields := make(map[string]*structpb.Value, len(accessLogFields)+len(s.Fields))
	for k, v := range accessLogFields {
		fields[k] = structpb.NewStringValue(v)
	}
	for _, f := range s.Fields {
		fields[f.Name] = structpb.NewStringValue(f.Value)
	}
	return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}}}
}

// logFilter keeps the lines every condition of a sink holds for.
func logFilter(s *ir.AccessLogSink) *accesslogv3.AccessLogFilter {
	var fs []*accesslogv3.AccessLogFilter
	if s.StatusAtLeast > 0 {
		fs = append(fs, &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{StatusCodeFilter: &accesslogv3.StatusCodeFilter{
			Comparison: &accesslogv3.ComparisonFilter{Op: accesslogv3.ComparisonFilter_GE, Value: &corev3.RuntimeUInt32{DefaultValue: s.StatusAtLeast, RuntimeKey: "access_log.status_at_least"}},
		}}})
	}
	if len(s.ResponseFlags) > 0 {
		fs = append(fs, &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: s.ResponseFlags}}})
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_AndFilter{AndFilter: &accesslogv3.AndFilter{Filters: fs}}}
}

// accessLogSinks are the access loggers of a gateway's sinks, in the
// order declared.
func accessLogSinks(sinks []*ir.AccessLogSink) []*accesslogv3.AccessLog {
	var out []*accesslogv3.AccessLog
	for _, s := range sinks {
		var name string
		var config proto.Message
		f := logFormat(s)
		switch s.Kind {
		case ir.LogStdout:
			l := &streamv3.StdoutAccessLog{}
			if f != nil {
				l.AccessLogFormat = &streamv3.StdoutAccessLog_LogFormat{LogFormat: f}
			}
			name, config = loggerStdout, l
		case ir.LogStderr:
			l := &streamv3.StderrAccessLog{}
			if f != nil {
				l.AccessLogFormat = &streamv3.StderrAccessLog_LogFormat{LogFormat: f}
			}
			name, config = loggerStderr, l
		case ir.LogFile:
			l := &filev3.FileAccessLog{Path: s.Path}
			if f != nil {
				l.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: f}
			}
			name, config = loggerFile, l
		case ir.LogOTel:
			name, config = otelLogger(s)
		}
		if config == nil {
			continue
		}
		out = append(out, &accesslogv3.AccessLog{
			Name:       name,
			Filter:     logFilter(s),
			ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: toAny(config)},
		})
	}
	return out
}

func init() {
	// The per-route configurations of the HTTP feature filters; the
	// compressors and gRPC-Web are only ever enabled as they are.
	perRouteTypes[filterFault] = (&faultv3.HTTPFault{}).ProtoReflect().Descriptor().FullName()
	perRouteTypes[filterCompressor] = (&compressorv3.CompressorPerRoute{}).ProtoReflect().Descriptor().FullName()
}
