package lower

import (
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// routerFilter is the HTTP filter that ends every connection manager's
// chain; a patch may not insert a filter after it.
const routerFilter = "envoy.filters.http.router"

// lowerPatches checks each EnvoyPatch and hands it to its gateway, in name
// order. Whether its target exists and what it makes of it is decided
// after translation (pkg/patch), where the resources are.
func (l *lowerer) lowerPatches(gws map[string]*gatewayBuilder) {
	patches := indexKind(l, l.m.EnvoyPatches, func(p *intent.EnvoyPatch) *intent.Doc { return p.Doc })
	for _, name := range keys(patches) {
		ep := patches[name]
		d, s := ep.Doc, ep.Spec
		if _, ok := l.gateways[s.Gateway]; !ok {
			l.unknown(d.Pos("spec", "gateway"), "gateway", s.Gateway, keys(l.gateways))
			continue
		}
		p := l.patch(ep)
		if gb := gws[s.Gateway]; p != nil && gb != nil {
			gb.g.Patches = append(gb.g.Patches, p)
		}
	}
	for _, gb := range gws {
		slices.SortFunc(gb.g.Patches, func(a, b *ir.Patch) int { return strings.Compare(a.Name, b.Name) })
	}
}

// patch lowers one EnvoyPatch, or reports why it cannot be applied.
func (l *lowerer) patch(ep *intent.EnvoyPatch) *ir.Patch {
	d, s := ep.Doc, ep.Spec
	if !l.oneOf(d, []any{"spec"}, false, []string{"merge", "jsonPatch", "httpFilter"},
		[]bool{s.Merge.Kind != 0, s.JSONPatch != nil, s.HTTPFilter != nil}) {
		return nil
	}
	p := &ir.Patch{Name: d.Name, File: d.File, Origin: d.Pos("metadata", "name"), Target: ir.PatchTarget{
		Type: s.Target.Type, Name: s.Target.Name, NamePos: d.Pos("spec", "target", "name"),
		VirtualHost: s.Target.VirtualHost, VirtualHostPos: d.Pos("spec", "target", "virtualHost"),
	}}
	ok := true
	if s.Target.VirtualHost != "" && s.Target.Type != ir.PatchRouteConfiguration {
		l.diags.Errorf(d.KeyPos("spec", "target", "virtualHost"), "invalid-value", "spec.target.virtualHost: only a RouteConfiguration has virtual hosts, not a %s", s.Target.Type)
		ok = false
	}
	switch {
	case s.Merge.Kind != 0:
		js, err := intent.JSONOf(&s.Merge)
		if err != nil {
			l.diags.Errorf(d.Pos("spec", "merge"), "invalid-value", "spec.merge: %v", err)
			return nil
		}
		p.Merge, p.MergePos = js, d.Pos("spec", "merge")
	case s.JSONPatch != nil:
		if len(s.JSONPatch) == 0 {
			l.diags.Errorf(d.Pos("spec", "jsonPatch"), "invalid-value", "spec.jsonPatch: give at least one operation")
			return nil
		}
		for i := range s.JSONPatch {
			js, err := intent.JSONOf(&s.JSONPatch[i])
			if err != nil {
				l.diags.Errorf(d.Pos("spec", "jsonPatch", i), "invalid-value", "spec.jsonPatch[%d]: %v", i, err)
				ok = false
				continue
			}
			p.JSONPatch = append(p.JSONPatch, ir.PatchOp{Op: js, Pos: d.Pos("spec", "jsonPatch", i)})
		}
	default:
		f := s.HTTPFilter
		if s.Target.Type != ir.PatchListener {
			l.diags.Errorf(d.KeyPos("spec", "httpFilter"), "invalid-value", "spec.httpFilter: HTTP filters are inserted into a Listener's connection managers, not into a %s", s.Target.Type)
			return nil
		}
		if !l.oneOf(d, []any{"spec", "httpFilter"}, true, []string{"before", "after"}, []bool{f.Before != "", f.After != ""}) {
			return nil
		}
		if f.After == routerFilter {
			l.diags.Errorf(d.Pos("spec", "httpFilter", "after"), "invalid-value", "spec.httpFilter.after: the router must stay the last HTTP filter; insert before it")
			return nil
		}
		if f.Name == routerFilter {
			l.diags.Errorf(d.Pos("spec", "httpFilter", "name"), "invalid-value", "spec.httpFilter.name: %q is the router, which every connection manager has", f.Name)
			return nil
		}
		js, err := intent.JSONOf(&f.TypedConfig)
		if err != nil {
			l.diags.Errorf(d.Pos("spec", "httpFilter", "typedConfig"), "invalid-value", "spec.httpFilter.typedConfig: %v", err)
			return nil
		}
		at := d.Pos("spec", "httpFilter", "name")
		switch {
		case f.Before != "":
			at = d.Pos("spec", "httpFilter", "before")
		case f.After != "":
			at = d.Pos("spec", "httpFilter", "after")
		}
		p.Filter = &ir.PatchFilter{Name: f.Name, Before: f.Before, After: f.After, At: at, TypedConfig: js,
			TypePos: d.Pos("spec", "httpFilter", "typedConfig", "@type"), Pos: d.Pos("spec", "httpFilter", "name")}
	}
	if !ok {
		return nil
	}
	return p
}
