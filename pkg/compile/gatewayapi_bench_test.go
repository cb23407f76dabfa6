package compile

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkCompileGatewayAPI validates and compiles generated Gateway API
// directories (hack/genrepo -dialect gatewayapi) from disk. Target
// (docs/gateway-api.md): 10,000 HTTPRoutes in 1.5 s and 300 MB on two
// cores, growing linearly.
func BenchmarkCompileGatewayAPI(b *testing.B) {
	for _, routes := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("httproutes=%d", routes), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := genrepo.WriteGatewayAPI(dir, genrepo.Options{Routes: routes, Seed: 1}); err != nil {
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
