package serve

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	dto "github.com/prometheus/client_model/go"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgectl/edgectl/pkg/bundle"
)

func TestNodeHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		node *corev3.Node
		want string
	}{
		{&corev3.Node{Id: "envoy-7", Cluster: "edge", UserAgentName: "envoy"}, "envoy/edge"},
		{&corev3.Node{Id: "x", Cluster: "edge"}, "envoy/edge"},
		{&corev3.Node{Id: "client", Cluster: "edge", UserAgentName: "gRPC Go"}, "grpc/edge"},
		{&corev3.Node{Cluster: "mesh", UserAgentName: "gRPC Java"}, "grpc/mesh"},
		{&corev3.Node{Cluster: "mesh", UserAgentName: "grpc-node-js"}, "envoy/mesh"},
	}
	for _, tt := range tests {
		if got := (nodeHash{}).ID(tt.node); got != tt.want {
			t.Errorf("ID(%v) = %q, want %q", tt.node, got, tt.want)
		}
	}
}

// documented are the metrics docs/delivery.md lists, with their types.
// always: present from the first scrape of a server serving a directory.
var documented = []struct {
	name   string
	typ    dto.MetricType
	always bool
}{
	{"edgectl_serve_gateway_version", dto.MetricType_GAUGE, true},
	{"edgectl_serve_streams", dto.MetricType_GAUGE, true},
	{"edgectl_serve_responses_total", dto.MetricType_COUNTER, true},
	{"edgectl_serve_nacks_total", dto.MetricType_COUNTER, true},
	{"edgectl_serve_gateway_nacks_total", dto.MetricType_COUNTER, false},
	{"edgectl_serve_push_duration_seconds", dto.MetricType_HISTOGRAM, false},
	{"edgectl_serve_identity_refused_total", dto.MetricType_COUNTER, false},
	{"edgectl_serve_webhooks_total", dto.MetricType_COUNTER, false},
	{"edgectl_serve_source_errors_total", dto.MetricType_COUNTER, true},
	{"edgectl_serve_source_last_error_timestamp_seconds", dto.MetricType_GAUGE, true},
	{"edgectl_serve_source_revision", dto.MetricType_GAUGE, false},
	{"edgectl_serve_source_rejected_revision", dto.MetricType_GAUGE, false},
	{"go_memstats_heap_inuse_bytes", dto.MetricType_GAUGE, true},
	{"go_memstats_sys_bytes", dto.MetricType_GAUGE, true},
	{"go_goroutines", dto.MetricType_GAUGE, true},
	{"process_resident_memory_bytes", dto.MetricType_GAUGE, true},
	{"process_resident_memory_max_bytes", dto.MetricType_GAUGE, true},
	{"process_cpu_seconds_total", dto.MetricType_COUNTER, true},
}

// checkTypes fails the test for a documented metric of the wrong type, or
// missing when it should be there.
func checkTypes(t *testing.T, mfs map[string]*dto.MetricFamily, present ...string) {
	t.Helper()
	for _, d := range documented {
		mf, ok := mfs[d.name]
		switch {
		case !ok && (d.always || slices.Contains(present, d.name)):
			t.Errorf("/metrics has no %s", d.name)
		case ok && mf.GetType() != d.typ:
			t.Errorf("%s is a %v, want a %v", d.name, mf.GetType(), d.typ)
		}
	}
}

// TestMetricsScrape parses /metrics of a running server with Prometheus'
// text parser and finds every documented metric with its type and labels.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	out := t.TempDir() + "/out"
	res := compileFiles(t, edgeRepo(map[string]string{"a": "1s"}))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "version 1", func() bool { return s.servedVersion(t, "edge") == res.Bundles[0].Digest })
	mfs := s.metrics(t)
	checkTypes(t, mfs)
	for _, sel := range []string{
		`edgectl_serve_gateway_version{gateway="edge",node_cluster="edge",version="` + res.Bundles[0].Digest + `"}`,
		`edgectl_serve_streams{protocol="sotw"}`,
		`edgectl_serve_streams{protocol="delta"}`,
		`edgectl_serve_responses_total{protocol="delta",type="secret"}`,
		`edgectl_serve_nacks_total{protocol="sotw",type="other"}`,
		`edgectl_serve_source_errors_total{source="bundles ` + out + `"}`,
	} {
		if s.metric(t, sel) == -1 {
			t.Errorf("/metrics has no %s", sel)
		}
	}
	for _, name := range []string{"process_resident_memory_max_bytes", "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes"} {
		ms := mfs[name].GetMetric()
		if len(ms) == 0 {
			continue // reported above
		}
		if v := ms[0].GetGauge().GetValue(); v <= 0 {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
}

// answer is what a test client does with a response.
type answer int

const (
	ack  answer = iota
	nack        // rejects the clusters of every version but the first
	hold        // answers nothing
	// partial acknowledges the listeners of every version but the first
	// and holds their clusters back; then it asks for secrets, whose
	// response shows the acknowledgement was received.
	partial
)

// adsClient is a raw ADS stream of an Envoy of node cluster "edge" that
// watches listeners and clusters (SotW) or clusters (delta).
type adsClient struct {
	delta  bool
	cancel context.CancelFunc
	// answered has each response's type URL and version once it has been
	// answered (or held).
	answered chan [2]string
}

func dialADS(t *testing.T, addr string, delta bool, how answer) *adsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &adsClient{delta: delta, cancel: cancel, answered: make(chan [2]string, 64)}
	node := &corev3.Node{Id: "envoy-" + t.Name(), Cluster: "edge", UserAgentName: "envoy"}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	rejection := &statuspb.Status{Code: int32(codes.InvalidArgument), Message: "rejected by the test"}
	first := ""
	rejects := func(typeURL, version string) bool {
		if first == "" {
			first = version
		}
		return how == nack && typeURL == resourcev3.ClusterType && version != first
	}
	if delta {
		stream, err := ads.DeltaAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				resp, err := stream.Recv()
				if err != nil {
					return
				}
				req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce}
				if rejects(resp.TypeUrl, resp.SystemVersionInfo) {
					req.ErrorDetail = rejection
				}
				if how != hold && stream.Send(req) != nil {
					return
				}
				c.answered <- [2]string{resp.TypeUrl, resp.SystemVersionInfo}
			}
		}()
		return c
	}
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ}); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		accepted := map[string]string{}
		askedSecrets := false
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			req := &discoveryv3.DiscoveryRequest{TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce, VersionInfo: resp.VersionInfo}
			if rejects(resp.TypeUrl, resp.VersionInfo) {
				req.ErrorDetail = rejection
				req.VersionInfo = accepted[resp.TypeUrl]
			} else {
				accepted[resp.TypeUrl] = resp.VersionInfo
			}
			held := how == hold || how == partial && resp.TypeUrl == resourcev3.ClusterType && resp.VersionInfo != first
			if !held && stream.Send(req) != nil {
				return
			}
			if how == partial && resp.TypeUrl == resourcev3.ListenerType && resp.VersionInfo != first && !askedSecrets {
				askedSecrets = true
				if stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.SecretType}) != nil {
					return
				}
			}
			c.answered <- [2]string{resp.TypeUrl, resp.VersionInfo}
		}
	}()
	return c
}

// await waits until the client has answered a response of version for
// every type it watches.
func (c *adsClient) await(t *testing.T, version string) {
	t.Helper()
	want := []string{resourcev3.ClusterType, resourcev3.ListenerType}
	if c.delta {
		want = want[:1]
	}
	c.awaitTypes(t, version, want...)
}

// awaitTypes waits until the client has answered a response of version
// for each type.
func (c *adsClient) awaitTypes(t *testing.T, version string, want ...string) {
	t.Helper()
	got := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for len(got) < len(want) {
		select {
		case a := <-c.answered:
			if a[1] == version {
				got[a[0]] = true
			}
		case <-ctx.Done():
			t.Fatalf("no response of version %s for every type", version)
		}
	}
}

// TestPushDuration follows a new version to the streams open when it was
// set: observed once every one has acknowledged it, rejected it or left,
// and only if one acknowledged it; each rejection is counted against the
// gateway.
func TestPushDuration(t *testing.T) {
	t.Parallel()
	type client struct {
		delta bool
		how   answer
	}
	tests := []struct {
		name    string
		clients []client
		// observed: pushes in the histogram once the clients have answered.
		observed float64
		nacks    float64
	}{
		{"one SotW stream", []client{{false, ack}}, 1, 0},
		{"two SotW streams", []client{{false, ack}, {false, ack}}, 1, 0},
		{"a delta stream", []client{{true, ack}}, 1, 0},
		{"SotW and delta", []client{{false, ack}, {true, ack}}, 1, 0},
		{"one of two rejects", []client{{false, ack}, {false, nack}}, 1, 1},
		{"a delta stream rejects", []client{{false, ack}, {true, nack}}, 1, 1},
		{"every stream rejects", []client{{false, nack}}, 0, 1},
		{"one holds until it leaves", []client{{false, ack}, {false, hold}}, 0, 0},
		{"one acknowledges a type until it leaves", []client{{false, ack}, {false, partial}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir() + "/out"
			publish := func(timeout string) string {
				res := compileFiles(t, edgeRepo(map[string]string{"a": timeout}))
				if err := bundle.WriteOutput(out, res.Bundles); err != nil {
					t.Fatal(err)
				}
				return res.Bundles[0].Digest
			}
			v1 := publish("1s")
			s := startServer(t, Options{}, Dir{Path: out})
			eventually(t, "version 1", func() bool { return s.servedVersion(t, "edge") == v1 })
			var clients []*adsClient
			for _, c := range tt.clients {
				ac := dialADS(t, s.xds, c.delta, c.how)
				ac.await(t, v1)
				clients = append(clients, ac)
			}
			const pushes = `edgectl_serve_push_duration_seconds{gateway="edge"}`
			const gatewayNACKs = `edgectl_serve_gateway_nacks_total{gateway="edge"}`
			// Version 1 was set before the streams opened: nothing waited for it.
			if n := s.metric(t, pushes); n != -1 {
				t.Fatalf("%v pushes observed before any was made", n)
			}

			v2 := publish("2s")
			for i, c := range clients {
				switch tt.clients[i].how {
				case hold:
				case partial:
					c.awaitTypes(t, v2, resourcev3.SecretType)
				default:
					c.await(t, v2)
				}
			}
			if tt.nacks > 0 {
				eventually(t, "the rejection to be counted", func() bool { return s.metric(t, gatewayNACKs) == tt.nacks })
			} else if n := s.metric(t, gatewayNACKs); n != -1 {
				t.Errorf("%s = %v, want none", gatewayNACKs, n)
			}
			if tt.observed > 0 {
				eventually(t, "the push to be observed", func() bool { return s.metric(t, pushes) == tt.observed })
				h := s.metrics(t)["edgectl_serve_push_duration_seconds"].GetMetric()[0].GetHistogram()
				if h.GetSampleSum() <= 0 {
					t.Errorf("push duration sum = %v, want > 0", h.GetSampleSum())
				}
				var bounds []float64
				for _, b := range h.GetBucket() {
					bounds = append(bounds, b.GetUpperBound())
				}
				// The text format writes the +Inf bucket out.
				if want := append(slices.Clone(pushBuckets), math.Inf(1)); !slices.Equal(bounds, want) {
					t.Errorf("buckets %v, want %v", bounds, want)
				}
			} else if n := s.metric(t, pushes); n != -1 {
				t.Errorf("%v pushes observed, want none", n)
			}
			for i, c := range tt.clients {
				if c.how == hold || c.how == partial {
					// Leaving releases the version it held back.
					clients[i].cancel()
					eventually(t, "the push to be observed once the holder left", func() bool { return s.metric(t, pushes) == 1 })
				}
			}
			checkTypes(t, s.metrics(t))
		})
	}
}
