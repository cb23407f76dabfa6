package serve

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/edgectl/edgectl/internal/gittest"
	"github.com/edgectl/edgectl/pkg/bundle"
)

// gatewayAPIRepo is a folder of Gateway API manifests, without
// edgectl.yaml, whose one route sends to a Service with the given port.
func gatewayAPIRepo(port string) map[string]string {
	return map[string]string{
		"gateway.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: edgectl
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
`,
		"shop/route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: www, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [www.example.com]
  rules: [{backendRefs: [{name: web, port: ` + port + `}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: ` + port + `}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.1]}]
`,
	}
}

// TestServeGatewayAPI serves what Gateway API manifests compile to, from
// both sources: the bundles of edgectl compile in a directory, and a git
// branch that serve compiles itself, following its next commit.
func TestServeGatewayAPI(t *testing.T) {
	t.Parallel()
	t.Run("bundles", func(t *testing.T) {
		t.Parallel()
		out := filepath.Join(t.TempDir(), "out")
		res := compileFiles(t, gatewayAPIRepo("80"))
		if err := bundle.WriteOutput(out, res.Bundles); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, Options{}, Dir{Path: out})
		eventually(t, "the compiled bundle", func() bool { return s.servedVersion(t, "edge") == digest(res, "edge") })
	})
	t.Run("git", func(t *testing.T) {
		t.Parallel()
		repo := gittest.New(t)
		files1 := gatewayAPIRepo("80")
		commitFiles(repo, "", files1)
		src := Git{URL: "file://" + repo.Dir, Ref: "main", Interval: 100 * time.Millisecond, CacheDir: t.TempDir()}
		s := startServer(t, Options{}, src)
		want1 := digest(compileFiles(t, files1), "edge")
		eventually(t, "the first commit", func() bool { return s.servedVersion(t, "edge") == want1 })
		files2 := gatewayAPIRepo("81")
		commitFiles(repo, "", files2)
		want2 := digest(compileFiles(t, files2), "edge")
		if want2 == want1 {
			t.Fatal("the two commits compile to one digest")
		}
		eventually(t, "the second commit", func() bool { return s.servedVersion(t, "edge") == want2 })
	})
}
