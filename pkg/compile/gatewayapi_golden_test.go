package compile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/source"
)

// TestGatewayAPIGolden compiles every testdata/gatewayapi/*.txtar at the
// repository root: Gateway API manifests without edgectl.yaml. The want/
// sections are the diagnostics, the status a controller would set
// (want/status), what the route simulator does with each line of the
// archive's requests file (want/requests: "GATEWAY METHOD URL [NAME=VALUE
// ...]"), and any bundle file the archive lists. EDGECTL_UPDATE_GOLDEN=1
// rewrites them.
func TestGatewayAPIGolden(t *testing.T) {
	files, err := filepath.Glob("../../testdata/gatewayapi/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(ar.Comment)) == "" {
				t.Errorf("%s: the comment must say what the case shows", file)
			}
			fsys := fstest.MapFS{}
			var listed []string
			var requests string
			want := map[string]string{}
			for _, f := range ar.Files {
				switch name, ok := strings.CutPrefix(f.Name, "want/"); {
				case ok:
					listed = append(listed, name)
					want[name] = string(f.Data)
				case f.Name == "requests":
					requests = string(f.Data)
				default:
					fsys[f.Name] = &fstest.MapFile{Data: f.Data}
				}
			}
			got := compileGatewayAPIGolden(t, fsys, listed, requests)
			if os.Getenv(updateGolden) != "" {
				writeGolden(t, file, ar, got)
				return
			}
			for _, name := range sortedKeys(got, want) {
				g, gok := got[name]
				w, wok := want[name]
				switch {
				case !wok:
					t.Errorf("want/%s: missing from the golden file (run with %s=1)", name, updateGolden)
				case !gok:
					t.Errorf("want/%s: not produced", name)
				case g != w:
					t.Errorf("want/%s differs:\n--- got\n%s\n--- want\n%s", name, g, w)
				}
			}
		})
	}
}

func compileGatewayAPIGolden(t *testing.T, fsys fstest.MapFS, listed []string, requests string) map[string]string {
	t.Helper()
	res, diags, err := Compile(context.Background(), &source.Source{FS: fsys}, testMeta)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	for _, d := range diags {
		if !diag.Known(d.Rule) && !strings.Contains(d.Rule, ".") { // policy rules are package.rule
			t.Errorf("rule %q is not in the catalogue (pkg/diag/rules.go)", d.Rule)
		}
	}
	var text bytes.Buffer
	if err := diag.Write(&text, diags, "text", diag.Tool{}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"diagnostics": text.String()}
	if diags.HasErrors() && len(res.Bundles) > 0 {
		t.Errorf("bundles produced despite errors")
	}
	if res.GatewayStatus != nil {
		var status bytes.Buffer
		if err := res.GatewayStatus.WriteYAML(&status); err != nil {
			t.Fatal(err)
		}
		got["status"] = status.String()
	}
	for _, b := range res.Bundles {
		for _, f := range b.Files {
			if name := b.Gateway + "/" + f.Path; slices.Contains(listed, name) {
				got[name] = string(f.Data)
			}
		}
	}
	if strings.TrimSpace(requests) != "" {
		got["requests"] = simulate(t, res, requests)
	}
	return got
}

// simulate routes each request line through the compiled gateway it
// names and says what Envoy does with it.
func simulate(t *testing.T, res *Result, requests string) string {
	t.Helper()
	sims := map[string]*routesim.Gateway{}
	for i, g := range res.Gateways {
		if i < len(res.Resources) {
			sim, err := routesim.NewGateway(res.Resources[i])
			if err != nil {
				t.Fatalf("simulate gateway %s: %v", g.Name, err)
			}
			sims[g.Name] = sim
		}
	}
	var out strings.Builder
	for line := range strings.Lines(requests) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			t.Fatalf("request %q: want GATEWAY METHOD URL [NAME=VALUE ...]", line)
		}
		sim := sims[fields[0]]
		if sim == nil {
			fmt.Fprintf(&out, "%s -> no bundle\n", line)
			continue
		}
		req, err := routesim.ParseURL(fields[1], fields[2])
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range fields[3:] {
			name, value, _ := strings.Cut(h, "=")
			req.Headers = append(req.Headers, routesim.Header{Name: name, Value: value})
		}
		r := sim.Route(req)
		outcome := r.Outcome(req)
		if r.Route != "" {
			outcome += " (" + r.Route + ")"
		}
		fmt.Fprintf(&out, "%s -> %s\n", line, outcome)
	}
	return out.String()
}

// TestGatewayAPIDeterministic compiles a generated directory of Gateway
// API manifests with one worker and with several: the bundles are the
// same bytes, whatever the order files were read and decoded in.
func TestGatewayAPIDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := genrepo.WriteGatewayAPI(dir, genrepo.Options{Routes: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	src, err := source.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, workers := range []int{1, 4} {
		res, diags, err := Compile(context.Background(), src, Options{Workers: workers})
		if err != nil || diags.HasErrors() || len(res.Bundles) != 1 {
			t.Fatalf("compile: %v %v", err, diags)
		}
		digests = append(digests, res.Bundles[0].Digest)
	}
	if digests[0] != digests[1] {
		t.Errorf("digests differ: %s and %s", digests[0], digests[1])
	}
}
