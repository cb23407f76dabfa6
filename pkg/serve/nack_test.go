package serve

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// TestNACKNoStorm has a client reject every response for a second. With
// the guard the server sends the version once and waits for a new one,
// which it then sends; go-control-plane's cache as it is resends the
// rejected version as fast as the client can reject it, which is what the
// guard is for (and what shows that this test can see a storm).
func TestNACKNoStorm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		guard    bool
		min, max int64 // responses in the second
	}{
		{"guarded", true, 1, 3},
		{"go-control-plane as is", false, 100, 1 << 62},
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
			s := startServer(t, Options{withoutNACKGuard: !tt.guard}, Dir{Path: out})
			eventually(t, "version 1", func() bool { return s.servedVersion(t, "edge") == v1 })

			conn, err := grpc.NewClient(s.xds, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			node := &corev3.Node{Id: "envoy-1", Cluster: "edge", UserAgentName: "envoy"}
			if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
				t.Fatal(err)
			}
			var responses atomic.Int64
			versions := make(chan string, 1<<16)
			go func() {
				for {
					resp, err := stream.Recv()
					if err != nil {
						return
					}
					responses.Add(1)
					select {
					case versions <- resp.VersionInfo:
					default:
					}
					// Reject it, as a client whose check fails would: the
					// version it still has is none.
					_ = stream.Send(&discoveryv3.DiscoveryRequest{
						TypeUrl:       resp.TypeUrl,
						ResponseNonce: resp.Nonce,
						ErrorDetail:   &statuspb.Status{Code: int32(codes.InvalidArgument), Message: "this client rejects everything"},
					})
				}
			}()
			time.Sleep(time.Second)
			n := responses.Load()
			t.Logf("%d responses in 1s", n)
			if n < tt.min || n > tt.max {
				t.Fatalf("%d responses in 1s to a client that rejects everything, want %d to %d", n, tt.min, tt.max)
			}
			if !tt.guard {
				return
			}
			eventually(t, "the NACKs to be counted", func() bool {
				return s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="cluster"}`) == float64(n)
			})
			if got := <-versions; got != v1 {
				t.Errorf("first response has version %s, want %s", got, v1)
			}
			// A new version still reaches the client that rejected the last.
			v2 := publish("2s")
			select {
			case got := <-versions:
				if got != v2 {
					t.Errorf("after a NACK the client got version %s, want %s", got, v2)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the new version never reached the client that rejected the last")
			}
			if !containsLine(s.log.String(), "client rejected a version", "this client rejects everything", v1) {
				t.Errorf("the NACK was not logged with its version and reason")
			}
		})
	}
}

// containsLine reports whether one log line has every part.
func containsLine(log string, parts ...string) bool {
	for line := range strings.Lines(log) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
