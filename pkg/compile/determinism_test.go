package compile

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/patch"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/xds"
)

const example = "../../examples/acme"

func compileFS(t *testing.T, fsys fs.FS, opts Options) []*bundle.Bundle {
	t.Helper()
	res, diags, err := Compile(context.Background(), &source.Source{FS: fsys}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("errors:\n%v", diags)
	}
	return res.Bundles
}

func sameBundles(t *testing.T, what string, a, b []*bundle.Bundle) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d bundles, then %d", what, len(a), len(b))
	}
	for i := range a {
		if a[i].Digest != b[i].Digest {
			t.Errorf("%s: gateway %s: digest %s, then %s", what, a[i].Gateway, a[i].Digest, b[i].Digest)
		}
		for _, f := range a[i].Files {
			if !bytes.Equal(f.Data, b[i].File(f.Path)) {
				t.Errorf("%s: gateway %s: %s differs", what, a[i].Gateway, f.Path)
			}
		}
	}
}

// TestDeterministic compiles the example repeatedly, with different
// parallelism, and expects the same bytes every time.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	fsys := os.DirFS(example)
	first := compileFS(t, fsys, testMeta)
	for i := range 3 {
		sameBundles(t, fmt.Sprintf("run %d", i+2), first, compileFS(t, fsys, testMeta))
	}
	one, many := testMeta, testMeta
	one.Workers, many.Workers = 1, 8
	sameBundles(t, "1 worker", first, compileFS(t, fsys, one))
	sameBundles(t, "8 workers", first, compileFS(t, fsys, many))
}

// TestLayoutIndependent spreads every document of the example over files of
// random names in random order. The intents are the same, so the bundle
// must be too: file names and order never leak into the output.
func TestLayoutIndependent(t *testing.T) {
	t.Parallel()
	orig := os.DirFS(example)
	want := compileFS(t, orig, testMeta)
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 42))
		shuffled := fstest.MapFS{}
		err := fs.WalkDir(orig, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(orig, p)
			if err != nil {
				return err
			}
			if p == source.ProjectFile || !strings.HasSuffix(p, ".yaml") {
				shuffled[p] = &fstest.MapFile{Data: data}
				return nil
			}
			// Each document gets a file of its own with a random name, in
			// the directory it came from: teams own directories.
			for _, doc := range splitDocs(t, data) {
				name := fmt.Sprintf("%s/%08x.yaml", path.Dir(p), r.Uint32())
				shuffled[name] = &fstest.MapFile{Data: doc}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameBundles(t, fmt.Sprintf("layout %d", seed), want, compileFS(t, shuffled, testMeta))
	}
}

// splitDocs re-encodes each document of a YAML stream on its own.
func splitDocs(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if strings.Contains(err.Error(), "EOF") {
				return out
			}
			t.Fatal(err)
		}
		b, err := yaml.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// TestGatewaysInNameOrder: with several gateways, bundles come in name
// order every time, whatever order the gateways are declared in; render,
// compile's report and diff print them in that order.
func TestGatewaysInNameOrder(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: p}\n")}}
	var all strings.Builder
	for _, name := range []string{"delta", "alpha", "charlie", "bravo", "echo"} {
		fmt.Fprintf(&all, "---\napiVersion: edgectl.dev/v1alpha1\nkind: Gateway\nmetadata: {name: %s}\nspec: {listeners: [{name: http, port: 8080, protocol: HTTP}]}\n", name)
	}
	fsys["gateways.yaml"] = &fstest.MapFile{Data: []byte(all.String())}
	for range 10 {
		res, _, err := Compile(context.Background(), &source.Source{FS: fsys}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, bd := range res.Bundles {
			got = append(got, bd.Gateway)
		}
		if strings.Join(got, " ") != "alpha bravo charlie delta echo" {
			t.Fatalf("bundles in order %v", got)
		}
	}
}

// TestSplicedStaticBootstrap holds the encoder's splice to what it stands
// for: the static bootstrap of a bundle is byte for byte the encoding of
// the bootstrap with its route configurations inline.
func TestSplicedStaticBootstrap(t *testing.T) {
	t.Parallel()
	res, diags, err := Compile(context.Background(), &source.Source{FS: os.DirFS(example)}, testMeta)
	if err != nil || diags.HasErrors() {
		t.Fatalf("compile: %v %v", err, diags)
	}
	spliced := 0
	for i, g := range res.Gateways {
		// The example's EnvoyPatch changes a cluster, which the inline
		// form holds as the spliced one does.
		forms, pd := patch.Apply(g, xds.Translate(g, xds.Static), nil)
		if pd.HasErrors() {
			t.Fatalf("patch the inline form: %v", pd)
		}
		inline := xds.StaticBootstrap(g, forms[0])
		want, err := bundle.YAML(inline)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Bundles[i].File(bundle.StaticBootstrapFile)
		if !bytes.Equal(got, want) {
			t.Errorf("gateway %s: the spliced static bootstrap differs from the inline one", g.Name)
		}
		// A gateway with only TCP listeners (acme's internal one) has no
		// route configuration to splice in.
		hasRoutes := len(forms[0].Routes) > 0
		if inlined := bytes.Contains(got, []byte("virtual_hosts:")); inlined != hasRoutes {
			t.Errorf("gateway %s: route configurations inline in the static bootstrap: %v, want %v (%d route configurations)",
				g.Name, inlined, hasRoutes, len(forms[0].Routes))
		}
		if hasRoutes {
			spliced++
		}
	}
	if spliced == 0 {
		t.Error("no gateway of the example has route configurations to splice")
	}
}

// TestLargeEncodedAsWhole holds the encoder's pieces to the plain
// encoding: a repository whose route configurations are large enough to
// be encoded in pieces (one virtual host of 3,000 routes; 2,000 virtual
// hosts) gives, file for file, what encoding each whole message at once
// gives: every RDS and CDS file, and the static bootstrap with its routes
// and clusters inline.
func TestLargeEncodedAsWhole(t *testing.T) {
	t.Parallel()
	for _, opts := range []genrepo.Options{
		{Routes: 3000, VirtualHosts: 1, Seed: 7},
		{Routes: 4000, VirtualHosts: 2000, Seed: 8},
	} {
		t.Run(fmt.Sprintf("%d routes in %d virtual hosts", opts.Routes, opts.VirtualHosts), func(t *testing.T) {
			t.Parallel()
			files, _ := genrepo.Generate(opts)
			fsys := fstest.MapFS{}
			for name, data := range files {
				fsys[name] = &fstest.MapFile{Data: data}
			}
			res, diags, err := Compile(context.Background(), &source.Source{FS: fsys}, testMeta)
			if err != nil || diags.HasErrors() {
				t.Fatalf("compile: %v %v", err, diags)
			}
			for i, g := range res.Gateways {
				b := res.Bundles[i]
				want, err := bundle.YAML(xds.StaticBootstrap(g, xds.Translate(g, xds.Static)[0]))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.File(bundle.StaticBootstrapFile), want) {
					t.Errorf("gateway %s: the static bootstrap differs from its plain encoding", g.Name)
				}
				r := res.Resources[i]
				for _, rc := range r.Routes {
					checkXDSFile(t, b, xds.RouteFile(rc.Name), rc)
				}
				clusters := make([]proto.Message, len(r.Clusters))
				for k, c := range r.Clusters {
					clusters[k] = c
				}
				checkXDSFile(t, b, xds.CDSFile, clusters...)
			}
		})
	}
}

// checkXDSFile compares an xDS file of a bundle with the plain encoding of
// its resources: a DiscoveryResponse holding them, as one message.
func checkXDSFile(t *testing.T, b *bundle.Bundle, name string, msgs ...proto.Message) {
	t.Helper()
	dr := &discoveryv3.DiscoveryResponse{VersionInfo: b.Digest, TypeUrl: bundle.TypeURL(msgs[0])}
	for _, m := range msgs {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		dr.Resources = append(dr.Resources, a)
	}
	want, err := bundle.YAML(dr)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.File(bundle.XDSDir + "/" + name); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the plain encoding of its %d resources", name, len(msgs))
	}
}
