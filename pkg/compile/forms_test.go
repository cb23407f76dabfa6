package compile

import (
	"context"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/xds"
)

// TestSharedClustersAreTheSameInEveryForm holds xds.Translate's sharing
// to what it relies on: a cluster it makes once for the file-based and
// the static forms is exactly the cluster the static form alone gets, in
// every golden case (which between them have every kind of backend).
func TestSharedClustersAreTheSameInEveryForm(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	shared, own := 0, 0
	for _, file := range files {
		res, _, err := Compile(context.Background(), &source.Source{FS: archiveRepo(t, file)}, testMeta)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if res == nil {
			continue
		}
		for _, g := range res.Gateways {
			both := xds.Translate(g, xds.Files, xds.StaticSpliced)
			alone := xds.Translate(g, xds.StaticSpliced)[0]
			for k, c := range both[1].Clusters {
				if c == both[0].Clusters[k] {
					shared++
				} else {
					own++
				}
				if !proto.Equal(c, alone.Clusters[k]) {
					t.Errorf("%s: gateway %q: cluster %q of the static form differs from the static form's own", file, g.Name, c.Name)
				}
			}
		}
	}
	if shared == 0 || own == 0 {
		t.Errorf("%d clusters shared, %d not: the cases should have both", shared, own)
	}
}
