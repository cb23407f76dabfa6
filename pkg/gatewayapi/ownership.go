package gatewayapi

import (
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/tenancy"
)

// owners maps the namespaces of Gateway API objects to the teams of
// edgectl.yaml that list them under namespaces, and holds the hostnames
// those teams claim. Without any team listing namespaces, every namespace
// is a team of its own, bound only by allowedRoutes.
type owners struct {
	proj     *intent.Doc
	teams    []intent.Team
	mapped   bool
	byNS     map[string]int // namespace → team index, -1 for none
	exact    map[string]claim
	wildcard map[string]claim // "example.com" for "*.example.com"
}

type claim struct{ team, index int }

func newOwners(proj *intent.Project) *owners {
	o := &owners{byNS: map[string]int{}, exact: map[string]claim{}, wildcard: map[string]claim{}}
	if proj == nil {
		return o
	}
	o.proj, o.teams = proj.Doc, proj.Spec.Teams
	for t, team := range o.teams {
		if len(team.Namespaces) > 0 {
			o.mapped = true
		}
		// Two teams claiming one hostname is pkg/tenancy's to report; the
		// first claim decides here.
		for i, h := range team.Hostnames {
			set, key := tenancy.ClaimIn(o.exact, o.wildcard, h)
			if _, dup := set[key]; !dup {
				set[key] = claim{t, i}
			}
		}
	}
	return o
}

// team returns the index of the team a namespace belongs to, or -1 when
// namespaces are not mapped or the namespace has no team (reported once,
// at the first document of it).
func (o *owners) team(ns string, d *Doc, diags *diag.List) int {
	if !o.mapped {
		return -1
	}
	if t, done := o.byNS[ns]; done {
		return t
	}
	var found []int
	for t, team := range o.teams {
		if glob.Any(team.Namespaces, ns) >= 0 {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		o.byNS[ns] = found[0]
		return found[0]
	case 0:
		diags.Errorf(d.Pos("metadata", "namespace"), "ownership", "namespace %q belongs to no team; add it to the namespaces of the team that owns it", ns).
			Note(o.proj.KeyPos("spec", "teams"), "the teams and their namespaces")
	default:
		names := make([]string, len(found))
		for i, t := range found {
			names[i] = o.teams[t].Name
		}
		e := diags.Errorf(d.Pos("metadata", "namespace"), "ownership", "namespace %q belongs to %d teams (%s); a namespace must have one owner", ns, len(found), strings.Join(names, ", "))
		for _, t := range found {
			e.Note(o.proj.Pos("spec", "teams", t, "namespaces", glob.Any(o.teams[t].Namespaces, ns)), "team %q claims it here", o.teams[t].Name)
		}
	}
	o.byNS[ns] = -1
	return -1
}

// name is the team name findings, diffs and policies show for a namespace:
// its team's, or the namespace itself when namespaces are not mapped.
func (o *owners) name(ns string) string {
	if t, ok := o.byNS[ns]; ok && t >= 0 {
		return o.teams[t].Name
	}
	return ns
}

// host returns the team claiming a hostname, by pkg/tenancy's rule.
func (o *owners) host(h string) (claim, bool) { return tenancy.Owner(o.exact, o.wildcard, h) }

func (o *owners) teamPos(t int, field string) diag.Pos {
	if len(o.listOf(t, field)) == 0 {
		return o.proj.KeyPos("spec", "teams", t, "name")
	}
	return o.proj.KeyPos("spec", "teams", t, field)
}

func (o *owners) listOf(t int, field string) []string {
	switch field {
	case "hostnames":
		return o.teams[t].Hostnames
	case "certificates":
		return o.teams[t].Certificates
	case "backends":
		return o.teams[t].Backends
	}
	return nil
}

// checkHost reports a hostname team t serves without owning it. at gives
// the position of the field that makes the route serve it; it is called
// only for a finding, as positions cost a parse of the document.
func (o *owners) checkHost(t int, h string, at func() diag.Pos, who string, diags *diag.List) bool {
	if t < 0 || h == "*" {
		if t >= 0 && h == "*" && len(o.exact)+len(o.wildcard) > 0 {
			diags.Errorf(at(), "ownership", "%s: team %q may not serve every hostname; give the route or its listener a hostname", who, o.teams[t].Name).
				Note(o.teamPos(t, "hostnames"), "the hostnames team %q may serve", o.teams[t].Name)
			return false
		}
		return true
	}
	cl, ok := o.host(h)
	switch {
	case ok && cl.team == t:
		return true
	case ok:
		diags.Errorf(at(), "ownership", "%s: team %q may not serve %s: team %q owns it", who, o.teams[t].Name, h, o.teams[cl.team].Name).
			Note(o.proj.Pos("spec", "teams", cl.team, "hostnames", cl.index), "team %q claims it here", o.teams[cl.team].Name)
	default:
		diags.Errorf(at(), "ownership", "%s: team %q may not serve %s: no team claims it", who, o.teams[t].Name, h).
			Note(o.teamPos(t, "hostnames"), "the hostnames team %q may serve; add %q here to allow it", o.teams[t].Name, h)
	}
	return false
}

// allowed reports whether team t may use a certificate (a Secret) or a
// backend (a Service) of a namespace; a team without a backends list may
// use every backend.
func (o *owners) allowed(t int, field, ns, name string, at func() diag.Pos, who, what string, diags *diag.List) bool {
	if t < 0 {
		return true
	}
	list := o.listOf(t, field)
	if field == "backends" && list == nil || matchRef(list, ns, name) {
		return true
	}
	name = ns + "/" + name
	diags.Errorf(at(), "ownership", "%s: team %q may not use %s %q", who, o.teams[t].Name, what, name).
		Note(o.teamPos(t, field), "the %s team %q may use; add %q here to allow it", field, o.teams[t].Name, name)
	return false
}

// matchRef matches an object against a team's patterns: a pattern with a
// "/" matches "namespace/name", one without the name in any namespace (so
// "*" allows every one).
func matchRef(patterns []string, ns, name string) bool {
	for _, p := range patterns {
		if strings.Contains(p, "/") && glob.Match(p, ns+"/"+name) || !strings.Contains(p, "/") && glob.Match(p, name) {
			return true
		}
	}
	return false
}
