package bundle_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkRead reads and verifies the bundle of a generated repository of
// 10,000 routes, as edgectl serve does when it starts (make load): every
// xDS file parsed from YAML, every resource re-encoded and hashed.
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: 10000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	src, err := source.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{})
	if err != nil || diags.HasErrors() || len(res.Bundles) != 1 {
		b.Fatalf("compile: %v\n%v", err, diags)
	}
	fsys := fstest.MapFS{}
	size := 0
	for _, f := range res.Bundles[0].Files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
		size += len(f.Data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bundle.Read(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
