// Package diff compares two compiled versions of a repository and says
// what the change does: by host and route for a reviewer, by Envoy
// resource and field for an operator, and which changes Envoy applies live
// over xDS and which need a restart.
package diff

import (
	"maps"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Gateway is one compiled gateway, as much as a diff needs.
type Gateway struct {
	IR        *ir.Gateway
	Resources *xds.Resources // file-based xDS form
	Bootstrap *bootstrapv3.Bootstrap
	// Probes are requests to send through both versions besides the
	// ones made from routes: the route tests of the repository.
	Probes []Probe
}

// Status of a compared thing.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Report is what a change does. Its JSON form is a stable contract,
// documented in docs/diff.md.
type Report struct {
	Gateways []GatewayDiff `json:"gateways"`
	Counts   Counts        `json:"counts"`
}

// Counts says how many resources are added, changed and removed.
type Counts struct {
	Add    int `json:"add"`
	Change int `json:"change"`
	Remove int `json:"remove"`
}

func (c *Counts) count(status string) {
	switch status {
	case Added:
		c.Add++
	case Removed:
		c.Remove++
	case Changed:
		c.Change++
	}
}

// Empty reports whether nothing changed.
func (r *Report) Empty() bool { return len(r.Gateways) == 0 }

// GatewayDiff is the change to one gateway.
type GatewayDiff struct {
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	Hosts       []HostDiff     `json:"hosts"`
	Resources   []ResourceDiff `json:"resources"`
	Restart     []FieldChange  `json:"restart"`
	Counts      Counts         `json:"counts"`
	LiveChanges int            `json:"liveChanges"`
	// Security is what changes about the protection of requests,
	// loosening changes first; nil when the gateway is added or removed
	// whole.
	Security []SecurityChange `json:"security,omitempty"`
	// Traffic is nil when the gateway is added or removed whole.
	Traffic *Traffic `json:"traffic,omitempty"`
	// Patches are the changes to the gateway's EnvoyPatch documents.
	Patches []PatchDiff `json:"patches,omitempty"`
}

// HostDiff summarises the change to one virtual host for a reviewer.
type HostDiff struct {
	Name      string      `json:"name"`
	Hostnames []string    `json:"hostnames"`
	Team      string      `json:"team,omitempty"`
	Status    string      `json:"status"`
	Changes   []string    `json:"changes,omitempty"` // host-wide: TLS, hostnames, redirect
	Routes    []RouteDiff `json:"routes,omitempty"`
}

// RouteDiff summarises the change to one route.
type RouteDiff struct {
	Status  string   `json:"status"`
	Name    string   `json:"name,omitempty"`
	Match   string   `json:"match"`
	Team    string   `json:"team,omitempty"`
	Action  string   `json:"action,omitempty"` // what it does now (or did, if removed)
	Changes []string `json:"changes,omitempty"`
}

// ResourceDiff is the change to one Envoy resource, or to one virtual
// host, route or endpoint inside one.
type ResourceDiff struct {
	Type   string        `json:"type"`
	Name   string        `json:"name"`
	Status string        `json:"status"`
	Fields []FieldChange `json:"fields,omitempty"`
	// PatchedBy names the EnvoyPatches that change this resource, as
	// `EnvoyPatch NAME (file:line)`.
	PatchedBy []string `json:"patchedBy,omitempty"`
}

// FieldChange is one field's old and new value, as compact JSON; empty
// means absent.
type FieldChange struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
	// Patched is set on a field an EnvoyPatch of the newer version sets
	// (or, for a removed resource, of the older one).
	Patched bool `json:"patched,omitempty"`
}

// Compare says what changes from base to head. A gateway missing on one
// side is added or removed whole.
func Compare(base, head map[string]*Gateway) (*Report, error) {
	r := &Report{}
	for _, n := range keysOfBoth(base, head) {
		g, err := compareGateway(n, base[n], head[n])
		if err != nil {
			return nil, err
		}
		if g == nil {
			continue
		}
		r.Gateways = append(r.Gateways, *g)
		r.Counts.Add += g.Counts.Add
		r.Counts.Change += g.Counts.Change
		r.Counts.Remove += g.Counts.Remove
	}
	return r, nil
}

func compareGateway(name string, base, head *Gateway) (*GatewayDiff, error) {
	g := &GatewayDiff{Name: name, Status: Changed}
	switch {
	case base == nil:
		g.Status = Added
		base = &Gateway{Resources: &xds.Resources{}}
	case head == nil:
		g.Status = Removed
		head = &Gateway{Resources: &xds.Resources{}}
	}
	g.Hosts = compareHosts(base.IR, head.IR)
	if g.Status == Changed {
		g.Security = compareSecurity(base.IR, head.IR)
	}
	res, err := compareResources(base.Resources, head.Resources)
	if err != nil {
		return nil, err
	}
	markPatched(res, base.IR, head.IR)
	g.Resources = res
	g.Patches = comparePatches(base.IR, head.IR)
	for _, rd := range res {
		g.Counts.count(rd.Status)
	}
	g.LiveChanges = len(res)
	if base.Bootstrap != nil || head.Bootstrap != nil {
		g.Restart, err = fieldsOf(base.Bootstrap, head.Bootstrap)
		if err != nil {
			return nil, err
		}
		if len(g.Restart) > 0 {
			// The bootstrap is a resource too, of the kind that needs a restart.
			g.Counts.count(map[bool]string{true: Changed, false: g.Status}[g.Status == Changed])
		}
	}
	if len(g.Resources) == 0 && len(g.Hosts) == 0 && len(g.Restart) == 0 && len(g.Security) == 0 && len(g.Patches) == 0 && g.Status == Changed {
		return nil, nil
	}
	if g.Status == Changed && len(g.Resources) > 0 {
		if g.Traffic, err = traffic(base, head); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// identity is how a route is recognised across versions: by name when it
// has one (so a name whose match changes is one changed route), else by
// its match.
func identity(r *ir.Route) string {
	if r.Name != "" {
		return "name:" + r.Name
	}
	return "match:" + matchKey(&r.Match)
}

func matchKey(m *ir.Match) string {
	var b strings.Builder
	b.WriteString(string(m.PathKind) + " " + m.Path)
	if len(m.Methods) > 0 {
		b.WriteString(" " + strings.Join(m.Methods, "|"))
	}
	for _, h := range m.Headers {
		b.WriteString(" header " + h.Name)
		if h.Invert {
			b.WriteString(" not")
		}
		b.WriteString(" " + string(h.Kind))
		if h.Value != "" {
			b.WriteString(" " + h.Value)
		}
	}
	for _, q := range m.Query {
		b.WriteString(" query " + q.Name + " " + string(q.Kind))
		if q.Value != "" {
			b.WriteString(" " + q.Value)
		}
	}
	return b.String()
}

// keysOfBoth lists, sorted, the keys of either map.
func keysOfBoth[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
