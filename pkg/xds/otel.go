package xds

import (
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	otelalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/open_telemetry/v3"
	otlpcommonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/ir"
)

const loggerOpenTelemetry = "envoy.access_loggers.open_telemetry"

// defaultLogLine is Envoy's documented default access log format, the
// body of an OpenTelemetry log record when the sink names no text.
const defaultLogLine = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`

// otelLogger sends access log records to an OpenTelemetry collector over
// gRPC: a text sink as the record's body, a JSON sink as its attributes.
func otelLogger(s *ir.AccessLogSink) (string, proto.Message) {
	cfg := &otelalsv3.OpenTelemetryAccessLogConfig{
		CommonConfig: &grpcalsv3.CommonGrpcAccessLogConfig{
			LogName:             s.LogName,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: s.Cluster}}},
		},
	}
	if !s.JSON {
		line := s.Text
		if line == "" {
			line = defaultLogLine
		}
		cfg.Body = &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: line}}
		return loggerOpenTelemetry, cfg
	}
	fields := map[string]string{}
	for k, v := range accessLogFields {
		fields[k] = v
	}
	for _, f := range s.Fields {
		fields[f.Name] = f.Value
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	attrs := &otlpcommonv1.KeyValueList{}
	for _, k := range names {
		attrs.Values = append(attrs.Values, &otlpcommonv1.KeyValue{Key: k, Value: &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: fields[k]}}})
	}
	cfg.Attributes = attrs
	return loggerOpenTelemetry, cfg
}
