package serve

import (
	"context"
	"strings"
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

// TestNACKNoStorm has a client reject every response. With the guard the
// server sends the rejected version once and waits for a new one, which it
// then sends; go-control-plane's cache as it is resends the rejected
// version as fast as the client can reject it, which is what the guard is
// for (and what shows that this test can see a storm). Nothing here counts
// responses in a stretch of time: the test waits for events, so a slow or
// loaded machine changes only how long it takes.
func TestNACKNoStorm(t *testing.T) {
	t.Parallel()
	for _, guard := range []bool{true, false} {
		name := "guarded"
		if !guard {
			name = "go-control-plane as is"
		}
		t.Run(name, func(t *testing.T) {
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
			s := startServer(t, Options{withoutNACKGuard: !guard}, Dir{Path: out})
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
			versions := make(chan string, 1<<16)
			go func() {
				for {
					resp, err := stream.Recv()
					if err != nil {
						return
					}
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
			next := func(what string) string {
				select {
				case v := <-versions:
					return v
				case <-time.After(30 * time.Second):
					t.Fatalf("no response: %s", what)
					return ""
				}
			}
			if got := next("the first"); got != v1 {
				t.Fatalf("first response has version %s, want %s", got, v1)
			}
			if !guard {
				// The storm: the rejected version comes back again and
				// again with nothing new published.
				for i := range 50 {
					if got := next("a resend"); got != v1 {
						t.Fatalf("resend %d has version %s, want %s", i, got, v1)
					}
				}
				return
			}
			eventually(t, "the NACK to be counted", func() bool {
				return s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="cluster"}`) == 1
			})
			// The server has handled the NACK. Had it resent version 1, that
			// response would come before any later one; the next one the
			// client gets is the new version.
			v2 := publish("2s")
			if got := next("the new version"); got != v2 {
				t.Errorf("after a NACK the client got version %s, want %s (a resend of the rejected version)", got, v2)
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
