package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/ir"
)

func u32Of(v uint32) *uint32   { return &v }
func f64Of(v float64) *float64 { return &v }

// httpGateway is secGateway with every HTTP feature: a virtual host with
// gRPC-Web and gzip+brotli compression, a route with its own compression,
// one that switches compression off, one with a fault and one hedged.
func httpGateway() *ir.Gateway {
	own := secRoute("api", "web", nil)
	own.Compression = &ir.Compression{Algorithms: []string{"zstd"}, ContentTypes: []string{"application/json"}, MinLength: u32Of(1024)}
	off := secRoute("images", "web", nil)
	off.Compression = &ir.Compression{Disabled: true}
	faulty := secRoute("chaos", "web", nil)
	faulty.Fault = &ir.Fault{Delay: &ir.FaultDelay{Fixed: time.Second, Percent: 12.5}, Abort: &ir.FaultAbort{FromHeader: true, Percent: 100}}
	hedged := secRoute("search", "web", nil)
	hedged.Retry = &ir.Retry{On: []string{"5xx"}, Attempts: 2, PerTryTimeout: durOf(500 * time.Millisecond)}
	hedged.HedgeOnPerTryTimeout = true
	g := secGateway(everyRule(), own, off, faulty, hedged)
	vh := g.Listeners[0].Routes.VirtualHosts[0]
	vh.GRPCWeb = true
	vh.Compression = &ir.Compression{Algorithms: []string{"brotli", "gzip"}}
	return g
}

func TestHTTPFeatureFilterOrder(t *testing.T) {
	t.Parallel()
	g := httpGateway()
	checkAllModes(t, g)
	h := hcmAt(t, Translate(g, Files)[0].Listeners[0], 0)
	want := []string{
		"envoy.filters.http.rbac",
		"envoy.filters.http.cors",
		"envoy.filters.http.jwt_authn",
		"envoy.filters.http.basic_auth",
		"envoy.filters.http.ext_authz/http-authz",
		"envoy.filters.http.local_ratelimit",
		"envoy.filters.http.ratelimit/rls",
		"envoy.filters.http.compressor/brotli",
		"envoy.filters.http.compressor/zstd" + compressionKey(&ir.Compression{ContentTypes: []string{"application/json"}, MinLength: u32Of(1024)}),
		"envoy.filters.http.compressor/gzip",
		"envoy.filters.http.grpc_web",
		"envoy.filters.http.fault",
		"envoy.filters.http.router",
	}
	if diff := cmp.Diff(want, filterNames(h)); diff != "" {
		t.Errorf("filter chain (-want +got):\n%s", diff)
	}
	c := filterConfig(t, h, want[8], &compressorv3.Compressor{})
	if got := c.GetResponseDirectionConfig().GetCommonConfig(); got.GetMinContentLength().GetValue() != 1024 || !cmp.Equal(got.GetContentType(), []string{"application/json"}) {
		t.Errorf("zstd compressor settings = %v", got)
	}
	if name := c.GetCompressorLibrary().GetName(); name != "envoy.compression.zstd.compressor" {
		t.Errorf("zstd compressor library = %q", name)
	}
	// The HTTPS listener uses none of it.
	if got := filterNames(hcmAt(t, Translate(g, Files)[0].Listeners[1], 0)); len(got) != 1 {
		t.Errorf("HTTPS listener's filters = %v, want only the router", got)
	}
}

func TestCompressionKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b *ir.Compression
		same bool
	}{
		{"defaults", &ir.Compression{Algorithms: []string{"gzip"}}, &ir.Compression{Algorithms: []string{"brotli"}}, true},
		{"algorithms do not count", &ir.Compression{Algorithms: []string{"gzip"}, MinLength: u32Of(10)}, &ir.Compression{Algorithms: []string{"zstd"}, MinLength: u32Of(10)}, true},
		{"minimum length", &ir.Compression{MinLength: u32Of(10)}, &ir.Compression{MinLength: u32Of(11)}, false},
		{"zero is not unset", &ir.Compression{MinLength: u32Of(0)}, &ir.Compression{}, false},
		{"content types", &ir.Compression{ContentTypes: []string{"text/html"}}, &ir.Compression{ContentTypes: []string{"text/css"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := compressionKey(tc.a) == compressionKey(tc.b); got != tc.same {
				t.Errorf("keys %q and %q: same = %v, want %v", compressionKey(tc.a), compressionKey(tc.b), got, tc.same)
			}
		})
	}
	if k := compressionKey(&ir.Compression{}); k != "" {
		t.Errorf("default settings key = %q, want none", k)
	}
}

func TestHTTPPerFilterConfigs(t *testing.T) {
	t.Parallel()
	g := httpGateway()
	rc := Translate(g, Files)[0].Routes[0]
	vh := rc.VirtualHosts[0]
	routes := map[string]int{}
	for i, r := range vh.Routes {
		routes[r.Name] = i
	}
	zstd := "envoy.filters.http.compressor/zstd" + compressionKey(&ir.Compression{ContentTypes: []string{"application/json"}, MinLength: u32Of(1024)})
	tests := []struct {
		route  string // "" for the virtual host
		filter string
		on     bool // present and enabled; otherwise present and disabled
	}{
		{"", filterGRPCWeb, true},
		{"", "envoy.filters.http.compressor/brotli", true},
		{"", "envoy.filters.http.compressor/gzip", true},
		{"images", "envoy.filters.http.compressor/brotli", false},
		{"images", "envoy.filters.http.compressor/gzip", false},
		{"api", "envoy.filters.http.compressor/gzip", false},
		{"api", zstd, true},
		{"chaos", filterFault, true},
	}
	for _, tc := range tests {
		configs := vh.TypedPerFilterConfig
		if tc.route != "" {
			configs = vh.Routes[routes[tc.route]].TypedPerFilterConfig
		}
		present, off := perFilter(t, configs, tc.filter, nil)
		if !present || off == tc.on {
			t.Errorf("route %q filter %s: present %v, disabled %v; want enabled %v", tc.route, tc.filter, present, off, tc.on)
		}
	}
	f := &faultv3.HTTPFault{}
	perFilter(t, vh.Routes[routes["chaos"]].TypedPerFilterConfig, filterFault, f)
	if f.GetDelay().GetFixedDelay().AsDuration() != time.Second || f.GetDelay().GetPercentage().GetNumerator() != 125000 || f.GetAbort().GetHeaderAbort() == nil {
		t.Errorf("fault = %v", f)
	}
	if got := vh.Routes[routes["search"]].GetRoute().GetHedgePolicy(); !got.GetHedgeOnPerTryTimeout() {
		t.Errorf("hedge policy = %v", got)
	}
	if got := vh.Routes[routes["chaos"]].GetRoute().GetHedgePolicy(); got != nil {
		t.Errorf("an unhedged route has hedge policy %v", got)
	}
}

func TestUpstreamBehaviour(t *testing.T) {
	t.Parallel()
	base := func(name string) *ir.Cluster {
		return &ir.Cluster{Name: name, Discovery: ir.Static, ConnectTimeout: time.Second, LB: ir.RoundRobin,
			Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80}}}
	}
	tests := []struct {
		name  string
		edit  func(c *ir.Cluster)
		check func(t *testing.T, c *clusterv3.Cluster)
	}{
		{"slow start round robin", func(c *ir.Cluster) {
			c.SlowStart = &ir.SlowStart{Window: 30 * time.Second, Aggression: f64Of(2), MinWeightPercent: f64Of(5)}
		}, func(t *testing.T, c *clusterv3.Cluster) {
			ss := c.GetRoundRobinLbConfig().GetSlowStartConfig()
			if ss.GetSlowStartWindow().AsDuration() != 30*time.Second || ss.GetAggression().GetDefaultValue() != 2 || ss.GetMinWeightPercent().GetValue() != 5 {
				t.Errorf("slow start = %v", ss)
			}
		}},
		{"slow start least request", func(c *ir.Cluster) {
			c.LB = ir.LeastRequest
			c.SlowStart = &ir.SlowStart{Window: time.Minute}
		}, func(t *testing.T, c *clusterv3.Cluster) {
			if ss := c.GetLeastRequestLbConfig().GetSlowStartConfig(); ss.GetSlowStartWindow().AsDuration() != time.Minute || c.GetRoundRobinLbConfig() != nil {
				t.Errorf("slow start = %v", c.GetLbConfig())
			}
		}},
		{"automatic HTTP", func(c *ir.Cluster) {
			c.AutoHTTP = true
			c.TLS = &ir.UpstreamTLS{SNI: "api.internal"}
		}, func(t *testing.T, c *clusterv3.Cluster) {
			o := &upstreamhttpv3.HttpProtocolOptions{}
			if err := c.TypedExtensionProtocolOptions[httpProtocolOptions].UnmarshalTo(o); err != nil {
				t.Fatal(err)
			}
			if a := o.GetAutoConfig(); a.GetHttp2ProtocolOptions() == nil || a.GetHttpProtocolOptions() == nil {
				t.Errorf("protocol options = %v", o)
			}
		}},
		{"retry budget", func(c *ir.Cluster) {
			c.CircuitBreaker = &ir.CircuitBreaker{MaxRequests: u32Of(100), RetryBudget: &ir.RetryBudget{Percent: f64Of(25), MinConcurrency: u32Of(4)}}
		}, func(t *testing.T, c *clusterv3.Cluster) {
			rb := c.GetCircuitBreakers().GetThresholds()[0].GetRetryBudget()
			if rb.GetBudgetPercent().GetValue() != 25 || rb.GetMinRetryConcurrency().GetValue() != 4 {
				t.Errorf("retry budget = %v", rb)
			}
		}},
		{"priorities", func(c *ir.Cluster) {
			c.Endpoints = []ir.Endpoint{{Address: "10.0.0.1", Port: 80}, {Address: "10.0.1.1", Port: 80, Priority: 1}, {Address: "10.0.0.2", Port: 80}, {Address: "10.0.2.1", Port: 80, Priority: 2}}
		}, func(t *testing.T, c *clusterv3.Cluster) {
			var got [][]string
			for i, loc := range c.GetLoadAssignment().GetEndpoints() {
				if loc.GetPriority() != uint32(i) {
					t.Errorf("group %d has priority %d", i, loc.GetPriority())
				}
				var addrs []string
				for _, e := range loc.GetLbEndpoints() {
					addrs = append(addrs, e.GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
				}
				got = append(got, addrs)
			}
			want := [][]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.1.1"}, {"10.0.2.1"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("endpoint groups (-want +got):\n%s", diff)
			}
		}},
		{"nothing set", func(*ir.Cluster) {}, func(t *testing.T, c *clusterv3.Cluster) {
			if c.GetLbConfig() != nil || len(c.GetLoadAssignment().GetEndpoints()) != 1 || c.TypedExtensionProtocolOptions != nil {
				t.Errorf("cluster = %v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base("web")
			tc.edit(c)
			g := testGateway()
			g.Clusters[2] = c
			checkAllModes(t, g)
			tc.check(t, translator{g: g, mode: Files}.cluster(c))
		})
	}
}

func TestObservability(t *testing.T) {
	t.Parallel()
	g := testGateway()
	g.Clusters = append(g.Clusters, &ir.Cluster{Name: "zz-otel", Discovery: ir.Static, ConnectTimeout: time.Second, LB: ir.RoundRobin, HTTP2: true,
		Endpoints: []ir.Endpoint{{Address: "10.9.0.1", Port: 4317}}})
	g.Listeners[0].StatsPrefix = "public"
	g.RequestID = &ir.RequestID{Generate: true, PreserveExternal: true, AlwaysInResponse: true}
	g.Tracing = &ir.Tracing{Cluster: "zz-otel", ServiceName: "edge", Random: f64Of(5)}
	g.AccessLogs = []*ir.AccessLogSink{
		{Kind: ir.LogStdout, JSON: true},
		{Kind: ir.LogStderr, Text: "%RESPONSE_CODE%\n", StatusAtLeast: 500},
		{Kind: ir.LogFile, Path: "/var/log/a.log", JSON: true, StatusAtLeast: 400, ResponseFlags: []string{"UF", "UH"}},
		{Kind: ir.LogOTel, Cluster: "zz-otel", LogName: "edge"},
	}
	checkAllModes(t, g)
	l := Translate(g, Files)[0].Listeners
	h := hcmAt(t, l[0], 0)
	if h.StatPrefix != "public" {
		t.Errorf("stat prefix = %q", h.StatPrefix)
	}
	if h2 := hcmAt(t, l[1], 0); h2.StatPrefix != "https.cert" || h2.Tracing == nil {
		t.Errorf("HTTPS stat prefix = %q, tracing %v", h2.StatPrefix, h2.Tracing)
	}
	if !h.GetGenerateRequestId().GetValue() || !h.PreserveExternalRequestId || !h.AlwaysSetRequestIdInResponse {
		t.Errorf("request id settings: %v %v %v", h.GenerateRequestId, h.PreserveExternalRequestId, h.AlwaysSetRequestIdInResponse)
	}
	otel := &tracev3.OpenTelemetryConfig{}
	if err := h.GetTracing().GetProvider().GetTypedConfig().UnmarshalTo(otel); err != nil {
		t.Fatal(err)
	}
	if otel.GetGrpcService().GetEnvoyGrpc().GetClusterName() != "zz-otel" || otel.ServiceName != "edge" || h.GetTracing().GetRandomSampling().GetValue() != 5 {
		t.Errorf("tracing = %v", h.Tracing)
	}
	var names []string
	for _, a := range h.AccessLog {
		names = append(names, a.Name)
	}
	want := []string{loggerStdout, loggerStderr, loggerFile, loggerOpenTelemetry}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("access loggers (-want +got):\n%s", diff)
	}
	if h.AccessLog[0].Filter != nil || h.AccessLog[1].GetFilter().GetStatusCodeFilter() == nil || len(h.AccessLog[2].GetFilter().GetAndFilter().GetFilters()) != 2 {
		t.Errorf("access log filters = %v, %v, %v", h.AccessLog[0].Filter, h.AccessLog[1].Filter, h.AccessLog[2].Filter)
	}
}

func TestHTTPUnusedLeavesConnectionManagerAlone(t *testing.T) {
	t.Parallel()
	g := testGateway()
	h := hcmAt(t, Translate(g, Files)[0].Listeners[0], 0)
	if h.Tracing != nil || h.GenerateRequestId != nil || len(h.AccessLog) != 0 || h.StatPrefix != "http" {
		t.Errorf("a gateway without observability settings got: tracing %v, request id %v, %d access logs, stat prefix %q", h.Tracing, h.GenerateRequestId, len(h.AccessLog), h.StatPrefix)
	}
}

// TestCheckFilterConfigEnabling holds the check to Envoy's rule for a
// route.v3.FilterConfig that does not disable its filter: an empty config
// enables the filter, no config at all is refused.
func TestCheckFilterConfigEnabling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		entry  *anypb.Any
		errors bool
	}{
		{"empty config enables", toAny(&routev3.FilterConfig{Config: &anypb.Any{}}), false},
		{"disabled", toAny(&routev3.FilterConfig{Disabled: true}), false},
		{"no config", toAny(&routev3.FilterConfig{}), true},
		{"wrong per-route type", toAny(&routev3.FilterConfig{Config: toAny(&compressorv3.Compressor{})}), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := httpGateway()
			r := Translate(g, Files)[0]
			r.Routes[0].VirtualHosts[0].TypedPerFilterConfig[filterGRPCWeb] = tc.entry
			r.Routes[0].VirtualHosts[0].TypedPerFilterConfig[filterFault] = tc.entry
			err := Check(r, Files)
			if (err != nil) != tc.errors {
				t.Errorf("Check = %v, want an error: %v", err, tc.errors)
			}
		})
	}
}
