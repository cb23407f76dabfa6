// Package genrepo writes synthetic routing repositories of a chosen size,
// laid out the way teams lay out real ones, for benchmarks and load tests.
package genrepo

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Options size a repository. N routes spread over N/10 virtual hosts and
// N/5 backends, grouped in teams of about 20 virtual hosts, with one to
// three virtual hosts per file.
type Options struct {
	Routes int
	Seed   uint64
	// Governed adds what a multi-team repository has: teams owning their
	// directories, hostnames, certificates and backends, all seven
	// built-in policies and five repository policies.
	Governed bool
}

// Stats says what was written.
type Stats struct {
	Files, Teams, VirtualHosts, Routes, Backends int
}

// Write generates the repository into dir, which must be empty or absent.
func Write(dir string, opts Options) (Stats, error) {
	files, st := Generate(opts)
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return st, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Generate returns the repository as file contents by path.
func Generate(opts Options) (map[string][]byte, Stats) {
	r := rand.New(rand.NewPCG(opts.Seed, 0x65646765))
	vhosts := max(1, opts.Routes/10)
	backends := max(1, opts.Routes/5)
	teams := max(1, (vhosts+19)/20)
	st := Stats{Teams: teams, VirtualHosts: vhosts, Backends: backends}
	files := map[string][]byte{}

	project := `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: generated}
spec:
  intents: [gateways/**, teams/**]
`
	if opts.Governed {
		project += governance(teams)
		for name, src := range repoPolicies {
			files["policies/"+name+".rego"] = []byte(src)
		}
	}
	files["edgectl.yaml"] = []byte(project)
	files["gateways/edge.yaml"] = []byte(`apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: https, port: 8443, protocol: HTTPS}
  accessLog: {format: json}
  defaults:
    timeout: 15s
    retries: {attempts: 2, on: [connect-failure, reset]}
`)

	// Backends are spread evenly over teams; each team's virtual hosts use
	// only that team's backends.
	teamBackends := make([][]string, teams)
	for b := range backends {
		t := b % teams
		teamBackends[t] = append(teamBackends[t], fmt.Sprintf("t%03d-svc%05d", t, b))
	}
	for t := range teams {
		var sb strings.Builder
		fmt.Fprintf(&sb, "apiVersion: edgectl.dev/v1alpha1\nkind: Certificate\nmetadata: {name: t%03d-wildcard}\nspec:\n  files: {certificateChain: /etc/envoy/tls/t%03d/tls.crt, privateKey: /etc/envoy/tls/t%03d/tls.key}\n", t, t, t)
		for _, name := range teamBackends[t] {
			fmt.Fprintf(&sb, "---\napiVersion: edgectl.dev/v1alpha1\nkind: Backend\nmetadata: {name: %s}\nspec:\n", name)
			fmt.Fprintf(&sb, "  endpoints:\n  - {address: 10.%d.%d.%d, port: 8080}\n  - {address: 10.%d.%d.%d, port: 8080}\n",
				t%250, r.IntN(250), 1+r.IntN(250), t%250, r.IntN(250), 1+r.IntN(250))
			switch r.IntN(4) {
			case 0:
				sb.WriteString("  loadBalancing: LeastRequest\n  healthCheck:\n    http: {path: /healthz}\n")
			case 1:
				sb.WriteString("  protocol: HTTP2\n  circuitBreaker: {maxRequests: 1000}\n")
			case 2:
				sb.WriteString("  outlierDetection: {consecutive5xx: 5}\n")
			}
		}
		files[fmt.Sprintf("teams/t%03d/backends.yaml", t)] = []byte(sb.String())
	}

	routesLeft := opts.Routes
	for v := 0; v < vhosts; {
		t := (v / 20) % teams
		per := 1 + r.IntN(3)
		var sb strings.Builder
		first := v
		for i := 0; i < per && v < vhosts; i, v = i+1, v+1 {
			n := 10
			if v == vhosts-1 {
				n = routesLeft
			}
			routesLeft -= n
			st.Routes += n
			if i > 0 {
				sb.WriteString("---\n")
			}
			writeVHost(&sb, r, t, v, n, teamBackends[t])
		}
		files[fmt.Sprintf("teams/t%03d/vh%05d.yaml", t, first)] = []byte(sb.String())
	}
	st.Files = len(files)
	return files, st
}

func writeVHost(sb *strings.Builder, r *rand.Rand, team, v, routes int, backends []string) {
	fmt.Fprintf(sb, "apiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: vh%05d}\nspec:\n  gateway: edge\n", v)
	fmt.Fprintf(sb, "  hostnames: [svc%05d.t%03d.example.com]\n", v, team)
	if v%2 == 0 {
		fmt.Fprintf(sb, "  tls: {certificate: t%03d-wildcard}\n", team)
	}
	sb.WriteString("  routes:\n")
	pick := func() string { return backends[r.IntN(len(backends))] }
	for i := range routes {
		fmt.Fprintf(sb, "  - name: r%d\n    match:\n", i)
		switch i % 5 {
		case 0:
			fmt.Fprintf(sb, "      path: {exact: /api/v1/resource%d}\n      methods: [GET, HEAD]\n", i)
		case 1:
			fmt.Fprintf(sb, "      path: {regex: \"/api/v2/items%d/[0-9]+\"}\n", i)
		case 2:
			fmt.Fprintf(sb, "      path: {prefix: /api/v3/area%d/}\n      headers:\n      - {name: x-tenant, exact: tenant%d}\n", i, r.IntN(100))
		default:
			fmt.Fprintf(sb, "      path: {prefix: /app%d/}\n", i)
		}
		if i%4 == 1 {
			a, b := pick(), pick()
			if a == b {
				fmt.Fprintf(sb, "    backend: %s\n", a)
			} else {
				fmt.Fprintf(sb, "    backends:\n    - {name: %s, weight: 90}\n    - {name: %s, weight: 10}\n", a, b)
			}
		} else {
			fmt.Fprintf(sb, "    backend: %s\n", pick())
		}
		if i%3 == 0 {
			fmt.Fprintf(sb, "    timeout: %ds\n    retries: {attempts: 3, on: [5xx], perTryTimeout: 500ms}\n", 2+r.IntN(10))
		}
		if i%7 == 0 {
			sb.WriteString("    headers:\n      request:\n        set: {x-edge: generated}\n")
		}
	}
}

// governance is the part of edgectl.yaml a governed repository adds.
func governance(teams int) string {
	var sb strings.Builder
	sb.WriteString("  teams:\n  - {name: platform, platform: true, paths: [gateways/**]}\n")
	for t := range teams {
		fmt.Fprintf(&sb, "  - name: t%03d\n    paths: [teams/t%03d/**]\n    hostnames: [\"*.t%03d.example.com\"]\n    certificates: [t%03d-wildcard]\n    backends: [\"t%03d-*\"]\n", t, t, t, t, t)
	}
	sb.WriteString(`  policies:
    builtin:
      tlsRequired: {hosts: [secure.example.com]}
      maxTimeout: {max: 60s}
      maxRetries: {max: 3}
      wildcardHosts: {teams: [platform]}
      healthChecks: {exclude: ["*"]}
      upstreamTLS: {exclude: ["*"]}
      redirectHosts: {allowed: ["*.example.com"]}
`)
	return sb.String()
}

// repoPolicies are five policies of the kind organisations write.
var repoPolicies = map[string]string{
	"routes": `package org.routes

import rego.v1

deny contains {"msg": "route without a name", "path": ["spec", "routes", i]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	some i, r in input.spec.routes
	not r.name
}
`,
	"naming": `package org.naming

import rego.v1

deny contains "backends are named after their team" if {
	input.kind == "Backend"
	not startswith(input.metadata.name, input.edgectl.team)
}
`,
	"availability": `package org.availability

import rego.v1

violation contains {"msg": "a single endpoint", "path": ["spec", "endpoints"]} if {
	input.kind == "Backend"
	count(input.spec.endpoints) < 2
}
`,
	"headers": `package org.headers

import rego.v1

deny contains {"msg": "x-internal headers stay inside", "path": ["spec", "routes", i]} if {
	input.kind == "VirtualHost"
	some i, r in input.spec.routes
	some name, _ in object.get(r, ["headers", "request", "set"], {})
	startswith(name, "x-internal-")
}
`,
	"paths": `package org.paths

import rego.v1

warn contains {"msg": "admin paths belong on the internal gateway", "path": ["spec", "routes", i, "match"]} if {
	input.kind == "VirtualHost"
	some i, r in input.spec.routes
	startswith(object.get(r, ["match", "path", "prefix"], ""), "/admin")
}
`,
}
