package serve

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// grpcRepo is a gateway "mesh" (node cluster mesh) with two gRPC backends
// on loopback and one virtual host, greeter.test, whose routes send the
// health service's Check method to check ("alpha", "beta", or "split" for
// both, weight 1 each) and every other method to beta.
func grpcRepo(alphaPort, betaPort int, check string) map[string]string {
	action := "backend: " + check
	if check == "split" {
		action = "backends: [{name: alpha, weight: 1}, {name: beta, weight: 1}]"
	}
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
metadata: {name: alpha}
spec:
  protocol: GRPC
  endpoints: [{address: 127.0.0.1, port: %d}]
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: beta}
spec:
  protocol: GRPC
  endpoints: [{address: 127.0.0.1, port: %d}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: greeter}
spec:
  gateway: mesh
  hostnames: [greeter.test]
  routes:
  - name: check
    match: {path: {exact: /grpc.health.v1.Health/Check}}
    %s
  - name: rest
    backend: beta
`, alphaPort, betaPort, action),
	}
}

// healthBackend is a real gRPC server whose health service knows one
// service, its own name: a Check for "alpha" is SERVING only on alpha, so
// the answer says which backend took the call.
func healthBackend(t *testing.T, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	healthgrpc.RegisterHealthServer(s, hs)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return l.Addr().(*net.TCPAddr).Port
}

// TestGRPCClientFollowsRoutes uses grpc-go's own xDS resolver, an
// independent xDS client, against the server: it dials xds:///greeter.test,
// makes real RPCs that reach the backends the routes name, and follows the
// routes as the bundle directory changes, with no NACK on the way.
func TestGRPCClientFollowsRoutes(t *testing.T) {
	t.Parallel()
	alpha, beta := healthBackend(t, "alpha"), healthBackend(t, "beta")
	out := t.TempDir() + "/out"
	publish := func(check string) string {
		res := compileFiles(t, grpcRepo(alpha, beta, check))
		if err := bundle.WriteOutput(out, res.Bundles); err != nil {
			t.Fatal(err)
		}
		return res.Bundles[0].Digest
	}
	v1 := publish("alpha")
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "version 1", func() bool { return s.servedVersion(t, "mesh") == v1 })

	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "greeter-client-1", "cluster": "mesh", "locality": {"region": "r1"}}
	}`, s.xds)
	rb, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///greeter.test", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(rb))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthgrpc.NewHealthClient(conn)

	// checkAnswers asks for a service by Check and returns who has it:
	// true when the backend that took the call serves it.
	checkAnswers := func(service string) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if status.Code(err) == codes.NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return resp.GetStatus() == healthpb.HealthCheckResponse_SERVING, nil
	}
	// watchAnswers does the same through the Watch method, which the
	// routes send elsewhere.
	watchAnswers := func(service string) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			return false, err
		}
		resp, err := w.Recv()
		if err != nil {
			return false, err
		}
		return resp.GetStatus() == healthpb.HealthCheckResponse_SERVING, nil
	}
	expect := func(what string, call func(string) (bool, error), service string, want bool) {
		t.Helper()
		for i := range 5 {
			got, err := call(service)
			if err != nil {
				t.Fatalf("%s: call %d: %v", what, i, err)
			}
			if got != want {
				t.Fatalf("%s: call %d reached the wrong backend", what, i)
			}
		}
	}

	// Version 1: Check goes to alpha, Watch to beta.
	expect("v1 Check", checkAnswers, "alpha", true)
	expect("v1 Check", checkAnswers, "beta", false)
	expect("v1 Watch", watchAnswers, "beta", true)

	// Version 2: the Check route switches to beta; the client follows.
	v2 := publish("beta")
	eventually(t, "version 2", func() bool { return s.servedVersion(t, "mesh") == v2 })
	eventually(t, "the client to follow version 2", func() bool {
		ok, err := checkAnswers("beta")
		return err == nil && ok
	})
	expect("v2 Check", checkAnswers, "beta", true)
	expect("v2 Check", checkAnswers, "alpha", false)
	expect("v2 Watch", watchAnswers, "beta", true)

	// Version 3: Check is split by weight; both backends take calls.
	v3 := publish("split")
	eventually(t, "version 3", func() bool { return s.servedVersion(t, "mesh") == v3 })
	eventually(t, "calls to reach both backends", func() bool {
		seen := map[bool]int{}
		for range 40 {
			ok, err := checkAnswers("alpha")
			if err != nil {
				return false
			}
			seen[ok]++
		}
		return seen[true] > 0 && seen[false] > 0
	})

	if n := s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="listener"}`) +
		s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="route"}`) +
		s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="cluster"}`) +
		s.metric(t, `edgectl_serve_nacks_total{protocol="sotw",type="endpoint"}`); n != 0 {
		t.Errorf("the gRPC client rejected %v responses", n)
	}
	if n := s.metric(t, `edgectl_serve_streams{protocol="sotw"}`); n != 1 {
		t.Errorf("streams = %v, want 1", n)
	}
}
