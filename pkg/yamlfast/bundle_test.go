package yamlfast_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/yamlfast"
)

// TestBundlesTakeTheFastPath holds the YAML edgectl writes to what the fast
// parser reads: every xDS file and bootstrap of compiled bundles, which
// edgectl serve and every bundle reader parse again, takes the fast path.
func TestBundlesTakeTheFastPath(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]map[string][]byte{
		"governed":   first(genrepo.Generate(genrepo.Options{Routes: 300, Governed: true, Security: true, Seed: 1})),
		"gatewayapi": first(genrepo.GenerateGatewayAPI(genrepo.Options{Routes: 300, Seed: 1})),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			for p, data := range files {
				fsys[p] = &fstest.MapFile{Data: data}
			}
			res, diags, err := compile.Compile(context.Background(), &source.Source{FS: fsys}, compile.Options{})
			if err != nil || diags.HasErrors() || len(res.Bundles) == 0 {
				t.Fatalf("compile: %v %v", err, diags)
			}
			read := 0
			for _, b := range res.Bundles {
				for _, f := range b.Files {
					if !strings.HasSuffix(f.Path, ".yaml") {
						continue
					}
					read++
					if _, ok := yamlfast.ParseFast(f.Data); !ok {
						t.Errorf("bundle %s: %s goes to yaml.v3", b.Gateway, f.Path)
					}
				}
			}
			if read < 5 {
				t.Fatalf("only %d YAML files in the bundles", read)
			}
		})
	}
}

func first[T any, U any](t T, _ U) T { return t }
