package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgectl/edgectl/pkg/xds"
)

// toJSON renders a message as generic JSON values, in Envoy's field names.
func toJSON(m proto.Message) (map[string]any, error) {
	if m == nil {
		return map[string]any{}, nil
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type namedMessage interface {
	proto.Message
	GetName() string
}

// named indexes messages by their "name", as JSON. Only those that differ
// from the other side are converted: converting is the costly part, and
// most resources do not change.
func named[T namedMessage](ms, other []T) (map[string]map[string]any, []string, error) {
	others := map[string]T{}
	for _, o := range other {
		others[o.GetName()] = o
	}
	out := map[string]map[string]any{}
	var names []string
	for _, m := range ms {
		names = append(names, m.GetName())
		if o, ok := others[m.GetName()]; ok && proto.Equal(m, o) {
			out[m.GetName()] = unchanged
			continue
		}
		v, err := toJSON(m)
		if err != nil {
			return nil, nil, err
		}
		out[m.GetName()] = v
	}
	return out, names, nil
}

// unchanged stands for a resource equal on both sides.
var unchanged = map[string]any{}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// compareResources lists what changes between two sets of resources.
func compareResources(base, head *xds.Resources) ([]ResourceDiff, error) {
	var out []ResourceDiff
	simple := func(typ string, b, h map[string]map[string]any, bn, hn []string, skip ...string) {
		for _, n := range union(bn, hn) {
			bv, bok := b[n]
			hv, hok := h[n]
			switch {
			case !bok:
				out = append(out, ResourceDiff{Type: typ, Name: n, Status: Added})
			case !hok:
				out = append(out, ResourceDiff{Type: typ, Name: n, Status: Removed})
			case len(bv) == 0 && len(hv) == 0:
				// equal on both sides
			default:
				for _, k := range skip {
					delete(bv, k)
					delete(hv, k)
				}
				if f := fields("", bv, hv); len(f) > 0 {
					out = append(out, ResourceDiff{Type: typ, Name: n, Status: Changed, Fields: f})
				}
			}
		}
	}
	bl, bln, err := named(base.Listeners, head.Listeners)
	if err != nil {
		return nil, err
	}
	hl, hln, err := named(head.Listeners, base.Listeners)
	if err != nil {
		return nil, err
	}
	simple("Listener", bl, hl, bln, hln)

	br, brn, err := namedRoutes(base.Routes, head.Routes)
	if err != nil {
		return nil, err
	}
	hr, hrn, err := namedRoutes(head.Routes, base.Routes)
	if err != nil {
		return nil, err
	}
	for _, n := range union(brn, hrn) {
		out = append(out, compareRouteConfig(n, br[n], hr[n])...)
	}

	bc, bcn, err := named(base.Clusters, head.Clusters)
	if err != nil {
		return nil, err
	}
	hc, hcn, err := named(head.Clusters, base.Clusters)
	if err != nil {
		return nil, err
	}
	var endpoints []ResourceDiff
	for _, n := range union(bcn, hcn) {
		if bc[n] != nil && hc[n] != nil && (len(bc[n]) > 0 || len(hc[n]) > 0) {
			endpoints = append(endpoints, compareEndpoints(n, bc[n]["load_assignment"], hc[n]["load_assignment"])...)
		}
	}
	simple("Cluster", bc, hc, bcn, hcn, "load_assignment")
	out = append(out, endpoints...)

	bs, bsn, err := named(base.Secrets, head.Secrets)
	if err != nil {
		return nil, err
	}
	hs, hsn, err := named(head.Secrets, base.Secrets)
	if err != nil {
		return nil, err
	}
	simple("Secret", bs, hs, bsn, hsn)
	slices.SortStableFunc(out, func(a, b ResourceDiff) int { return typeOrder(a.Type) - typeOrder(b.Type) })
	return out, nil
}

func typeOrder(t string) int {
	return slices.Index([]string{"Listener", "RouteConfiguration", "VirtualHost", "Route", "Cluster", "Endpoint", "Secret"}, t)
}

// namedRoutes converts route configurations to JSON, keeping only the
// virtual hosts that differ from the other side: a change to one virtual
// host of a thousand converts one.
func namedRoutes(ms, other []*routev3.RouteConfiguration) (map[string]map[string]any, []string, error) {
	others := map[string]*routev3.RouteConfiguration{}
	for _, o := range other {
		others[o.Name] = o
	}
	out := map[string]map[string]any{}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
		o, ok := others[m.Name]
		if !ok {
			out[m.Name] = map[string]any{"name": m.Name, "virtual_hosts": []any{}}
			continue
		}
		if proto.Equal(m, o) {
			out[m.Name] = unchanged
			continue
		}
		ovh := map[string]*routev3.VirtualHost{}
		for _, vh := range o.VirtualHosts {
			ovh[vh.Name] = vh
		}
		shell := proto.Clone(m).(*routev3.RouteConfiguration)
		shell.VirtualHosts = nil
		v, err := toJSON(shell)
		if err != nil {
			return nil, nil, err
		}
		var vhs []any
		for _, vh := range m.VirtualHosts {
			if ov, ok := ovh[vh.Name]; ok && proto.Equal(vh, ov) {
				vhs = append(vhs, map[string]any{"name": vh.Name, "routes": []any{}, "unchanged": true})
				continue
			}
			j, err := toJSON(vh)
			if err != nil {
				return nil, nil, err
			}
			vhs = append(vhs, map[string]any(j))
		}
		v["virtual_hosts"] = vhs
		out[m.Name] = v
	}
	return out, names, nil
}

// compareRouteConfig goes down to virtual hosts and routes, so a change to
// one route is one entry, not a diff of a ten-thousand-route list.
func compareRouteConfig(name string, b, h map[string]any) []ResourceDiff {
	switch {
	case b == nil:
		return []ResourceDiff{{Type: "RouteConfiguration", Name: name, Status: Added}}
	case h == nil:
		return []ResourceDiff{{Type: "RouteConfiguration", Name: name, Status: Removed}}
	case len(b) == 0 && len(h) == 0:
		return nil // equal on both sides
	}
	var out []ResourceDiff
	bv, hv := byKey(b["virtual_hosts"], vhostKey), byKey(h["virtual_hosts"], vhostKey)
	delete(b, "virtual_hosts")
	delete(h, "virtual_hosts")
	if f := fields("", b, h); len(f) > 0 {
		out = append(out, ResourceDiff{Type: "RouteConfiguration", Name: name, Status: Changed, Fields: f})
	}
	for _, vn := range union(bv.order, hv.order) {
		bvh, hvh := bv.m[vn], hv.m[vn]
		full := name + "/" + vn
		switch {
		case bvh == nil:
			out = append(out, ResourceDiff{Type: "VirtualHost", Name: full, Status: Added})
			continue
		case hvh == nil:
			out = append(out, ResourceDiff{Type: "VirtualHost", Name: full, Status: Removed})
			continue
		case bvh["unchanged"] == true && hvh["unchanged"] == true:
			continue
		}
		brs, hrs := byKey(bvh["routes"], routeKey), byKey(hvh["routes"], routeKey)
		delete(bvh, "routes")
		delete(hvh, "routes")
		if f := fields("", bvh, hvh); len(f) > 0 {
			out = append(out, ResourceDiff{Type: "VirtualHost", Name: full, Status: Changed, Fields: f})
		}
		out = append(out, compareKeyed("Route", full, brs, hrs)...)
	}
	return out
}

// compareKeyed compares the elements of two keyed lists, each a resource
// of type typ named prefix/key: added, removed, or changed field by field.
func compareKeyed(typ, prefix string, b, h keyed) []ResourceDiff {
	var out []ResourceDiff
	for _, k := range union(b.order, h.order) {
		bv, hv := b.m[k], h.m[k]
		name := prefix + "/" + k
		switch {
		case bv == nil:
			out = append(out, ResourceDiff{Type: typ, Name: name, Status: Added})
		case hv == nil:
			out = append(out, ResourceDiff{Type: typ, Name: name, Status: Removed})
		default:
			if f := fields("", bv, hv); len(f) > 0 {
				out = append(out, ResourceDiff{Type: typ, Name: name, Status: Changed, Fields: f})
			}
		}
	}
	return out
}

type keyed struct {
	m     map[string]map[string]any
	order []string
}

func byKey(v any, key func(map[string]any) string) keyed {
	k := keyed{m: map[string]map[string]any{}}
	list, _ := v.([]any)
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			continue
		}
		id := key(obj)
		if _, dup := k.m[id]; !dup {
			k.order = append(k.order, id)
		}
		k.m[id] = obj
	}
	return k
}

func vhostKey(v map[string]any) string { s, _ := v["name"].(string); return s }

// routeKey names a route by its name, or by its match when it has none.
func routeKey(v map[string]any) string {
	if s, ok := v["name"].(string); ok && s != "" {
		return s
	}
	return compact(v["match"])
}

// compareEndpoints lists endpoints added, removed or changed in a
// cluster's load assignment, by address and port.
func compareEndpoints(cluster string, b, h any) []ResourceDiff {
	eps := func(v any) keyed {
		k := keyed{m: map[string]map[string]any{}}
		la, _ := v.(map[string]any)
		locs, _ := la["endpoints"].([]any)
		for _, l := range locs {
			lm, _ := l.(map[string]any)
			lbs, _ := lm["lb_endpoints"].([]any)
			for _, e := range lbs {
				em, _ := e.(map[string]any)
				sa := dig(em, "endpoint", "address", "socket_address")
				id := fmt.Sprintf("%v:%v", sa["address"], sa["port_value"])
				if _, dup := k.m[id]; !dup {
					k.order = append(k.order, id)
				}
				k.m[id] = em
			}
		}
		return k
	}
	return compareKeyed("Endpoint", cluster, eps(b), eps(h))
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, _ := m[k].(map[string]any)
		m = next
	}
	return m
}

// fieldsOf compares two messages field by field.
func fieldsOf(b, h proto.Message) ([]FieldChange, error) {
	bj, err := toJSON(b)
	if err != nil {
		return nil, err
	}
	hj, err := toJSON(h)
	if err != nil {
		return nil, err
	}
	return fields("", bj, hj), nil
}

// fields lists the leaves that differ between two JSON values. Lists whose
// elements all have a "name" are matched by name, so inserting one element
// is one change rather than a change to every element after it.
func fields(path string, b, h any) []FieldChange {
	bm, bIsMap := b.(map[string]any)
	hm, hIsMap := h.(map[string]any)
	if bIsMap && hIsMap {
		var out []FieldChange
		for _, k := range keysOfBoth(bm, hm) {
			out = append(out, fields(join(path, k), bm[k], hm[k])...)
		}
		return out
	}
	bl, bIsList := b.([]any)
	hl, hIsList := h.([]any)
	if bIsList && hIsList {
		if bk, hk := namedItems(bl), namedItems(hl); bk != nil && hk != nil {
			var out []FieldChange
			for _, n := range union(bk.order, hk.order) {
				var bv, hv any
				if x, ok := bk.m[n]; ok {
					bv = x
				}
				if x, ok := hk.m[n]; ok {
					hv = x
				}
				out = append(out, fields(fmt.Sprintf("%s[name=%s]", path, n), bv, hv)...)
			}
			return out
		}
		if len(bl) == len(hl) {
			var out []FieldChange
			for i := range bl {
				out = append(out, fields(fmt.Sprintf("%s[%d]", path, i), bl[i], hl[i])...)
			}
			return out
		}
	}
	if b == nil && h == nil {
		return nil
	}
	bs, hs := compact(b), compact(h)
	if bs == hs {
		return nil
	}
	return []FieldChange{{Path: path, Old: bs, New: hs}}
}

func namedItems(l []any) *keyed {
	k := &keyed{m: map[string]map[string]any{}}
	for _, item := range l {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil
		}
		n, ok := obj["name"].(string)
		if !ok {
			return nil
		}
		if _, dup := k.m[n]; dup {
			return nil
		}
		k.m[n] = obj
		k.order = append(k.order, n)
	}
	return k
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// compact renders a value as compact JSON, shortened when long.
func compact(v any) string {
	if v == nil {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	s := strings.TrimSpace(b.String())
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
