package serve

import (
	"bytes"
	"strings"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/xds"
)

// TestADSForm holds xds.ADSForm to xds.Translate: the ADS form of a
// gateway's file-based resources is what translating the same IR for ADS
// gives, field for field and byte for byte (every Any packed the same way),
// and the input is left as it was.
func TestADSForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		repo func(t *testing.T) *compile.Result
		// sdsGateway: the gateway with certificates from an SDS server,
		// whose config sources must survive; "" when there is none.
		sdsGateway string
	}{
		{"acme", func(t *testing.T) *compile.Result { return compileDir(t, "../../examples/acme") }, "edge"},
		{"generated", func(t *testing.T) *compile.Result {
			dir := t.TempDir()
			if _, err := genrepo.Write(dir, genrepo.Options{Routes: 300, Seed: 7, Governed: true}); err != nil {
				t.Fatal(err)
			}
			return compileDir(t, dir)
		}, ""},
		{"http only", func(t *testing.T) *compile.Result { return compileFiles(t, grpcRepo(1, 2, "alpha")) }, ""},
		{"kubernetes", func(t *testing.T) *compile.Result { return compileFiles(t, kubeRepo("shop")) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.repo(t)
			if len(res.Gateways) == 0 {
				t.Fatal("no gateways")
			}
			rewritten, sdsSeen := 0, false
			for _, g := range res.Gateways {
				rs := xds.Translate(g, xds.Files, xds.ADS)
				files, want := rs[0], rs[1]
				before := cloneResources(files)
				// A gateway with only TCP listeners and no TLS (acme's
				// internal one) has no config source to rewrite.
				fileSources := strings.Contains(resourcesJSON(t, files), "pathConfigSource")
				got, err := xds.ADSForm(files)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
					t.Errorf("gateway %s: ADS form differs from ADS translation (-want +got):\n%s", g.Name, d)
				}
				if !equalResources(want, got) {
					t.Errorf("gateway %s: ADS form is not byte-for-byte the ADS translation", g.Name)
				}
				if !equalResources(before, files) {
					t.Errorf("gateway %s: ADSForm modified its input", g.Name)
				}
				if err := xds.Check(got, xds.ADS); err != nil {
					t.Errorf("gateway %s: %v", g.Name, err)
				}
				js := resourcesJSON(t, got)
				if strings.Contains(js, "pathConfigSource") {
					t.Errorf("gateway %s: a file config source is left", g.Name)
				}
				if ads := strings.Contains(js, `"ads":{}`); ads != fileSources {
					t.Errorf("gateway %s: ADS config sources: %v; file config sources in the file form: %v", g.Name, ads, fileSources)
				}
				if fileSources {
					rewritten++
				}
				if g.Name == tt.sdsGateway {
					sdsSeen = true
					if !strings.Contains(js, `"clusterName":"edgectl-sds"`) {
						t.Errorf("gateway %s: the config sources of the SDS server are gone", g.Name)
					}
				}
			}
			if rewritten == 0 {
				t.Error("no gateway has a file config source to rewrite")
			}
			if tt.sdsGateway != "" && !sdsSeen {
				t.Errorf("no gateway %s", tt.sdsGateway)
			}
		})
	}
}

func cloneResources(r *xds.Resources) *xds.Resources {
	out := &xds.Resources{}
	for _, l := range r.Listeners {
		out.Listeners = append(out.Listeners, proto.CloneOf(l))
	}
	for _, rc := range r.Routes {
		out.Routes = append(out.Routes, proto.CloneOf(rc))
	}
	for _, c := range r.Clusters {
		out.Clusters = append(out.Clusters, proto.CloneOf(c))
	}
	for _, s := range r.Secrets {
		out.Secrets = append(out.Secrets, proto.CloneOf(s))
	}
	for _, e := range r.Endpoints {
		out.Endpoints = append(out.Endpoints, proto.CloneOf(e))
	}
	return out
}

// equalResources compares with proto.Equal, which compares the bytes of
// every Any: equal only if both were packed alike.
func equalResources(a, b *xds.Resources) bool {
	return equalAll(a.Listeners, b.Listeners) && equalAll(a.Routes, b.Routes) &&
		equalAll(a.Clusters, b.Clusters) && equalAll(a.Secrets, b.Secrets) && equalAll(a.Endpoints, b.Endpoints)
}

func equalAll[T proto.Message](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// resourcesJSON is the resources as JSON, Any contents included.
func resourcesJSON(t *testing.T, r *xds.Resources) string {
	t.Helper()
	var b strings.Builder
	add := func(m proto.Message) {
		js, err := protojson.MarshalOptions{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
		b.WriteByte('\n')
	}
	for _, l := range r.Listeners {
		add(l)
	}
	for _, c := range r.Clusters {
		add(c)
	}
	// protojson's spacing is randomised; this text is only searched.
	return strings.NewReplacer(" ", "", "\n", "").Replace(b.String())
}

// TestWireForm holds the wire forms the snapshots are built from to the
// messages they stand for: the same bytes, the same name, and one shared
// encoding for a message both flavours serve.
func TestWireForm(t *testing.T) {
	t.Parallel()
	res := compileDir(t, "../../examples/acme")
	ads, err := xds.ADSForm(res.Resources[0])
	if err != nil {
		t.Fatal(err)
	}
	pl, _, err := proxylessForm(ads)
	if err != nil {
		t.Fatal(err)
	}
	var all []types.Resource
	all = append(all, resources(ads.Listeners)...)
	all = append(all, resources(ads.Routes)...)
	all = append(all, resources(ads.Clusters)...)
	all = append(all, resources(ads.Secrets)...)
	all = append(all, resources(pl.Listeners)...)
	all = append(all, resources(pl.Routes)...)
	all = append(all, resources(pl.Clusters)...)
	all = append(all, resources(pl.Endpoints)...)
	enc := wireEncoder{}
	if err := enc.encode(map[resourcev3.Type][]types.Resource{"all": all}); err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		w := enc[r]
		want, _ := canonical.Marshal(r)
		got, _ := canonical.Marshal(w)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: wire form encodes differently", cachev3.GetResourceName(r))
		}
		if cachev3.GetResourceName(w) != cachev3.GetResourceName(r) || cachev3.GetResourceName(w) == "" {
			t.Errorf("%s: wire form is named %q", cachev3.GetResourceName(r), cachev3.GetResourceName(w))
		}
		back := r.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(got, back); err != nil || !proto.Equal(back, r) {
			t.Errorf("%s: wire form does not decode to the message (%v)", cachev3.GetResourceName(r), err)
		}
	}
	w1 := enc[pl.Routes[0]]
	if err := enc.encode(map[resourcev3.Type][]types.Resource{resourcev3.RouteType: {pl.Routes[0]}}); err != nil {
		t.Fatal(err)
	}
	if w2 := enc[pl.Routes[0]]; w1 != w2 {
		t.Error("a message is encoded twice")
	}
}
