package diff

import (
	"context"
	"os"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// TestSnapshotRoundTrip holds the cache to its promise: a version read back
// from the cache is the version compiled, field for field, and compares
// equal to it. The showcase has what a lossy encoding drops (a zero
// timeout, "none", is not an unset one).
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	generated := t.TempDir()
	if _, err := genrepo.Write(generated, genrepo.Options{Routes: 300, Governed: true}); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"acme": "../../examples/acme", "generated": generated} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, diags, err := compile.Compile(context.Background(), &source.Source{FS: os.DirFS(dir)}, compile.Options{ResourcesOnly: true})
			if err != nil || diags.HasErrors() {
				t.Fatal(err, diags)
			}
			snap := &Snapshot{Gateways: map[string]*Gateway{}, Diags: diags}
			for i, g := range res.Gateways {
				snap.Gateways[g.Name] = &Gateway{IR: g, Resources: res.Resources[i], Bootstrap: res.Bootstraps[i]}
			}
			data, err := snap.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeSnapshot(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Diags, snap.Diags) {
				t.Error("findings differ after the round trip")
			}
			for name, g := range snap.Gateways {
				b := back.Gateways[name]
				if b == nil {
					t.Fatalf("gateway %s lost", name)
				}
				if !reflect.DeepEqual(b.IR, g.IR) {
					t.Errorf("gateway %s: IR differs after the round trip", name)
				}
				if !proto.Equal(b.Bootstrap, g.Bootstrap) {
					t.Errorf("gateway %s: bootstrap differs", name)
				}
				for i := range g.Resources.Routes {
					if !proto.Equal(b.Resources.Routes[i], g.Resources.Routes[i]) {
						t.Errorf("gateway %s: route configuration %d differs", name, i)
					}
				}
			}
			r, err := Compare(back.Gateways, snap.Gateways)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Empty() {
				t.Errorf("a version differs from itself read back from the cache: %+v", r.Gateways)
			}
		})
	}
}
