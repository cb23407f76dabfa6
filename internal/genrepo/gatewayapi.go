package genrepo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Dialects genrepo writes.
const (
	Edgectl    = "edgectl"
	GatewayAPI = "gatewayapi"
)

// WriteGatewayAPI writes GenerateGatewayAPI's directory into dir.
func WriteGatewayAPI(dir string, opts Options) (Stats, error) {
	files, st := GenerateGatewayAPI(opts)
	return st, writeFiles(dir, files)
}

// gatewayAPITeams is how many namespaces the generated routes spread over.
const gatewayAPITeams = 10

// GenerateGatewayAPI returns a directory of Gateway API manifests and no
// edgectl.yaml: one GatewayClass, one Gateway listening on HTTP :80 and
// HTTPS :443 (*.example.com), N HTTPRoutes over N/10 hostnames in ten
// namespaces, and one Service each (no EndpointSlices: the clusters take
// their endpoints from Kubernetes, through edgectl serve). A file holds
// the routes of one hostname.
func GenerateGatewayAPI(opts Options) (map[string][]byte, Stats) {
	r := rand.New(rand.NewPCG(opts.Seed, 0x67617465))
	routes := max(1, opts.Routes)
	hosts := max(1, routes/10)
	if opts.VirtualHosts > 0 {
		hosts = min(opts.VirtualHosts, routes)
	}
	files := map[string][]byte{}
	files["gateway.yaml"] = []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: edgectl
spec:
  controllerName: edgectl.dev/gateway
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: infra
spec:
  gatewayClassName: edgectl
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: All
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls:
      certificateRefs:
      - name: wildcard-example-com
    allowedRoutes:
      namespaces:
        from: All
`)
	st := Stats{Files: 1, Teams: min(gatewayAPITeams, hosts), VirtualHosts: hosts, Routes: routes, Backends: routes}
	per, extra := routes/hosts, routes%hosts
	next := 0
	for h := range hosts {
		n := per
		if h < extra {
			n++
		}
		ns := fmt.Sprintf("team-%d", h%gatewayAPITeams)
		host := fmt.Sprintf("h%d.example.com", h)
		var sb strings.Builder
		for j := range n {
			i := next + j
			writeHTTPRoute(&sb, r, ns, host, i, j)
			writeService(&sb, ns, i)
		}
		next += n
		files[fmt.Sprintf("%s/host-%d.yaml", ns, h)] = []byte(sb.String())
		st.Files++
	}
	return files, st
}

func writeHTTPRoute(sb *strings.Builder, r *rand.Rand, ns, host string, i, j int) {
	fmt.Fprintf(sb, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%d
  namespace: %s
spec:
  parentRefs:
  - name: edge
    namespace: infra
  hostnames:
  - %s
  rules:
  - matches:
`, i, ns, host)
	switch r.IntN(4) {
	case 0:
		fmt.Fprintf(sb, "    - path:\n        type: Exact\n        value: /v%d/items\n", j)
	case 1:
		fmt.Fprintf(sb, "    - path:\n        type: PathPrefix\n        value: /v%d\n      headers:\n      - name: x-canary\n        value: \"true\"\n", j)
	case 2:
		fmt.Fprintf(sb, "    - path:\n        type: PathPrefix\n        value: /v%d/api\n      method: POST\n", j)
	default:
		fmt.Fprintf(sb, "    - path:\n        type: PathPrefix\n        value: /v%d\n", j)
	}
	fmt.Fprintf(sb, `    backendRefs:
    - name: svc-%d
      port: 80
`, i)
	if r.IntN(5) == 0 {
		sb.WriteString(`    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - name: x-route
          value: generated
`)
	}
}

func writeService(sb *strings.Builder, ns string, i int) {
	fmt.Fprintf(sb, `---
apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: %s
spec:
  ports:
  - name: http
    port: 80
    targetPort: 8080
`, i, ns)
}
