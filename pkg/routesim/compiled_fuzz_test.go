package routesim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// FuzzCompiledRoutes compiles random repositories (a gateway, backends and
// virtual hosts whose routes match on paths, headers and query parameters)
// and holds the simulator, on the route configurations edgectl emits, to
// the linear reference of FuzzRoute: the same virtual host and route for
// random requests. It also sends each route's Probe: the route itself, or
// one before it, must take it.
func FuzzCompiledRoutes(f *testing.F) {
	for _, seed := range []string{
		"", "\x01\x02\x03", strings.Repeat("\x02\x05\x01\x07\x03", 30),
		strings.Repeat("\x09\x04\x00\x02\x08\x01\x06", 40), strings.Repeat("\xfe\x13\x37\x42", 50),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &dice{b: data}
		files := randomRepo(d)
		fsys := fstest.MapFS{}
		for name, text := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(text)}
		}
		res, diags, err := compile.Compile(context.Background(), &source.Source{FS: fsys}, compile.Options{Workers: 1, ResourcesOnly: true})
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		if diags.HasErrors() || len(res.Resources) == 0 {
			return // conflicting routes, as a random repository may have
		}
		for _, rc := range res.Resources[0].Routes {
			r, err := NewRouter(rc)
			if err != nil {
				t.Fatalf("a compiled route configuration does not load: %v", err)
			}
			at := func(res *Result) string { return fmt.Sprintf("vhost=%q route=%d", res.VirtualHost, res.RouteIndex) }
			for _, vh := range rc.VirtualHosts {
				for i, rt := range vh.Routes {
					req, ok := Probe(vh, rt)
					if !ok {
						continue
					}
					got := r.Route(req)
					if got.VirtualHost != vh.Name || got.RouteIndex < 0 || got.RouteIndex > i {
						t.Fatalf("the probe %s of route %d of %s is taken by %s", req, i, vh.Name, at(got))
					}
					if want := strings.Split(ref(rc, req), " action=")[0]; at(got) != want {
						t.Fatalf("probe %s: simulator %s, reference %s", req, at(got), want)
					}
				}
			}
			for range 8 {
				req := &Request{Authority: d.pick(repoHosts), Path: d.pick(repoPaths), Random: uint64(d.n(256))}
				for k := d.n(3); k > 0; k-- {
					req.Headers = append(req.Headers, Header{Name: d.pick(repoHeaders), Value: d.pick(repoValues)})
				}
				got := r.Route(req)
				if want := strings.Split(ref(rc, req), " action=")[0]; at(got) != want {
					t.Fatalf("request %s: simulator %s, reference %s\n%s", req, at(got), want, files["hosts.yaml"])
				}
			}
		}
	})
}

var (
	repoHosts   = []string{"a.example.com", "b.example.com", "c.example.com", "x.example.com", "A.EXAMPLE.COM", "other.org"}
	repoPaths   = []string{"/", "/a", "/a/", "/a/b", "/ab", "/b/1", "/b/12", "/a?q=1", "/a/b?q=2&r=1", "/c", "/C", "/b/x"}
	repoHeaders = []string{"x-a", "x-b"}
	repoValues  = []string{"1", "2", "12", ""}
)

// randomRepo writes a repository from the dice: one gateway with a plain
// HTTP listener, three backends, and up to three virtual hosts of up to
// six routes each.
func randomRepo(d *dice) map[string]string {
	files := map[string]string{
		"edgectl.yaml": "apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: fuzz}\n",
		"gateway.yaml": "apiVersion: edgectl.dev/v1alpha1\nkind: Gateway\nmetadata: {name: edge}\nspec:\n  listeners:\n    - {name: http, port: 8080, protocol: HTTP}\n",
	}
	var b strings.Builder
	for _, name := range []string{"one", "two", "three"} {
		fmt.Fprintf(&b, "---\napiVersion: edgectl.dev/v1alpha1\nkind: Backend\nmetadata: {name: %s}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n", name)
	}
	hostSets := [][]string{{`"a.example.com"`}, {`"*.example.com"`}, {`"b.example.com"`, `"c.example.com"`}}
	for v := range 1 + d.n(3) {
		fmt.Fprintf(&b, "---\napiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata: {name: vh%d}\nspec:\n  gateway: edge\n  hostnames: [%s]\n  routes:\n", v, strings.Join(hostSets[v], ", "))
		seen := map[string]bool{}
		for i := range 1 + d.n(6) {
			var m strings.Builder
			switch d.n(3) {
			case 0:
				fmt.Fprintf(&m, "        path: {prefix: %q}\n", d.pick([]string{"/", "/a", "/a/", "/b/", "/c"}))
			case 1:
				fmt.Fprintf(&m, "        path: {exact: %q}\n", d.pick([]string{"/a", "/a/b", "/c", "/"}))
			default:
				fmt.Fprintf(&m, "        path: {regex: %q}\n", d.pick([]string{"/b/[0-9]+", "/a(/.*)?", "/[a-c]"}))
			}
			if k := d.n(3); k > 0 {
				m.WriteString("        headers:\n")
				for j := range k {
					name := repoHeaders[j]
					switch d.n(4) {
					case 0:
						fmt.Fprintf(&m, "          - {name: %s, exact: %q}\n", name, d.pick([]string{"1", "2"}))
					case 1:
						fmt.Fprintf(&m, "          - {name: %s, prefix: \"1\"}\n", name)
					case 2:
						fmt.Fprintf(&m, "          - {name: %s, present: true}\n", name)
					default:
						fmt.Fprintf(&m, "          - {name: %s, present: true, invert: true}\n", name)
					}
				}
			}
			if d.n(4) == 0 {
				m.WriteString("        query: [{name: q, exact: \"1\"}]\n")
			}
			if seen[m.String()] {
				continue // the same match twice is an error edgectl reports
			}
			seen[m.String()] = true
			fmt.Fprintf(&b, "    - name: r%d\n      match:\n%s", i, m.String())
			if d.n(3) == 0 {
				b.WriteString("      backends: [{name: one, weight: 30}, {name: two, weight: 70}]\n")
			} else {
				fmt.Fprintf(&b, "      backend: %s\n", d.pick([]string{"one", "two", "three"}))
			}
		}
	}
	files["hosts.yaml"] = b.String()
	return files
}
