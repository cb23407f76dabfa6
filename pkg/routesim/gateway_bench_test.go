package routesim_test

import (
	"context"
	"testing"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkGatewayRoute routes through the gateway edgectl compiles from
// a generated repository of 10,000 routes: listener, filter chain,
// connection manager and route configuration, as a route test does. The
// requests aim at the last route of sampled virtual hosts.
func BenchmarkGatewayRoute(b *testing.B) {
	dir := b.TempDir()
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: 10000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	src, err := source.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{ResourcesOnly: true, Trusted: true})
	if err != nil || diags.HasErrors() {
		b.Fatalf("compile: %v\n%v", err, diags)
	}
	g, err := routesim.NewGateway(res.Resources[0])
	if err != nil {
		b.Fatal(err)
	}
	var reqs []*routesim.Request
	routes := 0
	for _, rc := range res.Resources[0].Routes {
		for i, vh := range rc.GetVirtualHosts() {
			routes += len(vh.GetRoutes())
			if rc.GetName() != "http" || i%37 != 0 {
				continue
			}
			last := vh.GetRoutes()[len(vh.GetRoutes())-1].GetMatch()
			path := last.GetPath()
			if p := last.GetPrefix(); p != "" {
				path = p + "x?q=1"
			}
			if path == "" {
				continue
			}
			reqs = append(reqs, &routesim.Request{Authority: vh.GetDomains()[0] + ":8080", Path: path,
				Headers: []routesim.Header{{Name: "user-agent", Value: "bench"}}})
		}
	}
	if len(reqs) == 0 || routes < 10000 {
		b.Fatalf("%d requests over %d routes", len(reqs), routes)
	}
	forwarded := 0
	for _, req := range reqs {
		if g.Route(req).Action == routesim.Forward {
			forwarded++
		}
	}
	if forwarded == 0 {
		b.Fatalf("no request of %d forwarded", len(reqs))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g.Route(reqs[i%len(reqs)])
		i++
	}
}
