package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// TestAppendJSONOnCompiledResources compiles every golden case of
// pkg/compile, every Gateway API golden case, the example repository and
// generated repositories, and encodes every resource and bootstrap they
// give both ways: the bytes must be the same.
func TestAppendJSONOnCompiledResources(t *testing.T) {
	t.Parallel()
	type repo struct {
		name string
		fsys fs.FS
	}
	repos := []repo{{"examples/acme", os.DirFS("../../examples/acme")}}
	for _, pattern := range []string{"../compile/testdata/golden/*.txtar", "../../testdata/gatewayapi/*.txtar"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no cases in %s: %v", pattern, err)
		}
		for _, file := range files {
			repos = append(repos, repo{file, archiveFS(t, file)})
		}
	}
	for i, o := range []genrepo.Options{
		{Routes: 300, Seed: 1, Governed: true, Security: true},
		{Routes: 200, Seed: 2, VirtualHosts: 1, Files: 4},
	} {
		files, _ := genrepo.Generate(o)
		repos = append(repos, repo{fmt.Sprintf("genrepo %d", i), mapFS(files)})
	}
	files, _ := genrepo.GenerateGatewayAPI(genrepo.Options{Routes: 200, Seed: 3})
	repos = append(repos, repo{"genrepo gatewayapi", mapFS(files)})

	total, xdsFiles := 0, 0
	for _, r := range repos {
		res, _, err := compile.Compile(context.Background(), &source.Source{FS: r.fsys}, compile.Options{})
		if err != nil {
			t.Fatalf("%s: compile: %v", r.name, err)
		}
		var msgs []proto.Message
		for _, rs := range res.Resources {
			for _, m := range rs.Listeners {
				msgs = append(msgs, m)
			}
			for _, m := range rs.Clusters {
				msgs = append(msgs, m)
			}
			for _, m := range rs.Routes {
				msgs = append(msgs, m)
			}
			for _, m := range rs.Secrets {
				msgs = append(msgs, m)
			}
			for _, m := range rs.Endpoints {
				msgs = append(msgs, m)
			}
		}
		for _, m := range res.Bootstraps {
			msgs = append(msgs, m)
		}
		for _, b := range res.Bundles {
			xdsFiles += readBothWays(t, r.name, b)
		}
		for _, m := range msgs {
			total++
			want, err := bundle.ProtojsonCompact(m)
			if err != nil {
				t.Fatalf("%s: protojson: %v", r.name, err)
			}
			got, err := bundle.AppendJSON([]byte("prefix"), m)
			if err != nil {
				t.Fatalf("%s: appendJSON: %v", r.name, err)
			}
			if g, ok := bytes.CutPrefix(got, []byte("prefix")); !ok || !bytes.Equal(g, want) {
				t.Errorf("%s: %s differs:\n got %s\nwant prefix%s", r.name, m.ProtoReflect().Descriptor().FullName(), got, want)
			}
		}
	}
	t.Logf("%d resources, %d xDS files from %d repositories", total, xdsFiles, len(repos))
	// The cases give well over a thousand resources; far fewer would mean
	// they were not found or did not compile.
	if total < 700 || xdsFiles < 200 {
		t.Errorf("only %d resources and %d xDS files compared", total, xdsFiles)
	}
}

// readBothWays reads every xDS file of a bundle resource by resource and
// as protojson reads a DiscoveryResponse whole: every file edgectl writes
// must take the first way, and both must give the same messages. It
// returns how many files it read.
func readBothWays(t *testing.T, repo string, b *bundle.Bundle) int {
	t.Helper()
	n := 0
	for _, f := range b.Files {
		if !strings.HasPrefix(f.Path, bundle.XDSDir+"/") {
			continue
		}
		n++
		fv, wv, fmsgs, wmsgs, fast, err := bundle.ReadBothWays(f.Data)
		switch {
		case err != nil:
			t.Fatalf("%s: %s: %v", repo, f.Path, err)
		case !fast:
			t.Errorf("%s: %s is not read resource by resource", repo, f.Path)
		case fv != wv || len(fmsgs) != len(wmsgs):
			t.Errorf("%s: %s: read resource by resource: %q, %d resources; whole: %q, %d", repo, f.Path, fv, len(fmsgs), wv, len(wmsgs))
		default:
			for i := range fmsgs {
				if !proto.Equal(fmsgs[i], wmsgs[i]) {
					t.Errorf("%s: %s: resource %d differs read resource by resource", repo, f.Path, i)
				}
			}
		}
	}
	return n
}

func mapFS(files map[string][]byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// archiveFS is the repository of a golden archive: its files but the
// expected results (want/) and the requests to simulate.
func archiveFS(t *testing.T, file string) fstest.MapFS {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "want/") || f.Name == "requests" {
			continue
		}
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return fsys
}
