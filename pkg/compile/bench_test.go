package compile

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkCompile validates and compiles generated repositories from disk,
// the whole pipeline short of writing the output. hack/bench.sh reports it
// with peak memory of the real binary.
//
// The governed variants add teams, ownership checks and twelve policies;
// their cost is the difference between the two.
func BenchmarkCompile(b *testing.B) {
	for _, bc := range []struct {
		routes   int
		governed bool
	}{{1000, false}, {10000, false}, {1000, true}, {10000, true}} {
		name := fmt.Sprintf("routes=%d", bc.routes)
		if bc.governed {
			name += "/governed"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			if _, err := genrepo.Write(dir, genrepo.Options{Routes: bc.routes, Seed: 1, Governed: bc.governed}); err != nil {
				b.Fatal(err)
			}
			src, err := source.Dir(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, diags, err := Compile(context.Background(), src, Options{})
				if err != nil || diags.HasErrors() || len(res.Bundles) != 1 {
					b.Fatalf("compile: %v\n%v", err, diags)
				}
			}
		})
	}
}
