package serve

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/xds"
)

// TestADSBootstrapReachesServe plays Envoy with the bootstrap edgectl
// bootstrap prints: it dials the address of the bootstrap's xDS cluster,
// presents the bootstrap's node, and asks for what ads_config says (state
// of the world or delta). It must get the gateway's listeners and clusters
// at the bundle's digest.
func TestADSBootstrapReachesServe(t *testing.T) {
	t.Parallel()
	out := t.TempDir() + "/out"
	res := compileFiles(t, edgeRepo(map[string]string{"a": "1s", "b": "1s"}))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	b := res.Bundles[0]
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "the bundle served", func() bool { return s.servedVersion(t, "edge") == b.Digest })

	host, portText, _ := net.SplitHostPort(s.xds)
	port, _ := strconv.Atoi(portText)
	files, err := b.Bootstrap(bundle.FilesBootstrapFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, delta := range []bool{false, true} {
		boot := xds.ADSBootstrap(files, host, uint32(port), delta)
		if err := xds.CheckBootstrap(boot, "bootstrap"); err != nil {
			t.Fatal(err)
		}
		var addr string
		for _, c := range boot.GetStaticResources().GetClusters() {
			if c.Name == boot.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() {
				sa := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
				addr = net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			}
		}
		if addr == "" {
			t.Fatal("ads_config names no static cluster")
		}
		node := &corev3.Node{Id: boot.Node.Id, Cluster: boot.Node.Cluster, UserAgentName: "envoy"}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
		got := map[string]int{}
		if boot.DynamicResources.AdsConfig.ApiType == corev3.ApiConfigSource_DELTA_GRPC {
			stream, err := ads.DeltaAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range []string{resourcev3.ListenerType, resourcev3.ClusterType} {
				if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typ}); err != nil {
					t.Fatal(err)
				}
				resp, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if resp.SystemVersionInfo != b.Digest {
					t.Errorf("delta %s: system version %q, want the digest", typ, resp.SystemVersionInfo)
				}
				got[resp.TypeUrl] = len(resp.Resources)
			}
		} else {
			stream, err := ads.StreamAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range []string{resourcev3.ListenerType, resourcev3.ClusterType} {
				if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ}); err != nil {
					t.Fatal(err)
				}
				resp, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if resp.VersionInfo != b.Digest {
					t.Errorf("%s: version %q, want the digest", typ, resp.VersionInfo)
				}
				got[resp.TypeUrl] = len(resp.Resources)
			}
		}
		if got[resourcev3.ListenerType] != 1 || got[resourcev3.ClusterType] != 2 {
			t.Errorf("delta %v: got %v, want 1 listener and 2 clusters", delta, got)
		}
		cancel()
		conn.Close()
	}
}
