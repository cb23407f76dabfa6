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

// Options size a repository. N routes spread evenly over N/10 virtual
// hosts (or VirtualHosts) and N/5 backends, grouped in teams of about 20
// virtual hosts, with one to three virtual hosts per file (or Files files).
type Options struct {
	Routes int
	Seed   uint64
	// VirtualHosts, when set, is the number of virtual hosts; 1 puts every
	// route in one virtual host.
	VirtualHosts int
	// Files, when set, is the number of files that hold the routes. With
	// fewer files than virtual hosts, consecutive virtual hosts share a
	// file; with more, each virtual host keeps a share of its routes and
	// includes the rest from route sets, one file each.
	Files int
	// Governed adds what a multi-team repository has: teams owning their
	// directories, hostnames, certificates and backends, all seven
	// built-in policies and five repository policies.
	Governed bool
	// Security adds an AuthProvider, an AuthService and a
	// RateLimitService, owned by the platform, and a security block (JWT,
	// external authorization, a local and a global rate limit) on every
	// virtual host.
	Security bool
}

// Stats says what was written.
type Stats struct {
	Files, Teams, VirtualHosts, Routes, Backends int
}

// Write generates the repository into dir, which must be empty or absent.
func Write(dir string, opts Options) (Stats, error) {
	files, st := Generate(opts)
	return st, writeFiles(dir, files)
}

// writeFiles writes files, by slash-separated path, into dir.
func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Generate returns the repository as file contents by path.
func Generate(opts Options) (map[string][]byte, Stats) {
	r := rand.New(rand.NewPCG(opts.Seed, 0x65646765))
	routes := max(1, opts.Routes)
	vhosts := max(1, routes/10)
	if opts.VirtualHosts > 0 {
		vhosts = min(opts.VirtualHosts, routes)
	}
	backends := max(1, routes/5)
	teams := max(1, (vhosts+19)/20)
	nf := min(opts.Files, routes) // files, when chosen
	if nf > 0 {
		teams = min(teams, nf)
	}
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
	security := ""
	if opts.Security {
		files["gateways/security.yaml"] = []byte(securityDefinitions)
		security = vhostSecurity(opts.Governed)
	}
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

	// share splits n items evenly over k parts: the size of part i.
	share := func(n, k, i int) int { return n/k + btoi(i < n%k) }
	first := 0 // the index of the first route of the next virtual host
	if nf <= 0 {
		for v := 0; v < vhosts; {
			t := (v / 20) % teams
			per := 1 + r.IntN(3)
			var sb strings.Builder
			firstVH := v
			for i := 0; i < per && v < vhosts; i, v = i+1, v+1 {
				n := share(routes, vhosts, v)
				if i > 0 {
					sb.WriteString("---\n")
				}
				writeVHost(&sb, r, t, v, first, n, nil, teamBackends[t], security)
				first += n
			}
			files[fmt.Sprintf("teams/t%03d/vh%05d.yaml", t, firstVH)] = []byte(sb.String())
		}
	} else {
		// File f belongs to team f*teams/F; a virtual host to the team of
		// its first file, and every file of it lies in that team's directory.
		teamOf := func(f int) int { return f * teams / nf }
		if nf <= vhosts {
			v := 0
			for f := range nf {
				t := teamOf(f)
				var sb strings.Builder
				for i := range share(vhosts, nf, f) {
					n := share(routes, vhosts, v)
					if i > 0 {
						sb.WriteString("---\n")
					}
					writeVHost(&sb, r, t, v, first, n, nil, teamBackends[t], security)
					first += n
					v++
				}
				files[fmt.Sprintf("teams/t%03d/f%05d.yaml", t, f)] = []byte(sb.String())
			}
		} else {
			f := 0
			for v := range vhosts {
				t := teamOf(f)
				parts := share(nf, vhosts, v)
				n := share(routes, vhosts, v)
				var sets []string
				at := first + share(n, parts, 0)
				for p := 1; p < parts; p++ {
					name := fmt.Sprintf("vh%05d-part%05d", v, p)
					sets = append(sets, name)
					var sb strings.Builder
					k := share(n, parts, p)
					writeRouteSet(&sb, r, name, at, k, teamBackends[t])
					at += k
					files[fmt.Sprintf("teams/t%03d/f%05d.yaml", t, f+p)] = []byte(sb.String())
				}
				var sb strings.Builder
				writeVHost(&sb, r, t, v, first, share(n, parts, 0), sets, teamBackends[t], security)
				files[fmt.Sprintf("teams/t%03d/f%05d.yaml", t, f)] = []byte(sb.String())
				first += n
				f += parts
			}
		}
	}
	st.Routes = first
	st.Files = len(files)
	return files, st
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeVHost writes virtual host v with routes first..first+n-1 and
// includes of the named route sets, and security, the virtual host's
// security block (vhostSecurity) or nothing.
func writeVHost(sb *strings.Builder, r *rand.Rand, team, v, first, n int, sets []string, backends []string, security string) {
	fmt.Fprintf(sb, "apiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: vh%05d}\nspec:\n  gateway: edge\n", v)
	fmt.Fprintf(sb, "  hostnames: [svc%05d.t%03d.example.com]\n", v, team)
	if v%2 == 0 {
		fmt.Fprintf(sb, "  tls: {certificate: t%03d-wildcard}\n", team)
	}
	sb.WriteString(security)
	writeRoutes(sb, r, first, n, backends)
	if len(sets) > 0 {
		sb.WriteString("  includes:\n")
		for _, s := range sets {
			fmt.Fprintf(sb, "  - routeSet: %s\n", s)
		}
	}
}

func writeRouteSet(sb *strings.Builder, r *rand.Rand, name string, first, n int, backends []string) {
	fmt.Fprintf(sb, "apiVersion: edgectl.dev/v1alpha1\nkind: RouteSet\nmetadata: {name: %s}\nspec:\n", name)
	writeRoutes(sb, r, first, n, backends)
}

// writeRoutes writes routes first..first+n-1 of a virtual host. Every
// route's path is its own, so none conflicts with or shadows another.
func writeRoutes(sb *strings.Builder, r *rand.Rand, first, n int, backends []string) {
	if n == 0 {
		return
	}
	sb.WriteString("  routes:\n")
	pick := func() string { return backends[r.IntN(len(backends))] }
	for i := first; i < first+n; i++ {
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

// securityDefinitions are the platform's shared definitions, and the
// backends they reach, for Options.Security. The backends are named and
// sized so that the repository policies of a governed repository pass.
const securityDefinitions = `apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: platform-idp}
spec:
  endpoints:
  - {address: 10.255.0.1, port: 8080}
  - {address: 10.255.0.2, port: 8080}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: platform-authz}
spec:
  protocol: GRPC
  endpoints:
  - {address: 10.255.1.1, port: 9000}
  - {address: 10.255.1.2, port: 9000}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: platform-ratelimit}
spec:
  protocol: GRPC
  endpoints:
  - {address: 10.255.2.1, port: 8081}
  - {address: 10.255.2.2, port: 8081}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthProvider
metadata: {name: idp}
spec:
  issuer: https://idp.example.com
  audiences: [example.com]
  jwks:
    remote: {backend: platform-idp, uri: http://idp.example.com/jwks.json, cacheDuration: 10m}
  claimsToHeaders:
  - {claim: sub, header: x-user-id}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthService
metadata: {name: authz}
spec:
  grpc: {backend: platform-authz}
  timeout: 250ms
---
apiVersion: edgectl.dev/v1alpha1
kind: RateLimitService
metadata: {name: global}
spec:
  backend: platform-ratelimit
  domain: edge
  timeout: 50ms
  failOpen: true
`

// vhostSecurity is the security block of every virtual host for
// Options.Security. The hourly limit counts by team where there are teams,
// and one count for all where there are none.
func vhostSecurity(governed bool) string {
	by := "{genericKey: all}"
	if governed {
		by = "{team: true}"
	}
	return `  security:
    jwt: {providers: [idp]}
    extAuth: {service: authz}
    localRateLimit: {requests: 100, per: 1s, by: {clientIP: true}}
    rateLimit:
      service: global
      limits:
      - {requests: 1000, unit: minute, by: [{clientIP: true}]}
      - {requests: 100000, unit: hour, by: [` + by + `]}
`
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
