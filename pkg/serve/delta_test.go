package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// edgeRepo is a gateway "edge" with one backend per name, each with its
// connect timeout, and a route to each.
func edgeRepo(backends map[string]string) map[string]string {
	var b strings.Builder
	b.WriteString(`apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners: [{name: http, port: 8080, protocol: HTTP}]
`)
	var routes strings.Builder
	for i, name := range slices.Sorted(maps.Keys(backends)) {
		fmt.Fprintf(&b, "---\napiVersion: edgectl.dev/v1alpha1\nkind: Backend\nmetadata: {name: %s}\nspec:\n  connectTimeout: %s\n  endpoints: [{address: 10.0.0.%d, port: 8080}]\n",
			name, backends[name], i+1)
		fmt.Fprintf(&routes, "  - {match: {path: {prefix: /%s/}}, backend: %s}\n", name, name)
	}
	b.WriteString("---\napiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: www}\nspec:\n  gateway: edge\n  hostnames: [www.example.com]\n  routes:\n")
	b.WriteString(routes.String())
	return map[string]string{"edgectl.yaml": project, "edge.yaml": b.String()}
}

// TestDeltaStream speaks delta xDS on a raw stream: each cluster comes
// with its own version (the hash of its bytes), an unchanged cluster is not
// sent again, a changed one is, and one the new version no longer has
// arrives in removed_resources.
func TestDeltaStream(t *testing.T) {
	t.Parallel()
	out := t.TempDir() + "/out"
	publish := func(backends map[string]string) string {
		res := compileFiles(t, edgeRepo(backends))
		if err := bundle.WriteOutput(out, res.Bundles); err != nil {
			t.Fatal(err)
		}
		return res.Bundles[0].Digest
	}
	v1 := publish(map[string]string{"a": "1s", "b": "1s", "c": "1s"})
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "version 1", func() bool { return s.servedVersion(t, "edge") == v1 })

	conn, err := grpc.NewClient(s.xds, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: "envoy-1", Cluster: "edge", UserAgentName: "envoy"}
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	recv := func() *discoveryv3.DeltaDiscoveryResponse {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce}); err != nil {
			t.Fatal(err) // the ACK
		}
		return resp
	}
	versions := func(resp *discoveryv3.DeltaDiscoveryResponse) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, r := range resp.Resources {
			sum := sha256.Sum256(r.GetResource().GetValue())
			if r.Version != hex.EncodeToString(sum[:]) {
				t.Errorf("cluster %s: version %q is not the hash of its bytes", r.Name, r.Version)
			}
			out[r.Name] = r.Version
		}
		return out
	}

	first := versions(recv())
	if got := slices.Sorted(maps.Keys(first)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("first response has clusters %v, want a b c", got)
	}
	if first["a"] == first["b"] {
		t.Errorf("clusters a and b have the same version %q", first["a"])
	}

	// Version 2: b is gone, c changed, a is as it was.
	v2 := publish(map[string]string{"a": "1s", "c": "3s"})
	eventually(t, "version 2", func() bool { return s.servedVersion(t, "edge") == v2 })
	resp := recv()
	if !slices.Equal(resp.RemovedResources, []string{"b"}) {
		t.Errorf("removed_resources = %v, want [b]", resp.RemovedResources)
	}
	second := versions(resp)
	if got := slices.Sorted(maps.Keys(second)); !slices.Equal(got, []string{"c"}) {
		t.Errorf("second response has clusters %v, want only the changed c", got)
	}
	if second["c"] == first["c"] {
		t.Errorf("cluster c changed but kept version %q", first["c"])
	}
	if n := s.metric(t, `edgectl_serve_responses_total{protocol="delta",type="cluster"}`); n != 2 {
		t.Errorf("delta cluster responses = %v, want 2", n)
	}
}
