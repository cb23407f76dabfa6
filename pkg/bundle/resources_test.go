package bundle_test

import (
	"context"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// TestResourcesRoundTrip compiles the example, writes the bundle, reads it
// back, and gets the very resources the compiler made.
func TestResourcesRoundTrip(t *testing.T) {
	t.Parallel()
	src := &source.Source{FS: os.DirFS("../../examples/acme")}
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	dir := t.TempDir()
	if err := bundle.WriteOutput(dir, res.Bundles); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Read(os.DirFS(dir + "/edge"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Resources()
	if err != nil {
		t.Fatal(err)
	}
	want := res.Resources[0]
	check := func(kind string, n int, eq func(i int) bool) {
		for i := range n {
			if !eq(i) {
				t.Errorf("%s %d differs after the round trip", kind, i)
			}
		}
	}
	if len(got.Listeners) != len(want.Listeners) || len(got.Routes) != len(want.Routes) || len(got.Clusters) != len(want.Clusters) || len(got.Secrets) != len(want.Secrets) {
		t.Fatalf("counts differ: %d/%d/%d/%d", len(got.Listeners), len(got.Routes), len(got.Clusters), len(got.Secrets))
	}
	check("listener", len(got.Listeners), func(i int) bool { return proto.Equal(got.Listeners[i], want.Listeners[i]) })
	check("route configuration", len(got.Routes), func(i int) bool { return proto.Equal(got.Routes[i], want.Routes[i]) })
	check("cluster", len(got.Clusters), func(i int) bool { return proto.Equal(got.Clusters[i], want.Clusters[i]) })
	check("secret", len(got.Secrets), func(i int) bool { return proto.Equal(got.Secrets[i], want.Secrets[i]) })
	if _, err := b.Bootstrap(bundle.FilesBootstrapFile); err != nil {
		t.Error(err)
	}
}
