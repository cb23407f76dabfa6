package gatewayapi

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzLower reads any file as manifests and lowers them. It must never
// panic, and whenever it reports no error the IR must hold the invariants
// translation relies on: an invalid IR from valid input is a bug.
func FuzzLower(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/gatewayapi/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var all bytes.Buffer
		for _, af := range ar.Files {
			if strings.HasSuffix(af.Name, ".yaml") && !strings.HasPrefix(af.Name, "want/") && af.Name != "edgectl.yaml" {
				all.WriteString("---\n")
				all.Write(af.Data)
			}
		}
		f.Add(all.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, diags, err := Load(fstest.MapFS{"in.yaml": {Data: data}}, Options{Workers: 1})
		if err != nil || diags.HasErrors() {
			return
		}
		res, diags := Lower(set, nil)
		if diags.HasErrors() {
			return
		}
		for _, g := range res.Gateways {
			if err := g.Validate(); err != nil {
				t.Fatalf("valid input, invalid IR: %v", err)
			}
		}
	})
}
