package serve

import (
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
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

func TestMetricsText(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	m.sourceError(`git a"b\c`+"\n", "c0ffee", timeAt(1700000000500))
	m.streams[sotw].Add(2)
	var b strings.Builder
	m.write(&b, []servedVersion{{gateway: "edge", nodeCluster: "edge", version: "sha256:1"}})
	for _, want := range []string{
		"# TYPE edgectl_serve_gateway_version gauge\n",
		`edgectl_serve_gateway_version{gateway="edge",node_cluster="edge",version="sha256:1"} 1` + "\n",
		`edgectl_serve_streams{protocol="sotw"} 2` + "\n",
		`edgectl_serve_source_errors_total{source="git a\"b\\c\n"} 1` + "\n",
		`edgectl_serve_source_last_error_timestamp_seconds{source="git a\"b\\c\n"} 1700000000.5` + "\n",
		`edgectl_serve_source_rejected_revision{source="git a\"b\\c\n",revision="c0ffee"} 1` + "\n",
		"# TYPE edgectl_serve_nacks_total counter\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

func timeAt(ms int64) time.Time { return time.UnixMilli(ms) }
