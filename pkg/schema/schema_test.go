package schema

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueyaml "cuelang.org/go/encoding/yaml"
	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/schemas"
)

var (
	compiled = sync.OnceValues(func() (*Schema, error) { return Compile(schemas.Filename, schemas.Source) })
	cueMu    sync.Mutex // the CUE oracle: one context, used serially
	cueCtx   = cuecontext.New()
	cueDefs  = sync.OnceValue(func() cue.Value { return cueCtx.CompileBytes(schemas.Source, cue.Filename(schemas.Filename)) })
)

func mustCompile(t testing.TB) *Schema {
	t.Helper()
	s, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cueAccepts is the oracle: CUE's own YAML decoder and evaluator.
func cueAccepts(t testing.TB, def, src string) (bool, string) {
	cueMu.Lock()
	defer cueMu.Unlock()
	root := cueDefs()
	if err := root.Err(); err != nil {
		t.Fatalf("the schema does not compile with CUE: %v", err)
	}
	d := cueyaml.NewDecoder("doc.yaml", strings.NewReader(src))
	expr, err := d.Extract()
	if err != nil {
		return false, err.Error()
	}
	v := root.LookupPath(cue.ParsePath(def)).Unify(cueCtx.BuildExpr(expr))
	if err := v.Validate(cue.Concrete(true), cue.All()); err != nil {
		return false, err.Error()
	}
	return true, ""
}

func firstDoc(t testing.TB, src string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.NewDecoder(strings.NewReader(src)).Decode(&doc); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc.Content[0]
}

func render(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%d:%d: %s: %s\n", v.Node.Line, v.Node.Column, v.Path, v.Message)
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, def, src, want string
	}{
		{"valid gateway", "#Gateway", `
apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
`, ""},
		{"wrong type and bound", "#Gateway", `
apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: "80", protocol: HTTP}
  - {name: https, port: 70000, protocol: HTTPS}
`, `7:24: spec.listeners[0].port: expected a port number from 1 to 65535, found string "80"
8:25: spec.listeners[1].port: invalid value 70000: must be a port number from 1 to 65535
`},
		{"enum", "#Gateway", `
apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners: [{name: h, port: 1, protocol: HTTP2}]
`, `6:44: spec.listeners[0].protocol: invalid value "HTTP2" (must be one of "HTTP", "HTTPS", "TCP")
`},
		{"unknown field with suggestion", "#VirtualHost", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: shop}
spec:
  gateway: edge
  hostnames: [shop.example.com]
  routes:
  - backend: shop
    retires: {attempts: 2}
`, `10:5: spec.routes[0]: field "retires" is not allowed (did you mean "retries"?)
`},
		{"missing field points at parent", "#VirtualHost", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: shop}
spec:
  hostnames: [shop.example.com]
`, `5:1: spec: missing required field "gateway"
`},
		{"named constraint explains itself", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: Shop_API}
spec:
  endpoints: [{address: 10.0.0.1, port: 80}]
`, `4:18: metadata.name: invalid value "Shop_API": must be a DNS label: lowercase letters, digits and "-", at most 63 characters, not starting with "edgectl-" (kept for the names edgectl generates)
`},
		{"pattern keys", "#VirtualHost", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: shop}
spec:
  gateway: edge
  hostnames: [shop.example.com]
  headers:
    request:
      set: {"x ok": "1", x-fine: "2"}
`, `10:13: spec.headers.request.set: invalid key "x ok": must be an HTTP header name
`},
		{"duplicate key", "#Certificate", `
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: c}
metadata: {name: d}
spec: {ca: {file: /etc/ca.pem}}
`, `5:1: : field "metadata" is set twice (first at line 4)
`},
		{"merge keys and aliases", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: b}
spec:
  endpoints:
  - &ep {address: 10.0.0.1, port: 80}
  - <<: *ep
    port: 81
`, ""},
		{"yaml 1.1 octal reads as a string", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: b}
spec:
  endpoints: [{address: 10.0.0.1, port: 08080}]
`, `6:41: spec.endpoints[0].port: expected a port number from 1 to 65535, found string "08080"
`},
	}
	s := mustCompile(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := render(s.Check(tc.def, firstDoc(t, tc.src)))
			if got != tc.want {
				t.Errorf("violations:\n%s\nwant:\n%s", got, tc.want)
			}
			ok, msg := cueAccepts(t, tc.def, tc.src)
			if ok != (tc.want == "") {
				t.Errorf("CUE disagrees: accepts=%v %s", ok, msg)
			}
		})
	}
}

// kindDef picks the definition the loader would use for a document.
func kindDef(doc *yaml.Node) string {
	if doc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "kind" {
				switch k := doc.Content[i+1].Value; k {
				case "Gateway", "VirtualHost", "Backend", "Certificate", "Project", "RouteTest":
					return "#" + k
				}
			}
		}
	}
	return "#VirtualHost"
}

// expandedSize counts values with aliases expanded; CUE caps expansion, we
// compare only documents well below the cap.
func expandedSize(n *yaml.Node, depth int) int {
	if n == nil || depth > 50 {
		return 1 << 30
	}
	if n.Kind == yaml.AliasNode {
		return expandedSize(n.Alias, depth+1)
	}
	s := 1
	for _, c := range n.Content {
		s += expandedSize(c, depth+1)
		if s > 1<<20 {
			return s
		}
	}
	return s
}

func FuzzAgreesWithCUE(f *testing.F) {
	for _, seed := range seeds {
		f.Add(seed)
	}
	s := mustCompile(f)
	f.Fuzz(func(t *testing.T, src string) {
		var doc yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
		if err := dec.Decode(&doc); err != nil || len(doc.Content) == 0 {
			return
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); err != io.EOF {
			return // the oracle reads one document
		}
		root := doc.Content[0]
		if expandedSize(root, 0) > 20000 {
			return
		}
		def := kindDef(root)
		vs := s.Check(def, root)
		ok, msg := cueAccepts(t, def, src)
		if ok != (len(vs) == 0) {
			t.Fatalf("verdicts differ on %s:\nedgectl: %s\ncue: accepts=%v %s\n%s", def, render(vs), ok, msg, src)
		}
	})
}

// seeds cover every definition, valid and slightly broken.
var seeds = []string{
	`{apiVersion: edgectl.dev/v1alpha1, kind: Gateway, metadata: {name: e}, spec: {listeners: [{name: h, port: 80, protocol: HTTP}], admin: {port: 9901}, accessLog: {format: json, fields: {rid: "%REQ(X-REQUEST-ID)%"}}, trustedProxyHops: 1, xds: {directory: /etc/envoy/xds}, defaults: {timeout: 15s, retries: {attempts: 2, on: [5xx]}}}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: Gateway, metadata: {name: e}, spec: {listeners: [{name: h, port: 443, protocol: HTTPS, tls: {minVersion: "1.2", alpn: [h2]}}]}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: VirtualHost, metadata: {name: v}, spec: {gateway: e, hostnames: ["*.example.com"], tls: {certificate: c}, routes: [{name: r, match: {path: {prefix: /api}, methods: [GET], headers: [{name: x-a, exact: b, invert: true}], query: [{name: q, present: true}]}, backends: [{name: b, weight: 1}], timeout: 1s, retries: {attempts: 3, on: [reset], perTryTimeout: 100ms, statusCodes: [503], backoff: {base: 10ms, max: 1s}}, rewrite: {prefix: /, host: a.example.com}, headers: {request: {set: {x-a: b}, remove: [x-b]}}, mirror: {backend: m, percent: 12.5}, websocket: true, hash: [{header: x-u}, {cookie: {name: s, ttl: 1h}}, {sourceIP: true}]}]}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: VirtualHost, metadata: {name: v}, spec: {gateway: e, hostnames: [a.example.com], routes: [{redirect: {scheme: https, code: 301}}, {respond: {status: 404, body: nope}}]}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: Backend, metadata: {name: b}, spec: {endpoints: [{address: api.internal, port: 443, weight: 2}], protocol: GRPC, loadBalancing: RingHash, tls: {sni: api.internal, ca: ca, clientCertificate: c}, healthCheck: {grpc: {}, interval: 5s}, circuitBreaker: {maxConnections: 100}, outlierDetection: {consecutive5xx: 5, maxEjectionPercent: 50}}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: Certificate, metadata: {name: c}, spec: {files: {certificateChain: /a.crt, privateKey: /a.key}}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: Project, metadata: {name: p}, spec: {intents: ["**/*.yaml"], envoyVersion: "1.32"}}`,
	"apiVersion: edgectl.dev/v1alpha1\nkind: Backend\nmetadata: {name: b}\nspec:\n  endpoints: [{address: x, port: 1.0}]\n",
	"kind: VirtualHost\nspec: {routes: [{match: {path: {prefix: api}}}]}\n",
	`{apiVersion: edgectl.dev/v1alpha1, kind: Project, metadata: {name: p}, spec: {tests: ["tests/**"]}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: RouteTest, metadata: {name: t}, spec: {gateway: edge, team: shop, tests: [{name: "orders split", request: {url: "https://api.example.com/v1/orders", method: POST, headers: {x-beta: "1"}, clientAddress: 203.0.113.7}, expect: {route: orders, virtualHost: api, weights: {api: 95, api-v2: 5.5}, path: /v1/orders, host: api.example.com, requestHeaders: {x-edge: edge, x-debug: null}, responseHeaders: {server: null}}}, {name: r, request: {url: "http://a.example.com/"}, expect: {redirect: {location: "https://a.example.com/", code: 301}}}, {name: d, request: {url: "/x"}, expect: {respond: {status: 404, body: ""}, noRoute: false}}]}}`,
	`{apiVersion: edgectl.dev/v1alpha1, kind: RouteTest, metadata: {name: t}, spec: {tests: [{name: "", request: {method: get}, expect: {weights: {a: -1}, redirect: {code: 200}, requestHeaders: {"bad name": x}}}]}}`,
	"[1, 2]\n",
}

func TestSeedsAgreeWithCUE(t *testing.T) {
	t.Parallel()
	s := mustCompile(t)
	for i, src := range seeds {
		root := firstDoc(t, src)
		def := kindDef(root)
		vs := s.Check(def, root)
		ok, msg := cueAccepts(t, def, src)
		if ok != (len(vs) == 0) {
			t.Errorf("seed %d: verdicts differ: edgectl %s; cue accepts=%v %s", i, render(vs), ok, msg)
		}
	}
}

// TestAliasLimit checks the limit on what a document's aliases stand for:
// a document whose aliases expand beyond it gets one finding that says so,
// and nothing else, wherever the count runs out (here inside header
// conditions, whose valid names must not be called invalid).
func TestAliasLimit(t *testing.T) {
	t.Parallel()
	s := mustCompile(t)
	want := fmt.Sprintf("document is too large: its YAML aliases expand beyond %d values", MaxAliasValues)
	for _, tc := range []struct{ headers, routes int }{{1000, 400}, {997, 400}, {1001, 353}, {250, 5000}, {3, 200000}} {
		t.Run(fmt.Sprintf("%dx%d", tc.routes, tc.headers), func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			b.WriteString("apiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: v}\nspec:\n  gateway: e\n  hostnames: [a.example.com]\n  routes:\n")
			b.WriteString("  - &r\n    backend: b\n    match:\n      path: {prefix: /a}\n      headers:\n      - &h {name: x-tenant, exact: \"1\"}\n")
			for range tc.headers - 1 {
				b.WriteString("      - *h\n")
			}
			for range tc.routes - 1 {
				b.WriteString("  - *r\n")
			}
			vs := s.Check("#VirtualHost", firstDoc(t, b.String()))
			if len(vs) != 1 || vs[0].Message != want {
				t.Fatalf("violations:\n%s\nwant only: %s", render(vs), want)
			}
		})
	}
}

// TestLargeDocument checks that a document without aliases is not limited
// by MaxAliasValues, however many values it has.
func TestLargeDocument(t *testing.T) {
	t.Parallel()
	s := mustCompile(t)
	var b strings.Builder
	b.WriteString("apiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: v}\nspec:\n  gateway: e\n  hostnames: [a.example.com]\n  routes:\n")
	const routes = 60000
	for i := range routes {
		fmt.Fprintf(&b, "  - {name: r%d, backend: b, match: {path: {prefix: /a%d/}, methods: [GET], headers: [{name: x-tenant, exact: \"1\"}]}}\n", i, i)
	}
	doc := firstDoc(t, b.String())
	if n := expandedSize(doc, 0); n <= MaxAliasValues {
		t.Fatalf("the document has %d values, not more than %d", n, MaxAliasValues)
	}
	if vs := s.Check("#VirtualHost", doc); len(vs) != 0 {
		t.Fatalf("violations:\n%s", render(vs[:min(len(vs), 5)]))
	}
}
