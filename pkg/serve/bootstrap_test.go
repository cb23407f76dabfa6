package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

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

// TestSecureADSBootstrapReachesServe plays Envoy with the bootstrap that
// edgectl bootstrap --tls prints for an mTLS server: it builds its TLS
// client from what the edgectl-xds cluster's transport socket names (the
// CA file, the client certificate and key files, the SAN the server must
// have, ALPN) and gets the gateway's listeners. Without the client
// certificate the same server refuses it.
func TestSecureADSBootstrapReachesServe(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 10)
	clientCert, clientKey := ca.issueFiles("envoy", 20)
	out := t.TempDir() + "/out"
	res := compileFiles(t, edgeRepo(map[string]string{"a": "1s"}))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	b := res.Bundles[0]
	conf, err := TLSConfig(TLSFiles{Cert: cert, Key: key, ClientCA: ca.File}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{TLS: conf}, Dir{Path: out})
	eventually(t, "the bundle served", func() bool { return s.servedVersion(t, "edge") == b.Digest })

	host, portText, _ := net.SplitHostPort(s.xds)
	port, _ := strconv.Atoi(portText)
	files, err := b.Bootstrap(bundle.FilesBootstrapFile)
	if err != nil {
		t.Fatal(err)
	}
	plain := xds.ADSBootstrap(files, host, uint32(port), false)
	before := proto.Clone(plain)
	boot := xds.SecureADS(plain, host, xds.ADSTLS{CA: ca.File, ClientCert: clientCert, ClientKey: clientKey})
	if !proto.Equal(before, plain) {
		t.Error("SecureADS modified its input")
	}
	if err := xds.CheckBootstrap(boot, "bootstrap"); err != nil {
		t.Fatal(err)
	}
	var upstream *tlsv3.UpstreamTlsContext
	for _, c := range boot.GetStaticResources().GetClusters() {
		if c.Name != xds.ADSCluster {
			if c.TransportSocket != nil {
				t.Errorf("cluster %s got a transport socket", c.Name)
			}
			continue
		}
		upstream = &tlsv3.UpstreamTlsContext{}
		if err := c.GetTransportSocket().GetTypedConfig().UnmarshalTo(upstream); err != nil {
			t.Fatal(err)
		}
	}
	if upstream == nil {
		t.Fatal("no edgectl-xds cluster")
	}
	common := upstream.GetCommonTlsContext()
	vc := common.GetValidationContext()
	caPEM, err := os.ReadFile(vc.GetTrustedCa().GetFilename())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if n := len(vc.GetMatchTypedSubjectAltNames()); n != 1 {
		t.Fatalf("%d SAN matchers, want 1", n)
	}
	san := vc.GetMatchTypedSubjectAltNames()[0]
	if san.GetSanType() != tlsv3.SubjectAltNameMatcher_IP_ADDRESS || san.GetMatcher().GetExact() != host {
		t.Errorf("SAN matcher %v, want the IP address %s", san, host)
	}
	if upstream.GetSni() != "" {
		t.Errorf("SNI %q for an IP address", upstream.GetSni())
	}
	envoyTLS := &tls.Config{RootCAs: pool, ServerName: san.GetMatcher().GetExact(), NextProtos: common.GetAlpnProtocols()}
	if n, err := askListeners(t, s.xds, "edge", credentials.NewTLS(envoyTLS.Clone())); err == nil {
		t.Errorf("without the client certificate: %d listeners, want a refusal", n)
	}
	tc := common.GetTlsCertificates()
	if len(tc) != 1 {
		t.Fatalf("%d client certificates, want 1", len(tc))
	}
	pair, err := tls.LoadX509KeyPair(tc[0].GetCertificateChain().GetFilename(), tc[0].GetPrivateKey().GetFilename())
	if err != nil {
		t.Fatal(err)
	}
	envoyTLS.Certificates = []tls.Certificate{pair}
	if n, err := askListeners(t, s.xds, "edge", credentials.NewTLS(envoyTLS)); err != nil || n != 1 {
		t.Fatalf("with the bootstrap's TLS: %d listeners, %v", n, err)
	}
}
