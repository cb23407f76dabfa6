package compile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/source"
)

// updateGolden names the environment variable that rewrites golden files.
// It is an environment variable, not a flag, so `go test ./...` works in
// every package.
const updateGolden = "EDGECTL_UPDATE_GOLDEN"

var testMeta = Options{Edgectl: bundle.BuildInfo{Version: "test", EnvoyAPI: "test"}}

// TestGolden compiles every testdata/golden/*.txtar. An archive holds a
// repository (every file outside want/) and the expected result:
// want/diagnostics, then the bundle files as want/<gateway>/<path>. Every
// xds/ file is compared; other bundle files (bootstraps, manifest) only when
// the archive lists them. With EDGECTL_UPDATE_GOLDEN=1 the want/ sections
// are rewritten from the actual result.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
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
			fsys := fstest.MapFS{}
			var listed []string
			for _, f := range ar.Files {
				if name, ok := strings.CutPrefix(f.Name, "want/"); ok {
					listed = append(listed, name)
					continue
				}
				fsys[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			if strings.TrimSpace(string(ar.Comment)) == "" {
				t.Errorf("%s: the comment must say what the case shows", file)
			}
			got := compileGolden(t, fsys, listed)
			if os.Getenv(updateGolden) != "" {
				writeGolden(t, file, ar, got)
				return
			}
			want := map[string]string{}
			for _, f := range ar.Files {
				if name, ok := strings.CutPrefix(f.Name, "want/"); ok {
					want[name] = string(f.Data)
				}
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

// compileGolden compiles fsys and renders the result as want/ sections.
func compileGolden(t *testing.T, fsys fstest.MapFS, listed []string) map[string]string {
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
	for _, b := range res.Bundles {
		for _, f := range b.Files {
			name := b.Gateway + "/" + f.Path
			if strings.HasPrefix(f.Path, bundle.XDSDir+"/") || slices.Contains(listed, name) {
				got[name] = string(f.Data)
			}
		}
	}
	return got
}

func writeGolden(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	var files []txtar.File
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") {
			files = append(files, f)
		}
	}
	for _, name := range sortedKeys(got, nil) {
		files = append(files, txtar.File{Name: "want/" + name, Data: []byte(got[name])})
	}
	ar.Files = files
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	// Diagnostics first, then files in path order.
	slices.SortFunc(out, func(x, y string) int {
		if (x == "diagnostics") != (y == "diagnostics") {
			if x == "diagnostics" {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	return out
}
