package compile

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edgectl/edgectl/pkg/source"
)

// FuzzCompile feeds arbitrary bytes as an intent file through the whole
// pipeline. Whatever the input, the answer is diagnostics with positions in
// the file, never a panic or an internal error, and a repository without
// errors always yields its bundles.
func FuzzCompile(f *testing.F) {
	archives, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, file := range archives {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if strings.HasSuffix(af.Name, ".yaml") && af.Name != "edgectl.yaml" && !strings.HasPrefix(af.Name, "want/") {
				f.Add(af.Data)
			}
		}
	}
	project := []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: fuzz}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"edgectl.yaml": {Data: project},
			"intents.yaml": {Data: data},
		}
		res, diags, err := Compile(context.Background(), &source.Source{FS: fsys}, Options{Workers: 1})
		if err != nil {
			t.Fatalf("internal error: %v\ninput:\n%s", err, data)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, d := range diags {
			if d.Pos.File == "intents.yaml" && d.Pos.Line > lines {
				t.Errorf("finding beyond the end of the file (%d lines): %s", lines, d)
			}
		}
		if !diags.HasErrors() && len(res.Bundles) != len(res.Gateways) {
			t.Errorf("%d gateways but %d bundles", len(res.Gateways), len(res.Bundles))
		}
	})
}
