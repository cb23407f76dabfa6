// Package tenancy decides which team owns each file, hostname, certificate
// and backend of a repository, and refuses documents that reach beyond
// their team. Without teams in edgectl.yaml there is nothing to decide.
package tenancy

import (
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
)

// Check assigns every document to the team owning its file (setting
// Doc.Team) and reports what a team declares without owning it.
func Check(m *intent.Model) diag.List {
	if m.Project == nil || len(m.Project.Spec.Teams) == 0 {
		return nil
	}
	c := &checker{m: m, proj: m.Project.Doc, teams: m.Project.Spec.Teams, backends: map[string]bool{}}
	for _, b := range m.Backends {
		c.backends[b.Doc.Name] = true
	}
	c.claims()
	c.assign()
	if c.ambiguous {
		// Who owns a hostname is itself unclear: checking documents
		// against it would only produce findings that follow from that.
		return c.diags
	}
	for _, g := range m.Gateways {
		c.gateway(g)
	}
	for _, cert := range m.Certificates {
		c.certificate(cert.Doc, cert.Doc.Name, cert.Doc.Team, "metadata", "name")
	}
	for _, b := range m.Backends {
		if t := b.Spec.TLS; t != nil {
			if t.CA != "" {
				c.certificate(b.Doc, t.CA, b.Doc.Team, "spec", "tls", "ca")
			}
			if t.ClientCertificate != "" {
				c.certificate(b.Doc, t.ClientCertificate, b.Doc.Team, "spec", "tls", "clientCertificate")
			}
		}
	}
	served := map[string]bool{}
	for _, vh := range m.VirtualHosts {
		for _, h := range vh.Spec.Hostnames {
			served[h] = true
		}
	}
	for _, vh := range m.VirtualHosts {
		c.virtualHost(vh, served)
		c.routes(vh.Doc, vh.Spec.Routes)
		if p := vh.Spec.Passthrough; p != nil {
			c.passthrough(vh.Doc, p)
		}
	}
	for _, rs := range m.RouteSets {
		c.routes(rs.Doc, rs.Spec.Routes)
	}
	c.security(m)
	c.patches(m)
	return c.diags
}

type checker struct {
	m     *intent.Model
	proj  *intent.Doc
	teams []intent.Team
	diags diag.List

	exact     map[string]claim // hostname → owner
	wildcard  map[string]claim // "example.com" for "*.example.com" → owner
	ambiguous bool             // two teams claim one hostname
	backends  map[string]bool  // names declared, to leave unknown ones to lowering
}

type claim struct {
	team  int // index into teams
	index int // index into the team's hostnames
}

func (c *checker) teamPos(t int, field string) diag.Pos {
	return c.proj.KeyPos("spec", "teams", t, field)
}

// claims indexes the hostnames teams claim. Two teams claiming the same
// name, or the same wildcard, is an error: ownership must be a function.
func (c *checker) claims() {
	c.exact, c.wildcard = map[string]claim{}, map[string]claim{}
	names := map[string]int{}
	for t, team := range c.teams {
		if prev, dup := names[team.Name]; dup {
			c.diags.Errorf(c.proj.Pos("spec", "teams", t, "name"), "duplicate-name", "team %q is declared twice", team.Name).
				Note(c.proj.Pos("spec", "teams", prev, "name"), "first declared here")
		}
		names[team.Name] = t
		for _, field := range []string{"paths", "certificates", "backends", "authProviders", "authServices", "rateLimitServices"} {
			patterns := map[string][]string{"paths": team.Paths, "certificates": team.Certificates, "backends": team.Backends,
				"authProviders": team.AuthProviders, "authServices": team.AuthServices, "rateLimitServices": team.RateLimitServices}[field]
			for i, p := range patterns {
				if err := glob.Valid(p); err != nil {
					c.diags.Errorf(c.proj.Pos("spec", "teams", t, field, i), "project", "%v", err)
				}
			}
		}
		for i, h := range team.Hostnames {
			set, key := ClaimIn(c.exact, c.wildcard, h)
			if prev, dup := set[key]; dup && prev.team != t {
				c.diags.Errorf(c.proj.Pos("spec", "teams", t, "hostnames", i), "ownership", "team %q claims hostname %q, which team %q already claims", team.Name, h, c.teams[prev.team].Name).
					Note(c.proj.Pos("spec", "teams", prev.team, "hostnames", prev.index), "team %q claims it here", c.teams[prev.team].Name)
				c.ambiguous = true
				continue
			}
			set[key] = claim{team: t, index: i}
		}
	}
}

// Owner returns the team that owns a hostname: an exact claim first, then
// a wildcard claim covering it. A "*." wildcard covers exactly one label:
// *.example.com covers a.example.com, not example.com or a.b.example.com.
// A wildcard hostname is owned by the team claiming that wildcard.
func (c *checker) owner(h string) (claim, bool) { return Owner(c.exact, c.wildcard, h) }

// Owner finds the claim that owns hostname h among claims of exact names
// and of "*." wildcards (kept under the name after "*."): an exact claim
// first, then a wildcard claim one label above; a wildcard hostname is
// owned by the claim of that wildcard. The Gateway API dialect decides
// ownership by the same rule.
func Owner[C any](exact, wildcard map[string]C, h string) (C, bool) {
	if suffix, ok := strings.CutPrefix(h, "*."); ok {
		cl, found := wildcard[suffix]
		return cl, found
	}
	if cl, ok := exact[h]; ok {
		return cl, true
	}
	if _, rest, ok := strings.Cut(h, "."); ok {
		cl, found := wildcard[rest]
		return cl, found
	}
	var none C
	return none, false
}

// ClaimIn is where a claim of hostname h is kept: exact or, for "*.",
// wildcard, and under which name.
func ClaimIn[C any](exact, wildcard map[string]C, h string) (map[string]C, string) {
	if suffix, ok := strings.CutPrefix(h, "*."); ok {
		return wildcard, suffix
	}
	return exact, h
}

// assign gives each document the team whose paths match its file. A file
// must match exactly one team.
//
// A repository of many files and many teams would make that files × teams
// glob matches, so teams are indexed by the literal directory their path
// patterns start with, and a file is matched only against the teams whose
// directories hold it; the files of several documents are matched once.
func (c *checker) assign() {
	reported := map[string]bool{}
	byDir := map[string][]int{} // literal start of a pattern → teams, ascending
	for t, team := range c.teams {
		for _, p := range team.Paths {
			dir := literalDir(p)
			if l := byDir[dir]; len(l) == 0 || l[len(l)-1] != t {
				byDir[dir] = append(l, t)
			}
		}
	}
	ownersOf := map[string][]int{}
	for _, d := range c.m.Docs {
		owners, done := ownersOf[d.File]
		if !done {
			var cand []int
			for k := 0; k <= len(d.File); k++ {
				if k == 0 || k == len(d.File) || d.File[k] == '/' {
					cand = append(cand, byDir[d.File[:k]]...)
				}
			}
			slices.Sort(cand)
			for _, t := range slices.Compact(cand) {
				if glob.Any(c.teams[t].Paths, d.File) >= 0 {
					owners = append(owners, t)
				}
			}
			ownersOf[d.File] = owners
		}
		switch {
		case len(owners) == 1:
			d.Team = c.teams[owners[0]].Name
		case reported[d.File]:
		case len(owners) == 0:
			reported[d.File] = true
			c.diags.Errorf(d.Pos(), "ownership", "file %s belongs to no team; add it to the paths of the team that owns it", d.File).
				Note(c.proj.KeyPos("spec", "teams"), "the teams and their paths")
		default:
			reported[d.File] = true
			e := c.diags.Errorf(d.Pos(), "ownership", "file %s belongs to %d teams (%s); a file must have one owner", d.File, len(owners), c.teamNames(owners))
			for _, t := range owners {
				e.Note(c.proj.Pos("spec", "teams", t, "paths", glob.Any(c.teams[t].Paths, d.File)), "team %q claims it here", c.teams[t].Name)
			}
		}
	}
}

// literalDir returns the segments of a pattern before its first segment
// with a wildcard, or the whole pattern if it has none: every path the
// pattern matches is that path or lies below it ("a/**" matches "a").
func literalDir(pattern string) string {
	i := strings.IndexAny(pattern, "*?[\\")
	if i < 0 {
		return pattern
	}
	return pattern[:max(0, strings.LastIndex(pattern[:i], "/"))]
}

func (c *checker) teamNames(idx []int) string {
	names := make([]string, len(idx))
	for i, t := range idx {
		names[i] = c.teams[t].Name
	}
	return strings.Join(names, ", ")
}

func (c *checker) team(name string) int {
	return slices.IndexFunc(c.teams, func(t intent.Team) bool { return t.Name == name })
}

func (c *checker) gateway(g *intent.Gateway) {
	t := c.team(g.Doc.Team)
	if t < 0 || c.teams[t].Platform {
		return
	}
	c.diags.Errorf(g.Doc.Pos("kind"), "ownership", "team %q may not declare gateways; only a platform team may", c.teams[t].Name).
		Note(c.teamPos(t, "name"), "team %q is declared here; platform: true makes it a platform team", c.teams[t].Name)
}

// certificate checks that the team of d may declare or use a certificate.
func (c *checker) certificate(d *intent.Doc, name, team string, path ...any) {
	t := c.team(team)
	if t < 0 || glob.Any(c.teams[t].Certificates, name) >= 0 {
		return
	}
	at := c.teamPos(t, "certificates")
	if len(c.teams[t].Certificates) == 0 {
		at = c.teamPos(t, "name")
	}
	c.diags.Errorf(d.Pos(path...), "ownership", "team %q may not use certificate %q", c.teams[t].Name, name).
		Note(at, "the certificates team %q may use; add %q here to allow it", c.teams[t].Name, name)
}

func (c *checker) virtualHost(vh *intent.VirtualHost, served map[string]bool) {
	d := vh.Doc
	t := c.team(d.Team)
	if t < 0 {
		return
	}
	team := c.teams[t]
	for i, h := range vh.Spec.Hostnames {
		cl, ok := c.owner(h)
		switch {
		case ok && cl.team == t:
			c.capture(d, t, i, h, served)
			continue
		case ok:
			c.diags.Errorf(d.Pos("spec", "hostnames", i), "ownership", "team %q may not serve %s: team %q owns it", team.Name, h, c.teams[cl.team].Name).
				Note(c.proj.Pos("spec", "teams", cl.team, "hostnames", cl.index), "team %q claims it here", c.teams[cl.team].Name)
		default:
			at := c.teamPos(t, "hostnames")
			if len(team.Hostnames) == 0 {
				at = c.teamPos(t, "name")
			}
			c.diags.Errorf(d.Pos("spec", "hostnames", i), "ownership", "team %q may not serve %s: no team claims it", team.Name, h).
				Note(at, "the hostnames team %q may serve; add %q here to allow it", team.Name, h)
		}
	}
	if tls := vh.Spec.TLS; tls != nil {
		c.certificate(d, tls.Certificate, d.Team, "spec", "tls", "certificate")
	}
}

// capture warns when a wildcard virtual host would answer a hostname that
// another team owns but serves nowhere: Envoy prefers an exact domain, so
// the wildcard takes that name only while its owner has no virtual host.
func (c *checker) capture(d *intent.Doc, t, i int, h string, served map[string]bool) {
	suffix, ok := strings.CutPrefix(h, "*.")
	if !ok {
		return
	}
	for name, cl := range c.exact {
		if cl.team == t || served[name] {
			continue
		}
		if _, rest, _ := strings.Cut(name, "."); rest == suffix {
			c.diags.Warnf(d.Pos("spec", "hostnames", i), "wildcard-capture", "%s also answers %s, which team %q owns but serves nowhere", h, name, c.teams[cl.team].Name).
				Note(c.proj.Pos("spec", "teams", cl.team, "hostnames", cl.index), "team %q claims it here", c.teams[cl.team].Name)
		}
	}
}

// backendCheck returns what checks one backend a document of a team uses
// against the team's allowed list, or nil when the team has no list.
func (c *checker) backendCheck(d *intent.Doc) func(name string, path ...any) {
	t := c.team(d.Team)
	if t < 0 || c.teams[t].Backends == nil {
		return nil
	}
	return func(name string, path ...any) {
		if name == "" || !c.backends[name] || glob.Any(c.teams[t].Backends, name) >= 0 {
			return // unknown backends are lowering's to report
		}
		c.diags.Errorf(d.Pos(path...), "ownership", "team %q may not route to backend %q", c.teams[t].Name, name).
			Note(c.teamPos(t, "backends"), "the backends team %q may use; add %q here to allow it", c.teams[t].Name, name)
	}
}

// passthrough checks the backends a passthrough virtual host hands its
// connections to, as routes' are.
func (c *checker) passthrough(d *intent.Doc, p *intent.TCPProxy) {
	check := c.backendCheck(d)
	if check == nil {
		return
	}
	check(p.Backend, "spec", "passthrough", "backend")
	for j, b := range p.Backends {
		check(b.Name, "spec", "passthrough", "backends", j, "name")
	}
}

// routes checks the backends a team's routes use against its allowed list.
func (c *checker) routes(d *intent.Doc, routes []intent.Route) {
	check := c.backendCheck(d)
	if check == nil {
		return
	}
	for i, r := range routes {
		check(r.Backend, "spec", "routes", i, "backend")
		for j, b := range r.Backends {
			check(b.Name, "spec", "routes", i, "backends", j, "name")
		}
		if r.Mirror != nil {
			check(r.Mirror.Backend, "spec", "routes", i, "mirror", "backend")
		}
	}
}
