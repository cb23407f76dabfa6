package bundle_test

import (
	"context"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkCanonicalJSON encodes the route configuration of one virtual
// host of 20,000 generated routes (exact, prefix and regex matches, header
// matchers, weighted clusters, timeouts and retry policies, header
// changes; JWT, external authorization and rate limits configured per
// virtual host through typed_per_filter_config, and external authorization
// turned off on every fourth route through its own) the way the bundle
// did, protojson then json.Compact, and with appendJSON.
func BenchmarkCanonicalJSON(b *testing.B) {
	files, _ := genrepo.Generate(genrepo.Options{Routes: 20000, VirtualHosts: 1, Governed: true, Security: true, Seed: 1})
	res, diags, err := compile.Compile(context.Background(), &source.Source{FS: mapFS(files)}, compile.Options{})
	if err != nil || diags.HasErrors() {
		b.Fatal(err, diags)
	}
	var rc *routev3.RouteConfiguration
	for _, r := range res.Resources[0].Routes {
		if rc == nil || proto.Size(r) > proto.Size(rc) {
			rc = r
		}
	}
	off, err := anypb.New(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	for _, vh := range rc.GetVirtualHosts() {
		for i, r := range vh.GetRoutes() {
			if i%4 == 0 {
				r.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.ext_authz/authz": off}
			}
		}
	}
	want, err := bundle.ProtojsonCompact(rc)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := bundle.AppendJSON(nil, rc); err != nil || string(got) != string(want) {
		b.Fatalf("appendJSON differs from protojson (%v)", err)
	}
	b.Run("protojson+compact", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bundle.ProtojsonCompact(rc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("canonicalJSON", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bundle.CanonicalJSON(rc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendJSON", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bundle.AppendJSON(nil, rc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
