package compile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/rogpeppe/go-internal/txtar"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/xds"
)

// patchedRepo is the repository of the patches golden case.
func patchedRepo(t *testing.T) fstest.MapFS {
	t.Helper()
	return archiveRepo(t, "testdata/golden/patches.txtar")
}

// archiveRepo is the repository of a golden archive: its files but the
// expected results (want/).
func archiveRepo(t *testing.T, file string) fstest.MapFS {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") {
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	return fsys
}

// Patches reach what edgectl serve delivers over ADS, which it derives
// from the bundle's files.
func TestPatchesReachADS(t *testing.T) {
	t.Parallel()
	bs := compileFS(t, patchedRepo(t), testMeta)
	read, err := bundle.Read(bundleFS(bs[0]))
	if err != nil {
		t.Fatal(err)
	}
	files, err := read.Resources()
	if err != nil {
		t.Fatal(err)
	}
	ads, err := xds.ADSForm(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := xds.Check(ads, xds.ADS); err != nil {
		t.Errorf("the ADS form fails the check: %v", err)
	}
	if ka := ads.Clusters[0].GetUpstreamConnectionOptions().GetTcpKeepalive(); ka.GetKeepaliveTime().GetValue() != 30 {
		t.Errorf("cluster keepalive %v, want 30s", ka)
	}
	hcm := &hcmv3.HttpConnectionManager{}
	if err := ads.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	if hcm.GetRds().GetConfigSource().GetAds() == nil {
		t.Errorf("the connection manager does not read its routes over ADS")
	}
	var names []string
	for _, f := range hcm.HttpFilters {
		names = append(names, f.Name)
	}
	if want := []string{"envoy.filters.http.buffer", "envoy.filters.http.router"}; !slices.Equal(names, want) {
		t.Errorf("HTTP filters %v, want %v", names, want)
	}
}

func bundleFS(b *bundle.Bundle) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range b.Files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	return fsys
}

// Patches apply in name order whatever the order of the files that hold
// them: the bundle is the same byte for byte.
func TestPatchOrderIsByName(t *testing.T) {
	t.Parallel()
	fsys := patchedRepo(t)
	// A second filter before the router: its place depends on the order
	// the patches apply in.
	fsys["platform/patches.yaml"] = &fstest.MapFile{Data: append(slices.Clone(fsys["platform/patches.yaml"].Data), []byte(`---
apiVersion: edgectl.dev/v1alpha1
kind: EnvoyPatch
metadata: {name: http-aaa-csrf}
spec:
  gateway: edge
  target: {type: Listener, name: http}
  httpFilter:
    name: envoy.filters.http.csrf
    typedConfig:
      "@type": type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy
      filter_enabled: {default_value: {numerator: 100}}
`)...)}
	want := compileFS(t, fsys, testMeta)
	lds := string(want[0].File(bundle.XDSDir + "/" + xds.LDSFile))
	if c, b := strings.Index(lds, "envoy.filters.http.csrf"), strings.Index(lds, "envoy.filters.http.buffer"); c < 0 || b < 0 || c > b {
		t.Errorf("the filter of patch http-aaa-csrf is not first:\n%s", lds)
	}
	docs := strings.Split(string(fsys["platform/patches.yaml"].Data), "---\n")
	slices.Reverse(docs)
	shuffled := fstest.MapFS{}
	for k, v := range fsys {
		shuffled[k] = v
	}
	delete(shuffled, "platform/patches.yaml")
	for i, d := range docs {
		shuffled["platform/p"+string(rune('a'+i))+".yaml"] = &fstest.MapFile{Data: []byte(d)}
	}
	sameBundles(t, "patches in other files", want, compileFS(t, shuffled, Options{Workers: 1, Edgectl: testMeta.Edgectl}))
	// Resources only (edgectl diff) gives the same patched resources.
	res, diags, err := Compile(context.Background(), &source.Source{FS: shuffled}, Options{ResourcesOnly: true})
	if err != nil || diags.HasErrors() {
		t.Fatalf("%v %v", err, diags)
	}
	got, err := want[0].Resources()
	if err != nil {
		t.Fatal(err)
	}
	if d := compareResourceLists(got, res.Resources[0]); d != "" {
		t.Errorf("resources-only compile differs: %s", d)
	}
}

func compareResourceLists(a, b *xds.Resources) string {
	if len(a.Clusters) != len(b.Clusters) || len(a.Listeners) != len(b.Listeners) || len(a.Routes) != len(b.Routes) {
		return "the number of resources"
	}
	for i := range a.Clusters {
		if !proto.Equal(a.Clusters[i], b.Clusters[i]) {
			return "cluster " + a.Clusters[i].Name
		}
	}
	for i := range a.Listeners {
		if !proto.Equal(a.Listeners[i], b.Listeners[i]) {
			return "listener " + a.Listeners[i].Name
		}
	}
	for i := range a.Routes {
		if !proto.Equal(a.Routes[i], b.Routes[i]) {
			return "route configuration " + a.Routes[i].Name
		}
	}
	return ""
}
