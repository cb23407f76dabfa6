package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/ir"
)

// PatchDiff is the change to one EnvoyPatch of a gateway: the patch
// document itself, apart from the resources it changes.
type PatchDiff struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"`
	At      string   `json:"at"`     // file:line of the document
	Target  string   `json:"target"` // what it patches: `Cluster "api"`
	Changes []string `json:"changes,omitempty"`
}

// patchLabel names a patch as the diff prints it.
func patchLabel(p *ir.Patch) string {
	return fmt.Sprintf("EnvoyPatch %s (%s)", p.Name, patchAt(p))
}

func patchAt(p *ir.Patch) string {
	at := p.Origin
	at.Col = 0
	return at.String()
}

func patchTarget(p *ir.Patch) string {
	t := fmt.Sprintf("%s %s", p.Target.Type, p.Target.Name)
	if p.Target.VirtualHost != "" {
		t += " virtual host " + p.Target.VirtualHost
	}
	return t
}

// markPatched marks the resource diffs a gateway's EnvoyPatches touch.
func markPatched(res []ResourceDiff, base, head *ir.Gateway) {
	byName := func(g *ir.Gateway) []*ir.Patch {
		if g == nil {
			return nil
		}
		return g.Patches
	}
	for i := range res {
		rd := &res[i]
		// A removed resource was patched in base, if at all; anything
		// else is as head patches it.
		ps := byName(head)
		if rd.Status == Removed {
			ps = byName(base)
		}
		for _, p := range ps {
			if !touches(p, rd) {
				continue
			}
			rd.PatchedBy = append(rd.PatchedBy, patchLabel(p))
			if !addressesFields(p, rd) {
				continue
			}
			paths := patchedPaths(p)
			for k := range rd.Fields {
				if slices.ContainsFunc(paths, func(pp string) bool { return within(rd.Fields[k].Path, pp) || within(pp, rd.Fields[k].Path) }) {
					rd.Fields[k].Patched = true
				}
			}
		}
	}
}

// touches reports whether a patch addresses the resource of a diff, or
// a virtual host, route or endpoint inside it.
func touches(p *ir.Patch, rd *ResourceDiff) bool {
	name := p.Target.Name
	switch p.Target.Type {
	case ir.PatchRouteConfiguration:
		if p.Target.VirtualHost != "" {
			name += "/" + p.Target.VirtualHost
			if rd.Type == "RouteConfiguration" {
				return false
			}
		}
		return slices.Contains([]string{"RouteConfiguration", "VirtualHost", "Route"}, rd.Type) &&
			(rd.Name == name || strings.HasPrefix(rd.Name, name+"/"))
	case ir.PatchCluster:
		return rd.Type == "Cluster" && rd.Name == name || rd.Type == "Endpoint" && strings.HasPrefix(rd.Name, name+"/")
	default:
		return rd.Type == p.Target.Type && rd.Name == name
	}
}

// addressesFields reports whether the field paths of a diff are relative
// to what the patch patches: the resource itself, or its virtual host.
func addressesFields(p *ir.Patch, rd *ResourceDiff) bool {
	if p.Target.VirtualHost != "" {
		return rd.Type == "VirtualHost" && rd.Name == p.Target.Name+"/"+p.Target.VirtualHost
	}
	return rd.Type == p.Target.Type && rd.Name == p.Target.Name
}

// patchedPaths are the fields a merge or JSON patch sets, as the diff
// spells field paths. A JSON patch path is cut at its first list index:
// the diff names list items by key where it can, so the index says
// nothing there. An inserted filter sets no field by name.
func patchedPaths(p *ir.Patch) []string {
	var out []string
	switch {
	case p.Merge != nil:
		var v any
		if json.Unmarshal(p.Merge, &v) == nil {
			leaves("", v, &out)
		}
	case p.JSONPatch != nil:
		for _, op := range p.JSONPatch {
			var o struct{ Path, From string }
			if json.Unmarshal(op.Op, &o) != nil {
				continue
			}
			for _, ptr := range []string{o.Path, o.From} {
				if path := pointerPath(ptr); path != "" {
					out = append(out, path)
				}
			}
		}
	}
	return out
}

// leaves lists the paths of the values a merge patch sets: objects are
// merged field by field, anything else replaces what was there.
func leaves(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		if prefix != "" {
			*out = append(*out, prefix)
		}
		return
	}
	for k, sub := range m {
		leaves(join(prefix, k), sub, out)
	}
}

// pointerPath turns a JSON pointer into a field path, up to its first
// list index.
func pointerPath(ptr string) string {
	var parts []string
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if seg == "" || seg == "-" || strings.Trim(seg, "0123456789") == "" {
			break
		}
		parts = append(parts, strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~"))
	}
	return strings.Join(parts, ".")
}

// within reports whether field path f is at or below path p.
func within(f, p string) bool {
	return f == p || strings.HasPrefix(f, p+".") || strings.HasPrefix(f, p+"[")
}

// comparePatches says which EnvoyPatches of a gateway are added, removed
// or changed, by name.
func comparePatches(base, head *ir.Gateway) []PatchDiff {
	index := func(g *ir.Gateway) map[string]*ir.Patch {
		out := map[string]*ir.Patch{}
		if g != nil {
			for _, p := range g.Patches {
				out[p.Name] = p
			}
		}
		return out
	}
	b, h := index(base), index(head)
	var out []PatchDiff
	for _, n := range keysOfBoth(b, h) {
		bp, hp := b[n], h[n]
		switch {
		case bp == nil:
			out = append(out, PatchDiff{Name: n, Status: Added, At: patchAt(hp), Target: patchTarget(hp), Changes: []string{patchWhat(hp)}})
		case hp == nil:
			out = append(out, PatchDiff{Name: n, Status: Removed, At: patchAt(bp), Target: patchTarget(bp)})
		default:
			var changes []string
			if t, u := patchTarget(bp), patchTarget(hp); t != u {
				changes = append(changes, fmt.Sprintf("target: %s → %s", t, u))
			}
			if w, v := patchWhat(bp), patchWhat(hp); w != v {
				changes = append(changes, fmt.Sprintf("%s → %s", w, v))
			}
			if len(changes) > 0 {
				out = append(out, PatchDiff{Name: n, Status: Changed, At: patchAt(hp), Target: patchTarget(hp), Changes: changes})
			}
		}
	}
	return out
}

// patchWhat says what a patch does, in one line of compact JSON.
func patchWhat(p *ir.Patch) string {
	switch {
	case p.Merge != nil:
		return "merge " + compactJSON(p.Merge)
	case p.JSONPatch != nil:
		ops := make([]string, len(p.JSONPatch))
		for i, op := range p.JSONPatch {
			ops[i] = compactJSON(op.Op)
		}
		return "jsonPatch [" + strings.Join(ops, ",") + "]"
	case p.Filter != nil:
		where := "before the router"
		switch {
		case p.Filter.Before != "":
			where = "before " + p.Filter.Before
		case p.Filter.After != "":
			where = "after " + p.Filter.After
		}
		return fmt.Sprintf("httpFilter %s %s %s", p.Filter.Name, where, compactJSON(p.Filter.TypedConfig))
	}
	return ""
}

func compactJSON(js []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		return string(js)
	}
	return b.String()
}

func writePatchesText(b *strings.Builder, ps []PatchDiff, paint func(status, s string) string) {
	if len(ps) == 0 {
		return
	}
	b.WriteString("  Envoy patches (the platform team's EnvoyPatch documents):\n")
	for _, p := range ps {
		fmt.Fprintf(b, "    %s EnvoyPatch %s (%s) on %s\n", paint(p.Status, marks[p.Status]), p.Name, p.At, p.Target)
		for _, c := range p.Changes {
			fmt.Fprintf(b, "        %s\n", c)
		}
	}
}

func writePatchesMarkdown(b *strings.Builder, ps []PatchDiff) {
	if len(ps) == 0 {
		return
	}
	b.WriteString("> [!IMPORTANT]\n> EnvoyPatches change generated Envoy resources directly:\n>\n")
	for _, p := range ps {
		fmt.Fprintf(b, "> - %s EnvoyPatch `%s` (`%s`) on %s\n", marks[p.Status], p.Name, p.At, p.Target)
		for _, c := range p.Changes {
			fmt.Fprintf(b, ">   - `%s`\n", c)
		}
	}
	b.WriteByte('\n')
}
