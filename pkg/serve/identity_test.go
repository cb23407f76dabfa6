package serve

import (
	"context"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// identityServer serves two gateways, mesh and edge (node clusters of the
// same names), over TLS with files and the identities given.
func identityServer(t *testing.T, files TLSFiles, ids Identities) *server {
	t.Helper()
	var sources []Source
	var digests []string
	for _, repo := range []map[string]string{grpcRepo(1, 2, "alpha"), edgeRepo(map[string]string{"a": "1s"})} {
		out := t.TempDir()
		res := compileFiles(t, repo)
		if err := bundle.WriteOutput(out, res.Bundles); err != nil {
			t.Fatal(err)
		}
		sources = append(sources, Dir{Path: out})
		digests = append(digests, res.Bundles[0].Digest)
	}
	conf, err := TLSConfig(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{TLS: conf, Identities: ids}, sources...)
	eventually(t, "both gateways to be served", func() bool {
		return s.servedVersion(t, "mesh") == digests[0] && s.servedVersion(t, "edge") == digests[1]
	})
	return s
}

// askDeltaListeners is askListeners over a delta stream.
func askDeltaListeners(t *testing.T, addr, cluster string, creds credentials.TransportCredentials) (int, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return 0, err
	}
	err = stream.Send(&discoveryv3.DeltaDiscoveryRequest{
		Node:    &corev3.Node{Id: "identity-test", Cluster: cluster, UserAgentName: "envoy"},
		TypeUrl: resource.ListenerType,
	})
	if err != nil {
		return 0, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return 0, err
	}
	return len(resp.GetResources()), nil
}

// TestIdentities: under mTLS with identities, a client gets only the
// gateways whose node clusters its certificate's names are given; any
// other stream ends with PermissionDenied and is counted by gateway.
func TestIdentities(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 10)
	edgeCert, edgeKey := ca.issueFiles("edge-client", 20, "edge-1.fleet.test")
	meshCert, meshKey := ca.issueFiles("mesh-client", 21, "spiffe://fleet.test/mesh")
	nobodyCert, nobodyKey := ca.issueFiles("nobody", 22, "nobody.fleet.test")
	s := identityServer(t, TLSFiles{Cert: cert, Key: key, ClientCA: ca.File}, Identities{
		"edge-1.fleet.test":        {"edge"},
		"spiffe://fleet.test/mesh": {"mesh", "staging"},
	})
	edge := clientTLS(t, ca, edgeCert, edgeKey)
	mesh := clientTLS(t, ca, meshCert, meshKey)
	nobody := clientTLS(t, ca, nobodyCert, nobodyKey)

	tests := []struct {
		name    string
		creds   credentials.TransportCredentials
		cluster string
		ok      bool
	}{
		{"DNS name, its cluster", edge, "edge", true},
		{"DNS name, another cluster", edge, "mesh", false},
		{"URI name, its cluster", mesh, "mesh", true},
		{"URI name, another cluster", mesh, "edge", false},
		{"a name not given", nobody, "edge", false},
	}
	ask := map[string]func(*testing.T, string, string, credentials.TransportCredentials) (int, error){
		"sotw": askListeners, "delta": askDeltaListeners,
	}
	for _, protocol := range []string{"sotw", "delta"} {
		for _, tt := range tests {
			t.Run(protocol+"/"+tt.name, func(t *testing.T) {
				n, err := ask[protocol](t, s.xds, tt.cluster, tt.creds)
				switch {
				case tt.ok && err != nil:
					t.Fatalf("refused: %v", err)
				case tt.ok && n != 1:
					t.Fatalf("%d listeners, want 1", n)
				case !tt.ok && status.Code(err) != codes.PermissionDenied:
					t.Fatalf("got %d listeners, error %v; want PermissionDenied", n, err)
				case !tt.ok && !strings.Contains(err.Error(), `node cluster "`+tt.cluster+`" is not allowed`):
					t.Fatalf("error %v does not say why", err)
				}
			})
		}
	}
	checkTypes(t, s.metrics(t), "edgectl_serve_identity_refused_total")
	// Each protocol refused mesh once and edge twice.
	if n := s.metric(t, `edgectl_serve_identity_refused_total{gateway="mesh"}`); n != 2 {
		t.Errorf(`refused for mesh: %v, want 2`, n)
	}
	if n := s.metric(t, `edgectl_serve_identity_refused_total{gateway="edge"}`); n != 4 {
		t.Errorf(`refused for edge: %v, want 4`, n)
	}
	if !strings.Contains(s.log.String(), `msg="refused a client its certificate does not allow" node=identity-test node_cluster=mesh gateway=mesh protocol=delta`) {
		t.Error("a refusal is not logged")
	}
}

// TestIdentitiesLaterNode: a SotW stream that was allowed its node cluster
// and then names another one in a later request is ended.
func TestIdentitiesLaterNode(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 10)
	edgeCert, edgeKey := ca.issueFiles("edge-client", 20, "edge-1.fleet.test")
	s := identityServer(t, TLSFiles{Cert: cert, Key: key, ClientCA: ca.File}, Identities{"edge-1.fleet.test": {"edge"}})

	conn, err := grpc.NewClient(s.xds, grpc.WithTransportCredentials(clientTLS(t, ca, edgeCert, edgeKey)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(cluster, typ string) {
		t.Helper()
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n", Cluster: cluster}, TypeUrl: typ}); err != nil {
			t.Fatal(err)
		}
	}
	send("edge", resource.ListenerType)
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("its own cluster: %v", err)
	}
	send("mesh", resource.ClusterType)
	if _, err := stream.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another cluster later on: %v, want PermissionDenied", err)
	}
	if n := s.metric(t, `edgectl_serve_identity_refused_total{gateway="mesh"}`); n != 1 {
		t.Errorf("refused for mesh: %v, want 1", n)
	}
}

// TestIdentitiesWithoutClientCertificates: with identities but a server
// that does not ask for client certificates, every stream is refused, and
// a node cluster no gateway has is counted under an empty gateway.
func TestIdentitiesWithoutClientCertificates(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 10)
	edgeCert, edgeKey := ca.issueFiles("edge-client", 20, "edge-1.fleet.test")
	s := identityServer(t, TLSFiles{Cert: cert, Key: key}, Identities{"edge-1.fleet.test": {"edge"}})
	for _, cluster := range []string{"edge", "nowhere"} {
		_, err := askListeners(t, s.xds, cluster, clientTLS(t, ca, edgeCert, edgeKey))
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "a client without a verified certificate") {
			t.Errorf("cluster %s: %v, want PermissionDenied for a client without a verified certificate", cluster, err)
		}
	}
	if n := s.metric(t, `edgectl_serve_identity_refused_total{gateway=""}`); n != 1 {
		t.Errorf("refused for no gateway: %v, want 1", n)
	}
}
