package patch_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
	"github.com/edgectl/edgectl/pkg/patch"
	"github.com/edgectl/edgectl/pkg/xds"
)

const repo = `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec:
  endpoints: [{address: 10.0.0.1, port: 80}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com]
  routes:
  - backend: web
`

// gateway lowers the test repository with one IR patch per entry; the
// patches are given in IR form, as lowering makes them.
func gateway(t *testing.T, ps ...*ir.Patch) *ir.Gateway {
	t.Helper()
	fsys := fstest.MapFS{
		"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: t}\n")},
		"edge.yaml":    {Data: []byte(repo)},
	}
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	gws, diags := lower.Lower(m)
	if diags.HasErrors() || len(gws) != 1 {
		t.Fatalf("lower: %v", diags)
	}
	gws[0].Patches = ps
	return gws[0]
}

func at(line int) diag.Pos { return diag.Pos{File: "p.yaml", Line: line, Col: 1} }

func mergePatch(name, typ, target, js string) *ir.Patch {
	return &ir.Patch{Name: name, Origin: at(1), Target: ir.PatchTarget{Type: typ, Name: target, NamePos: at(2)},
		Merge: json.RawMessage(js), MergePos: at(3)}
}

func jsonPatch(name, typ, target string, ops ...string) *ir.Patch {
	p := &ir.Patch{Name: name, Origin: at(1), Target: ir.PatchTarget{Type: typ, Name: target, NamePos: at(2)}}
	for i, op := range ops {
		p.JSONPatch = append(p.JSONPatch, ir.PatchOp{Op: json.RawMessage(op), Pos: at(10 + i)})
	}
	return p
}

func filter(name, before, after, config string) *ir.Patch {
	return &ir.Patch{Name: "f-" + name, Origin: at(1), Target: ir.PatchTarget{Type: ir.PatchListener, Name: "http", NamePos: at(2)},
		Filter: &ir.PatchFilter{Name: name, Before: before, After: after, At: at(4), TypedConfig: json.RawMessage(config), TypePos: at(5), Pos: at(6)}}
}

const buffer = `{"@type":"type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer","max_request_bytes":1024}`

func forms(g *ir.Gateway) []*xds.Resources { return xds.Translate(g, xds.Files, xds.StaticSpliced) }

func httpFilters(t *testing.T, l *listenerv3.Listener) []string {
	t.Helper()
	hcm := &hcmv3.HttpConnectionManager{}
	if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range hcm.HttpFilters {
		names = append(names, f.Name)
	}
	return names
}

func TestApplyChangesEveryForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch []*ir.Patch
		check func(t *testing.T, f *xds.Resources, static bool)
	}{
		{"merge on a cluster", []*ir.Patch{mergePatch("a", ir.PatchCluster, "web", `{"per_connection_buffer_limit_bytes":4096}`)},
			func(t *testing.T, f *xds.Resources, _ bool) {
				if got := f.Clusters[0].GetPerConnectionBufferLimitBytes().GetValue(); got != 4096 {
					t.Errorf("buffer limit %d, want 4096", got)
				}
			}},
		{"merge null removes a field", []*ir.Patch{mergePatch("a", ir.PatchCluster, "web", `{"connect_timeout":null}`)},
			func(t *testing.T, f *xds.Resources, _ bool) {
				if f.Clusters[0].ConnectTimeout != nil {
					t.Errorf("connect_timeout %v, want unset", f.Clusters[0].ConnectTimeout)
				}
			}},
		{"JSON patch on a listener", []*ir.Patch{jsonPatch("a", ir.PatchListener, "http",
			`{"op":"add","path":"/per_connection_buffer_limit_bytes","value":2048}`,
			`{"op":"test","path":"/per_connection_buffer_limit_bytes","value":2048}`)},
			func(t *testing.T, f *xds.Resources, _ bool) {
				if got := f.Listeners[0].GetPerConnectionBufferLimitBytes().GetValue(); got != 2048 {
					t.Errorf("buffer limit %d, want 2048", got)
				}
			}},
		{"a virtual host of a route configuration", []*ir.Patch{func() *ir.Patch {
			p := mergePatch("a", ir.PatchRouteConfiguration, "http", `{"include_request_attempt_count":true}`)
			p.Target.VirtualHost = "www"
			return p
		}()},
			func(t *testing.T, f *xds.Resources, _ bool) {
				if !f.Routes[0].VirtualHosts[0].IncludeRequestAttemptCount {
					t.Errorf("virtual host not patched")
				}
			}},
		{"filter before the router by default", []*ir.Patch{filter("envoy.filters.http.buffer", "", "", buffer)},
			func(t *testing.T, f *xds.Resources, _ bool) {
				if got := httpFilters(t, f.Listeners[0]); !slices.Equal(got, []string{"envoy.filters.http.buffer", "envoy.filters.http.router"}) {
					t.Errorf("filters %v", got)
				}
			}},
		{"filters in name order, before and after others", []*ir.Patch{
			filter("a.first", "envoy.filters.http.router", "", buffer),
			filter("b.second", "", "a.first", buffer),
			filter("c.third", "a.first", "", buffer),
		},
			func(t *testing.T, f *xds.Resources, _ bool) {
				want := []string{"c.third", "a.first", "b.second", "envoy.filters.http.router"}
				if got := httpFilters(t, f.Listeners[0]); !slices.Equal(got, want) {
					t.Errorf("filters %v, want %v", got, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := gateway(t, tt.patch...)
			before := forms(g)
			pristine := []*xds.Resources{cloneResources(before[0]), cloneResources(before[1])}
			out, diags := patch.Apply(g, before, nil)
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			tt.check(t, out[0], false)
			tt.check(t, out[1], true)
			// Apply is pure: what it was given is as it was.
			for i := range before {
				if !equalResources(before[i], pristine[i]) {
					t.Errorf("form %d was modified", i)
				}
			}
			if equalResources(out[0], before[0]) {
				t.Errorf("nothing changed")
			}
		})
	}
}

func cloneResources(r *xds.Resources) *xds.Resources {
	c := &xds.Resources{}
	for _, l := range r.Listeners {
		c.Listeners = append(c.Listeners, proto.Clone(l).(*listenerv3.Listener))
	}
	for _, cl := range r.Clusters {
		c.Clusters = append(c.Clusters, proto.Clone(cl).(*clusterv3.Cluster))
	}
	for _, rc := range r.Routes {
		c.Routes = append(c.Routes, proto.Clone(rc).(*routev3.RouteConfiguration))
	}
	return c
}

func equalResources(a, b *xds.Resources) bool {
	eq := func(x, y []proto.Message) bool {
		return slices.EqualFunc(x, y, proto.Equal)
	}
	msgs := func(r *xds.Resources) ([]proto.Message, []proto.Message, []proto.Message) {
		var l, rc, c []proto.Message
		for _, x := range r.Listeners {
			l = append(l, x)
		}
		for _, x := range r.Routes {
			rc = append(rc, x)
		}
		for _, x := range r.Clusters {
			c = append(c, x)
		}
		return l, rc, c
	}
	al, ar, ac := msgs(a)
	bl, br, bc := msgs(b)
	return eq(al, bl) && eq(ar, br) && eq(ac, bc)
}

func TestApplyReportsAtThePatch(t *testing.T) {
	t.Parallel()
	vh := mergePatch("vh", ir.PatchRouteConfiguration, "http", `{"include_request_attempt_count":true}`)
	vh.Target.VirtualHost, vh.Target.VirtualHostPos = "ww", at(7)
	tests := []struct {
		name  string
		patch *ir.Patch
		pos   diag.Pos
		rule  string
		msg   string
	}{
		{"missing target, with a suggestion", mergePatch("a", ir.PatchCluster, "wbe", `{}`), at(2), patch.RuleTarget, `no Cluster "wbe" (did you mean "web"?)`},
		{"missing target, nothing close", mergePatch("a", ir.PatchSecret, "tls", `{}`), at(2), patch.RuleTarget, `no Secret "tls"`},
		{"missing virtual host", vh, at(7), patch.RuleTarget, `has no virtual host "ww" (did you mean "www"?)`},
		{"operation that does not apply", jsonPatch("a", ir.PatchCluster, "web",
			`{"op":"add","path":"/per_connection_buffer_limit_bytes","value":1}`,
			`{"op":"remove","path":"/no_such_field"}`), at(11), patch.RuleApply, "spec.jsonPatch[1] does not apply"},
		{"rename", mergePatch("a", ir.PatchCluster, "web", `{"name":"other"}`), at(3), patch.RuleApply, `renames Cluster "web" to "other"`},
		{"unknown field", mergePatch("a", ir.PatchCluster, "web", `{"no_such_field":1}`), at(3), patch.RuleApply, `unknown field "no_such_field"`},
		{"wrong value type", mergePatch("a", ir.PatchCluster, "web", `{"connect_timeout":5}`), at(3), patch.RuleApply, "no longer a valid Cluster"},
		{"unknown @type", filter("x", "", "", `{"@type":"type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Bufer"}`), at(5), patch.RuleFilter,
			`unknown @type "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Bufer"`},
		{"@type of no HTTP filter", filter("x", "", "", `{"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster"}`), at(5), patch.RuleFilter, "configures no HTTP filter"},
		{"config that does not parse", filter("x", "", "", `{"@type":"type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer","max_request_bytes":"lots"}`), at(6), patch.RuleFilter, "not a valid envoy.extensions.filters.http.buffer.v3.Buffer"},
		{"filter name taken", filter("envoy.filters.http.router", "", "", buffer), at(6), patch.RuleFilter, `has HTTP filter "envoy.filters.http.router" already`},
		{"anchor missing", filter("x", "envoy.filters.http.rbac", "", buffer), at(4), patch.RuleFilter, `no HTTP filter "envoy.filters.http.rbac"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := gateway(t, tt.patch)
			_, diags := patch.Apply(g, forms(g), nil)
			if len(diags) != 1 {
				t.Fatalf("got %d findings, want 1: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Pos != tt.pos || d.Rule != tt.rule || !strings.Contains(d.Message, tt.msg) || d.Severity != diag.Error {
				t.Errorf("got %s: %s [%s], want %s: …%s… [%s]", d.Pos, d.Message, d.Rule, tt.pos, tt.msg, tt.rule)
			}
			// protojson's wording varies between runs; findings must not.
			if strings.Contains(d.Message, "proto:") || strings.Contains(d.Message, "(line ") || strings.Contains(d.Message, "\u00a0") {
				t.Errorf("message keeps protojson's varying parts: %q", d.Message)
			}
		})
	}
}

func TestApplyBlamesThePatchThatBreaksTheCheck(t *testing.T) {
	t.Parallel()
	good := mergePatch("a-good", ir.PatchCluster, "web", `{"per_connection_buffer_limit_bytes":4096}`)
	bad := mergePatch("b-bad", ir.PatchCluster, "web", `{"per_connection_buffer_limit_bytes":1}`)
	bad.Origin = at(42)
	later := mergePatch("c-later", ir.PatchListener, "http", `{"per_connection_buffer_limit_bytes":1}`)
	g := gateway(t, good, bad, later)
	// A check that refuses a cluster buffer limit under 1024 stands in
	// for xds.Check.
	check := func(fs []*xds.Resources) error {
		for _, f := range fs {
			if l := f.Clusters[0].GetPerConnectionBufferLimitBytes(); l != nil && l.GetValue() < 1024 {
				return errors.New("cluster web: buffer limit too small\nsecond line")
			}
		}
		return nil
	}
	_, diags := patch.Apply(g, forms(g), check)
	if len(diags) != 1 {
		t.Fatalf("got %v, want one finding", diags)
	}
	d := diags[0]
	if d.Pos != at(42) || d.Rule != patch.RuleResult || !strings.Contains(d.Message, `EnvoyPatch "b-bad" makes a Cluster "web" Envoy would refuse: cluster web: buffer limit too small; second line`) {
		t.Errorf("got %s: %s [%s]", d.Pos, d.Message, d.Rule)
	}
}

func TestApplyWithoutPatchesReturnsItsInput(t *testing.T) {
	t.Parallel()
	g := gateway(t)
	in := forms(g)
	out, diags := patch.Apply(g, in, func([]*xds.Resources) error { return errors.New("must not be called") })
	if len(diags) != 0 || len(out) != len(in) || out[0] != in[0] || out[1] != in[1] {
		t.Errorf("got %v, %v", out, diags)
	}
}

// The static bootstrap's form has no RDS: a JSON patch written against the
// file-based form's rds fails there, and says so.
func TestApplyNamesTheStaticForm(t *testing.T) {
	t.Parallel()
	p := jsonPatch("a", ir.PatchListener, "http",
		`{"op":"test","path":"/filter_chains/0/filters/0/typed_config/rds/route_config_name","value":"http"}`)
	g := gateway(t, p)
	fs := forms(g)
	if _, diags := patch.Apply(g, fs[:1], nil); len(diags) != 0 {
		t.Fatalf("the file-based form alone: %v", diags)
	}
	_, diags := patch.Apply(g, fs, nil)
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "in the static bootstrap's form of Listener") {
		t.Errorf("got %v", diags)
	}
}

func TestFilterConfigIsDeterministic(t *testing.T) {
	t.Parallel()
	f := &ir.PatchFilter{Name: "x", TypedConfig: json.RawMessage(`{"@type":"type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua","default_source_code":{"inline_string":"function envoy_on_request(h) end"},"source_codes":{"b":{"inline_string":"b"},"a":{"inline_string":"a"},"c":{"inline_string":"c"}}}`)}
	first, err := patch.FilterConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := patch.FilterConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(again.Value) != string(first.Value) {
			t.Fatalf("packing differs between runs")
		}
	}
}
