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
func BenchmarkCompile(b *testing.B) {
	for _, routes := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", routes), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := genrepo.Write(dir, genrepo.Options{Routes: routes, Seed: 1}); err != nil {
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
