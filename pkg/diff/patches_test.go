package diff

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

func TestTouches(t *testing.T) {
	t.Parallel()
	rc := &ir.Patch{Target: ir.PatchTarget{Type: ir.PatchRouteConfiguration, Name: "https"}}
	vh := &ir.Patch{Target: ir.PatchTarget{Type: ir.PatchRouteConfiguration, Name: "https", VirtualHost: "api"}}
	cl := &ir.Patch{Target: ir.PatchTarget{Type: ir.PatchCluster, Name: "api"}}
	li := &ir.Patch{Target: ir.PatchTarget{Type: ir.PatchListener, Name: "https"}}
	tests := []struct {
		p    *ir.Patch
		rd   ResourceDiff
		want bool
	}{
		{rc, ResourceDiff{Type: "RouteConfiguration", Name: "https"}, true},
		{rc, ResourceDiff{Type: "Route", Name: "https/api/orders"}, true},
		{rc, ResourceDiff{Type: "RouteConfiguration", Name: "https-2"}, false},
		{vh, ResourceDiff{Type: "VirtualHost", Name: "https/api"}, true},
		{vh, ResourceDiff{Type: "Route", Name: "https/api/orders"}, true},
		{vh, ResourceDiff{Type: "Route", Name: "https/api-v2/orders"}, false},
		{vh, ResourceDiff{Type: "RouteConfiguration", Name: "https"}, false},
		{cl, ResourceDiff{Type: "Cluster", Name: "api"}, true},
		{cl, ResourceDiff{Type: "Endpoint", Name: "api/10.0.0.1:80"}, true},
		{cl, ResourceDiff{Type: "Cluster", Name: "api-v2"}, false},
		{li, ResourceDiff{Type: "Listener", Name: "https"}, true},
		{li, ResourceDiff{Type: "RouteConfiguration", Name: "https"}, false},
	}
	for _, tt := range tests {
		if got := touches(tt.p, &tt.rd); got != tt.want {
			t.Errorf("%+v touches %s %s: %v, want %v", tt.p.Target, tt.rd.Type, tt.rd.Name, got, tt.want)
		}
	}
}

func patchedGateway(limit uint32, ps ...*ir.Patch) *Gateway {
	c := &clusterv3.Cluster{Name: "api"}
	if limit > 0 {
		c.PerConnectionBufferLimitBytes = wrapperspb.UInt32(limit)
	}
	return &Gateway{IR: &ir.Gateway{Name: "edge", Patches: ps}, Resources: &xds.Resources{Clusters: []*clusterv3.Cluster{c}}}
}

func namedPatch(name string, line int, merge string) *ir.Patch {
	return &ir.Patch{Name: name, Origin: diag.Pos{File: "platform/patches.yaml", Line: line, Col: 18},
		Target: ir.PatchTarget{Type: ir.PatchCluster, Name: "api"}, Merge: json.RawMessage(merge)}
}

func TestPatchesInTheDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		base, head *Gateway
		want       []string // lines of the text output, in order
		absent     []string
	}{
		{
			name: "a patch added",
			base: patchedGateway(0),
			head: patchedGateway(1024, namedPatch("buffer", 3, `{"per_connection_buffer_limit_bytes":1024}`)),
			want: []string{
				"  Envoy patches (the platform team's EnvoyPatch documents):",
				"    + EnvoyPatch buffer (platform/patches.yaml:3) on Cluster api",
				`        merge {"per_connection_buffer_limit_bytes":1024}`,
				"    ~ Cluster api",
				"        patched by EnvoyPatch buffer (platform/patches.yaml:3)",
				"        per_connection_buffer_limit_bytes: (none) → 1024 (patched)",
			},
		},
		{
			name: "a patch changed",
			base: patchedGateway(1024, namedPatch("buffer", 3, `{"per_connection_buffer_limit_bytes":1024}`)),
			head: patchedGateway(2048, namedPatch("buffer", 5, `{"per_connection_buffer_limit_bytes":2048}`)),
			want: []string{
				"    ~ EnvoyPatch buffer (platform/patches.yaml:5) on Cluster api",
				`        merge {"per_connection_buffer_limit_bytes":1024} → merge {"per_connection_buffer_limit_bytes":2048}`,
				"    ~ Cluster api",
				"        patched by EnvoyPatch buffer (platform/patches.yaml:5)",
			},
		},
		{
			name: "a patch removed",
			base: patchedGateway(1024, namedPatch("buffer", 3, `{"per_connection_buffer_limit_bytes":1024}`)),
			head: patchedGateway(0),
			want: []string{
				"    - EnvoyPatch buffer (platform/patches.yaml:3) on Cluster api",
				"    ~ Cluster api",
				"        per_connection_buffer_limit_bytes: 1024 → (none)",
			},
			absent: []string{"patched"},
		},
		{
			name: "a patched resource changed by something else",
			base: patchedGateway(1024, namedPatch("buffer", 3, `{"per_connection_buffer_limit_bytes":1024}`)),
			head: patchedGateway(4096, namedPatch("buffer", 3, `{"per_connection_buffer_limit_bytes":1024}`)),
			want: []string{
				"    ~ Cluster api",
				"        patched by EnvoyPatch buffer (platform/patches.yaml:3)",
			},
			absent: []string{"Envoy patches"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Compare(map[string]*Gateway{"edge": tt.base}, map[string]*Gateway{"edge": tt.head})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := WriteText(&b, r, Labels{Base: "a", Head: "b"}, false); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(b.String(), "\n")
			from := 0
			for _, w := range tt.want {
				i := slices.Index(lines[from:], w)
				if i < 0 {
					t.Fatalf("no line %q after line %d in\n%s", w, from, b.String())
				}
				from += i + 1
			}
			for _, a := range tt.absent {
				if strings.Contains(b.String(), a) {
					t.Errorf("output has %q:\n%s", a, b.String())
				}
			}
			var md strings.Builder
			if err := WriteMarkdown(&md, r, Labels{Base: "a", Head: "b"}); err != nil {
				t.Fatal(err)
			}
			if len(r.Gateways[0].Patches) > 0 && !strings.Contains(md.String(), "EnvoyPatch `buffer`") {
				t.Errorf("markdown lacks the patch:\n%s", md.String())
			}
		})
	}
}

// A snapshot (the diff cache) gives back the patches it was given.
func TestPatchesSurviveASnapshot(t *testing.T) {
	t.Parallel()
	ops := &ir.Patch{Name: "ops", Target: ir.PatchTarget{Type: ir.PatchListener, Name: "http"},
		JSONPatch: []ir.PatchOp{{Op: json.RawMessage(`{"op":"remove","path":"/a"}`)}}}
	filter := &ir.Patch{Name: "filter", Target: ir.PatchTarget{Type: ir.PatchListener, Name: "http"},
		Filter: &ir.PatchFilter{Name: "f", Before: "g", TypedConfig: json.RawMessage(`{"@type":"x"}`)}}
	g := patchedGateway(1024, namedPatch("merge", 3, `{"a":1}`), ops, filter)
	data, err := (&Snapshot{Gateways: map[string]*Gateway{"edge": g}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Gateways["edge"].IR.Patches
	if len(got) != 3 {
		t.Fatalf("got %d patches", len(got))
	}
	for i, p := range g.IR.Patches {
		if a, b := patchWhat(p), patchWhat(got[i]); a != b {
			t.Errorf("patch %s: %q after the snapshot, %q before", p.Name, b, a)
		}
	}
}

func TestPatchedPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    *ir.Patch
		want []string
	}{
		{&ir.Patch{Merge: json.RawMessage(`{"a":{"b":1,"c":{}},"d":[1],"e":null}`)}, []string{"a.b", "a.c", "d", "e"}},
		{&ir.Patch{JSONPatch: []ir.PatchOp{
			{Op: json.RawMessage(`{"op":"add","path":"/per_connection_buffer_limit_bytes","value":1}`)},
			{Op: json.RawMessage(`{"op":"replace","path":"/filter_chains/0/filters","value":[]}`)},
			{Op: json.RawMessage(`{"op":"move","from":"/a~1b/c","path":"/x~0y"}`)},
			{Op: json.RawMessage(`{"op":"add","path":"/0","value":1}`)},
		}}, []string{"per_connection_buffer_limit_bytes", "filter_chains", "x~y", "a/b.c"}},
		{&ir.Patch{Filter: &ir.PatchFilter{Name: "f"}}, nil},
	}
	for _, tt := range tests {
		got := patchedPaths(tt.p)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for _, c := range []struct {
		f, p string
		want bool
	}{{"a.b", "a", true}, {"a[name=x].b", "a", true}, {"ab", "a", false}, {"a", "a", true}, {"b.a", "a", false}} {
		if got := within(c.f, c.p); got != c.want {
			t.Errorf("within(%q, %q) = %v", c.f, c.p, got)
		}
	}
}
