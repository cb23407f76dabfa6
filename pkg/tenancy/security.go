package tenancy

import (
	"slices"

	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
)

// security checks the providers and services a team's security blocks
// name against the team's authProviders, authServices and
// rateLimitServices (nil: any), and the backends the definitions a team
// declares reach against its backends. Like backends, anyone may declare
// them; using them is what a team is allowed or not.
func (c *checker) security(m *intent.Model) {
	declared := map[string]map[string]bool{"authProviders": {}, "authServices": {}, "rateLimitServices": {}}
	for _, p := range m.AuthProviders {
		declared["authProviders"][p.Doc.Name] = true
		if r := p.Spec.JWKS.Remote; r != nil {
			c.backend(p.Doc, r.Backend, "spec", "jwks", "remote", "backend")
		}
	}
	for _, s := range m.AuthServices {
		declared["authServices"][s.Doc.Name] = true
		if s.Spec.HTTP != nil {
			c.backend(s.Doc, s.Spec.HTTP.Backend, "spec", "http", "backend")
		}
		if s.Spec.GRPC != nil {
			c.backend(s.Doc, s.Spec.GRPC.Backend, "spec", "grpc", "backend")
		}
	}
	for _, s := range m.RateLimitServices {
		declared["rateLimitServices"][s.Doc.Name] = true
		c.backend(s.Doc, s.Spec.Backend, "spec", "backend")
	}
	use := func(d *intent.Doc, path []any, s *intent.Security) {
		if s == nil {
			return
		}
		t := c.team(d.Team)
		if t < 0 {
			return
		}
		at := func(p ...any) []any { return append(slices.Clone(path), p...) }
		check := func(field, what, name string, pos []any) {
			allowed := map[string][]string{"authProviders": c.teams[t].AuthProviders, "authServices": c.teams[t].AuthServices,
				"rateLimitServices": c.teams[t].RateLimitServices}[field]
			if allowed == nil || name == "" || !declared[field][name] || glob.Any(allowed, name) >= 0 {
				return // unknown names are lowering's to report
			}
			c.diags.Errorf(d.Pos(pos...), "ownership", "team %q may not use %s %q", c.teams[t].Name, what, name).
				Note(c.teamPos(t, field), "the %ss team %q may use; add %q here to allow it", what, c.teams[t].Name, name)
		}
		if j := s.JWT; j != nil {
			for i, p := range j.Providers {
				check("authProviders", "auth provider", p, at("jwt", "providers", i))
			}
		}
		if e := s.ExtAuth; e != nil {
			check("authServices", "auth service", e.Service, at("extAuth", "service"))
		}
		if r := s.RateLimit; r != nil {
			check("rateLimitServices", "rate-limit service", r.Service, at("rateLimit", "service"))
		}
	}
	routes := func(d *intent.Doc, rs []intent.Route, incs []intent.Include) {
		for i := range rs {
			use(d, []any{"spec", "routes", i, "security"}, rs[i].Security)
		}
		for i := range incs {
			use(d, []any{"spec", "includes", i, "security"}, incs[i].Security)
		}
	}
	for _, g := range m.Gateways {
		if df := g.Spec.Defaults; df != nil {
			use(g.Doc, []any{"spec", "defaults", "security"}, df.Security)
		}
	}
	for _, vh := range m.VirtualHosts {
		use(vh.Doc, []any{"spec", "security"}, vh.Spec.Security)
		routes(vh.Doc, vh.Spec.Routes, vh.Spec.Includes)
	}
	for _, rs := range m.RouteSets {
		routes(rs.Doc, rs.Spec.Routes, rs.Spec.Includes)
	}
}

// backend checks a backend a document reaches against its team's list.
func (c *checker) backend(d *intent.Doc, name string, path ...any) {
	t := c.team(d.Team)
	if t < 0 || c.teams[t].Backends == nil || name == "" || !c.backends[name] || glob.Any(c.teams[t].Backends, name) >= 0 {
		return
	}
	c.diags.Errorf(d.Pos(path...), "ownership", "team %q may not use backend %q", c.teams[t].Name, name).
		Note(c.teamPos(t, "backends"), "the backends team %q may use; add %q here to allow it", c.teams[t].Name, name)
}
