package bundle_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// limitedGateway is a gateway whose one virtual host counts requests at a
// rate-limit service: requests per minute per client address.
func limitedGateway(perMinute uint32) *ir.Gateway {
	cluster := func(name, addr string) *ir.Cluster {
		return &ir.Cluster{Name: name, Discovery: ir.Static, Endpoints: []ir.Endpoint{{Address: addr, Port: 80}}, ConnectTimeout: time.Second, LB: ir.RoundRobin, HTTP2: name == "rls"}
	}
	return &ir.Gateway{
		Name: "edge", NodeID: "edge", NodeCluster: "edge", XDSDir: "/etc/envoy/xds",
		Listeners: []*ir.Listener{{Name: "http", Address: "0.0.0.0", Port: 80, Protocol: ir.HTTP, Routes: &ir.RouteTable{Name: "http",
			VirtualHosts: []*ir.VirtualHost{{Name: "api", Team: "shop", Domains: []string{"api.example.com"},
				Security: &ir.Security{RateLimit: &ir.RateLimitRule{Service: "limits", Limits: []ir.RateLimit{
					{Requests: perMinute, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}},
				}}},
				Routes: []*ir.Route{{Name: "all", Team: "shop", Match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, Forward: []ir.WeightedCluster{{Cluster: "api", Weight: 1}}}}}}}}},
		Clusters:          []*ir.Cluster{cluster("api", "10.0.0.1"), cluster("rls", "10.0.0.2")},
		RateLimitServices: []*ir.RateLimitService{{Name: "limits", Cluster: "rls", Domain: "edge"}},
	}
}

// inDir writes files to a new directory.
func inDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

func TestRateLimitConfigInBundle(t *testing.T) {
	t.Parallel()
	g := limitedGateway(100)
	b, err := compile.Build(g, bundle.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	const file = "ratelimit/ratelimit-limits.yaml"
	if b.File(file) == nil {
		t.Fatalf("no %s in the bundle", file)
	}
	listed := false
	for _, f := range b.Manifest.Files {
		listed = listed || f.Path == file
	}
	if !listed {
		t.Errorf("the manifest does not list %s", file)
	}
	// The file reads back into the reference service's types as what the
	// rules said.
	got, err := b.RateLimitConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(xds.RateLimitConfigs(g), got, protocmp.Transform()); diff != "" {
		t.Errorf("configurations (-compiled +read back):\n%s", diff)
	}
	for _, want := range []string{"domain: edge", "key: edgectl_limit", "key: remote_address", "requests_per_unit: 100", "unit: minute"} {
		if !strings.Contains(string(b.File(file)), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, b.File(file))
		}
	}
	// The static bootstrap, whose route configurations are spliced in,
	// carries the filter and the virtual host's settings, as the xDS files
	// do.
	boot, err := b.Bootstrap(bundle.StaticBootstrapFile)
	if err != nil {
		t.Fatal(err)
	}
	h := &hcmv3.HttpConnectionManager{}
	if err := boot.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	if names := []string{h.HttpFilters[0].GetName(), h.HttpFilters[len(h.HttpFilters)-1].GetName()}; names[0] != "envoy.filters.http.ratelimit/limits" || names[1] != "envoy.filters.http.router" {
		t.Errorf("static bootstrap's HTTP filters: %v", names)
	}
	if _, ok := h.GetRouteConfig().GetVirtualHosts()[0].GetTypedPerFilterConfig()["envoy.filters.http.ratelimit/limits"]; !ok {
		t.Errorf("static bootstrap's virtual host has no rate-limit settings")
	}
	// The digest covers the limits.
	other, err := compile.Build(limitedGateway(1000), bundle.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest == b.Digest {
		t.Errorf("a different limit gives the same digest")
	}
	// A bundle without rate limits has no such file.
	g.Listeners[0].Routes.VirtualHosts[0].Security = nil
	plain, err := compile.Build(g, bundle.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range plain.Files {
		if strings.HasPrefix(f.Path, "ratelimit/") {
			t.Errorf("a bundle without global rate limits has %s", f.Path)
		}
	}
}

func TestRateLimitConfigRead(t *testing.T) {
	t.Parallel()
	b, err := compile.Build(limitedGateway(100), bundle.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	const file = "ratelimit/ratelimit-limits.yaml"
	files := func(flat bool) map[string][]byte {
		out := map[string][]byte{}
		list := b.Files
		if flat {
			list = b.Delivered()
		}
		for _, f := range list {
			out[f.Path] = f.Data
		}
		return out
	}
	read := func(flat bool, dir string) error {
		if flat {
			_, err := bundle.ReadDelivered(os.DirFS(dir))
			return err
		}
		_, err := bundle.Read(os.DirFS(dir))
		return err
	}
	raise := func(fs map[string][]byte, k string) {
		fs[k] = []byte(strings.Replace(string(fs[k]), "requests_per_unit: 100", "requests_per_unit: 100000", 1))
	}
	for _, flat := range []bool{false, true} {
		k := file
		if flat {
			k = filepath.Base(file)
		}
		if err := read(flat, inDir(t, files(flat))); err != nil {
			t.Errorf("flat=%v: the bundle as written does not read: %v", flat, err)
		}
		// A raised limit, hidden in the manifest's per-file hash, is
		// caught by the digest.
		fs := files(flat)
		raise(fs, k)
		var m bundle.Manifest
		if err := json.Unmarshal(fs[bundle.ManifestFile], &m); err != nil {
			t.Fatal(err)
		}
		for i, f := range m.Files {
			if f.Path == file {
				m.Files[i].SHA256 = shaOf(fs[k])
				m.Files[i].Size = len(fs[k])
			}
		}
		mj, _ := json.MarshalIndent(&m, "", "  ")
		fs[bundle.ManifestFile] = append(mj, '\n')
		err := read(flat, inDir(t, fs))
		var damaged *bundle.DamagedError
		if !errors.As(err, &damaged) || !strings.Contains(err.Error(), "digest") {
			t.Errorf("flat=%v: a raised limit with its hash updated reads as %v", flat, err)
		}
		// Not hidden, the file itself is named.
		fs = files(flat)
		raise(fs, k)
		if err := read(flat, inDir(t, fs)); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("flat=%v: an edited rate-limit file reads as %v", flat, err)
		}
	}
}
