package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/xds"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgectl/edgectl/internal/kubetest"
	"github.com/edgectl/edgectl/pkg/bundle"
)

// kubeRepo is a gateway "mesh" whose one virtual host, greeter.test,
// routes everything to a backend that names the Kubernetes Service
// greeter in namespace ns, by port number.
func kubeRepo(ns string) map[string]string {
	return map[string]string{
		"edgectl.yaml": project,
		"mesh.yaml": fmt.Sprintf(`apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: mesh}
spec:
  node: {cluster: mesh}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: greeter}
spec:
  protocol: GRPC
  kubernetes: {namespace: %s, service: greeter, port: 80}
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: greeter}
spec:
  gateway: mesh
  hostnames: [greeter.test]
  routes:
  - name: all
    backend: greeter
`, ns),
	}
}

// kubeClient connects to the test cluster as the holder of token.
func kubeClient(t *testing.T, c *kubetest.Cluster, token string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig(t, token))
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewKubernetes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// podPort is the container port of the greeter "pods".
const podPort = 50051

// podSlice is an EndpointSlice of Service greeter with one endpoint, a
// pod at ip, as the EndpointSlice controller would write it.
func podSlice(name, ip, zone string, c discoveryv1.EndpointConditions) *discoveryv1.EndpointSlice {
	portName, tcp, port := "grpc", corev1.ProtocolTCP, int32(podPort)
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "greeter"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &tcp}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Zone: &zone, Conditions: c}},
	}
}

// TestKubernetesEndpoints serves a Backend that names a Kubernetes
// Service from a real kube-apiserver, and changes the Service's
// EndpointSlices under it: an endpoint added, one no longer ready, one
// terminating. grpc-go's own xDS client follows with its picks (real RPCs
// reach exactly the ready "pods"), and raw SotW and delta ADS streams of
// an Envoy get each change as a new endpoints version, health statuses
// and zones mapped, while listeners and clusters keep the bundle digest.
func TestKubernetesEndpoints(t *testing.T) {
	t.Parallel()
	c := kubetest.Start(t)
	ns := c.Namespace(t)
	admin := kubeClient(t, c, c.AdminToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Three "pods" at pod addresses, which the API server takes (it
	// refuses loopback ones): gRPC servers on loopback, which the client
	// reaches through a dialer that maps each pod's address to its
	// server, and tells apart by port.
	podIP := map[string]string{"a": "10.1.0.1", "b": "10.1.0.2", "c": "10.1.0.3"}
	local := map[string]string{} // pod address → the server's
	byPort := map[int]string{}
	for name, ip := range podIP {
		p := healthBackend(t, name)
		local[net.JoinHostPort(ip, fmt.Sprint(podPort))] = fmt.Sprintf("127.0.0.1:%d", p)
		byPort[p] = name
	}
	addr := func(pod string) string { return net.JoinHostPort(podIP[pod], fmt.Sprint(podPort)) }
	dialer := func(ctx context.Context, a string) (net.Conn, error) {
		if l, ok := local[a]; ok {
			a = l
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	}

	_, err := admin.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "greeter"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "grpc", Port: 80, TargetPort: intstr.FromInt32(podPort), Protocol: corev1.ProtocolTCP},
			{Name: "admin", Port: 81, TargetPort: intstr.FromInt32(9000), Protocol: corev1.ProtocolTCP},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slicesAPI := admin.DiscoveryV1().EndpointSlices(ns)
	readyCond := discoveryv1.EndpointConditions{Ready: new(true), Serving: new(true), Terminating: new(false)}
	if _, err := slicesAPI.Create(ctx, podSlice("greeter-a", podIP["a"], "zone-1", readyCond), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setSlice := func(s *discoveryv1.EndpointSlice) {
		t.Helper()
		cur, err := slicesAPI.Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			if _, err := slicesAPI.Create(ctx, s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			return
		}
		s.ResourceVersion = cur.ResourceVersion
		if _, err := slicesAPI.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	out := t.TempDir() + "/out"
	res := compileFiles(t, kubeRepo(ns))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	digest := res.Bundles[0].Digest
	s := startServer(t, Options{Kubernetes: admin}, Dir{Path: out})
	eventually(t, "the version", func() bool { return s.servedVersion(t, "mesh") == digest })
	eventually(t, "readiness", func() bool { code, _ := s.get(t, "/readyz"); return code == http.StatusOK })

	// An Envoy, over state of the world and over delta.
	conn, err := grpc.NewClient(s.xds, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	service := "k8s/" + ns + "/greeter:80"
	node := &corev3.Node{Id: "envoy-1", Cluster: "mesh", UserAgentName: "envoy"}
	sotw, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	cds, err := sotw.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if cds.VersionInfo != digest {
		t.Errorf("clusters at version %q, want the digest %q", cds.VersionInfo, digest)
	}
	if err := sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: cds.TypeUrl, VersionInfo: cds.VersionInfo, ResponseNonce: cds.Nonce}); err != nil {
		t.Fatal(err)
	}
	if err := sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: []string{service}}); err != nil {
		t.Fatal(err)
	}
	delta, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: []string{service}}); err != nil {
		t.Fatal(err)
	}

	// nextSotW and nextDelta read endpoint responses, acknowledging each,
	// until one holds want; they return its version.
	health := func(cla *endpointv3.ClusterLoadAssignment) map[string]string {
		got := map[string]string{}
		for _, loc := range cla.Endpoints {
			for _, e := range loc.LbEndpoints {
				sa := e.GetEndpoint().GetAddress().GetSocketAddress()
				got[fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue())] = loc.GetLocality().GetZone() + " " + e.HealthStatus.String()
			}
		}
		return got
	}
	var seen []string // versions of the endpoints, in order
	nextSotW := func(want map[string]string) string {
		t.Helper()
		for {
			resp, err := sotw.Recv()
			if err != nil {
				t.Fatalf("SotW: waiting for %v: %v", want, err)
			}
			if err := sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.TypeUrl, VersionInfo: resp.VersionInfo, ResponseNonce: resp.Nonce, ResourceNames: []string{service}}); err != nil {
				t.Fatal(err)
			}
			if resp.TypeUrl != resourcev3.EndpointType || len(resp.Resources) != 1 {
				continue
			}
			cla := &endpointv3.ClusterLoadAssignment{}
			if err := resp.Resources[0].UnmarshalTo(cla); err != nil {
				t.Fatal(err)
			}
			if cla.ClusterName == service && fmt.Sprint(health(cla)) == fmt.Sprint(want) {
				if !strings.HasPrefix(resp.VersionInfo, digest+"+eds.") {
					t.Errorf("endpoints at version %q, want %s+eds.HASH", resp.VersionInfo, digest)
				}
				seen = append(seen, resp.VersionInfo)
				return resp.VersionInfo
			}
		}
	}
	nextDelta := func(want map[string]string) {
		t.Helper()
		for {
			resp, err := delta.Recv()
			if err != nil {
				t.Fatalf("delta: waiting for %v: %v", want, err)
			}
			if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce}); err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.Resources {
				if sum := sha256.Sum256(r.GetResource().GetValue()); r.Version != hex.EncodeToString(sum[:]) {
					t.Errorf("delta: endpoints %s at version %q, not the hash of their bytes", r.Name, r.Version)
				}
				cla := &endpointv3.ClusterLoadAssignment{}
				if err := r.GetResource().UnmarshalTo(cla); err != nil {
					t.Fatal(err)
				}
				if r.Name == service && fmt.Sprint(health(cla)) == fmt.Sprint(want) {
					return
				}
			}
		}
	}
	expect := func(what string, want map[string]string) {
		t.Helper()
		nextSotW(want)
		nextDelta(want)
		t.Logf("%s: %v", what, want)
	}

	// The gRPC client.
	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "greeter-client-1", "cluster": "mesh", "locality": {"zone": "zone-1"}}
	}`, s.xds)
	rb, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	client, err := grpc.NewClient("xds:///greeter.test", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(rb), grpc.WithContextDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	greeter := healthgrpc.NewHealthClient(client)
	// picks makes n calls and names the pod each reached.
	picks := func(n int) []string {
		t.Helper()
		var got []string
		for range n {
			var p peer.Peer
			cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := greeter.Check(cctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
			ccancel()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			got = append(got, byPort[p.Addr.(*net.TCPAddr).Port])
		}
		return got
	}
	// converge calls until n calls in a row reach only the pods in want,
	// and every one of them; it fails if that does not happen in time.
	converge := func(what string, want ...string) {
		t.Helper()
		eventually(t, what, func() bool {
			got := picks(20)
			slices.Sort(got)
			return slices.Equal(slices.Compact(got), want)
		})
	}

	// One ready pod.
	expect("pod a ready", map[string]string{addr("a"): "zone-1 HEALTHY"})
	converge("calls to reach pod a", "a")

	// A second pod, in another zone: both take calls.
	setSlice(podSlice("greeter-b", podIP["b"], "zone-2", readyCond))
	expect("pods a and b ready", map[string]string{addr("a"): "zone-1 HEALTHY", addr("b"): "zone-2 HEALTHY"})
	converge("calls to reach pods a and b", "a", "b")

	// Pod a fails its readiness probe: calls go to b alone.
	setSlice(podSlice("greeter-a", podIP["a"], "zone-1", discoveryv1.EndpointConditions{Ready: new(false), Serving: new(false), Terminating: new(false)}))
	expect("pod a not ready", map[string]string{addr("a"): "zone-1 UNHEALTHY", addr("b"): "zone-2 HEALTHY"})
	converge("calls to leave pod a", "b")

	// Pod c starts ready, pod b is being deleted but still serves: c alone.
	setSlice(podSlice("greeter-c", podIP["c"], "zone-2", readyCond))
	setSlice(podSlice("greeter-b", podIP["b"], "zone-2", discoveryv1.EndpointConditions{Ready: new(false), Serving: new(true), Terminating: new(true)}))
	expect("pod b terminating", map[string]string{addr("a"): "zone-1 UNHEALTHY", addr("b"): "zone-2 DRAINING", addr("c"): "zone-2 HEALTHY"})
	converge("calls to reach pod c alone", "c")

	// Pod b is gone.
	if err := slicesAPI.Delete(ctx, "greeter-b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("pod b gone", map[string]string{addr("a"): "zone-1 UNHEALTHY", addr("c"): "zone-2 HEALTHY"})
	converge("calls to reach pod c alone", "c")

	if len(slices.Compact(slices.Clone(seen))) != len(seen) {
		t.Errorf("endpoint versions repeat: %v", seen)
	}
	for _, typ := range []string{"listener", "route", "cluster", "endpoint"} {
		for _, p := range []string{"sotw", "delta"} {
			if n := s.metric(t, fmt.Sprintf(`edgectl_serve_nacks_total{protocol=%q,type=%q}`, p, typ)); n != 0 {
				t.Errorf("%s %s: %v NACKs", p, typ, n)
			}
		}
	}
	if code, body := s.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
}

// TestKubernetesForbidden serves a Backend whose Service serve may not
// read: /readyz says so, with the API server's answer, and the gateway is
// served all the same, with no endpoints for that cluster.
func TestKubernetesForbidden(t *testing.T) {
	t.Parallel()
	c := kubetest.Start(t)
	ns := c.Namespace(t)
	out := t.TempDir() + "/out"
	res := compileFiles(t, kubeRepo(ns))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	// Until a version is served, no client gets it: do not wait the
	// default 10s for a list that will never work.
	s := startServer(t, Options{Kubernetes: kubeClient(t, c, c.NobodyToken), kubeSyncTimeout: time.Second}, Dir{Path: out})
	eventually(t, "the version", func() bool { return s.servedVersion(t, "mesh") == res.Bundles[0].Digest })
	want := fmt.Sprintf("Kubernetes Service %s/greeter: not listed yet: ", ns)
	eventually(t, "/readyz to give the reason", func() bool {
		code, body := s.get(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, want) && strings.Contains(body, "forbidden")
	})
}

// TestKubernetesWithoutCluster serves a Backend that names a Service with
// no cluster to read it from: the gateway is served, its cluster has no
// endpoints, and /readyz says what is missing.
func TestKubernetesWithoutCluster(t *testing.T) {
	t.Parallel()
	out := t.TempDir() + "/out"
	res := compileFiles(t, kubeRepo("shop"))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "the version", func() bool { return s.servedVersion(t, "mesh") == res.Bundles[0].Digest })
	code, body := s.get(t, "/readyz")
	if want := `gateway "mesh" names Kubernetes Services (k8s/shop/greeter:80), but serve has no access to a cluster`; code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
		t.Errorf("/readyz: %d %q, want 503 with %q", code, body, want)
	}
}
