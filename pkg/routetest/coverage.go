package routetest

import (
	"cmp"
	"slices"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Coverage counts the routes of a repository that some test's request
// reaches. A route is counted once where it is written, however many
// virtual hosts include it and however many listeners serve it; the
// redirects to HTTPS that edgectl adds are not counted.
type Coverage struct {
	Routes  int `json:"routes"`
	Reached int `json:"reached"`
	// Teams lists every team that owns routes, by name ("" for routes of
	// a repository without teams).
	Teams []*TeamCoverage `json:"teams"`
}

// TeamCoverage is the coverage of one team's routes.
type TeamCoverage struct {
	Team    string `json:"team"`
	Routes  int    `json:"routes"`
	Reached int    `json:"reached"`
	// Unreached are the routes no test reaches, by position.
	Unreached []RouteRef `json:"unreached"`
}

// Percent is the share of routes reached, 100 when there are none.
func (c *Coverage) Percent() float64 { return percent(c.Reached, c.Routes) }

// Percent is the share of the team's routes reached.
func (t *TeamCoverage) Percent() float64 { return percent(t.Reached, t.Routes) }

func percent(n, of int) float64 {
	if of == 0 {
		return 100
	}
	return float64(n) / float64(of) * 100
}

// coverage counts the routes of every gateway against those reached.
func coverage(gws []*ir.Gateway, reached map[diag.Pos]bool) *Coverage {
	seen := map[diag.Pos]bool{}
	teams := map[string]*TeamCoverage{}
	c := &Coverage{}
	for _, g := range gws {
		generated := generatedRoutes(g)
		for _, l := range g.Listeners {
			for _, t := range tablesOf(l) {
				for _, vh := range t.VirtualHosts {
					for _, rt := range vh.Routes {
						if generated[rt] || seen[rt.Origin] {
							continue
						}
						seen[rt.Origin] = true
						tc := teams[rt.Team]
						if tc == nil {
							tc = &TeamCoverage{Team: rt.Team, Unreached: []RouteRef{}}
							teams[rt.Team] = tc
						}
						c.Routes++
						tc.Routes++
						if reached[rt.Origin] {
							c.Reached++
							tc.Reached++
							continue
						}
						tc.Unreached = append(tc.Unreached, RouteRef{Gateway: g.Name, Listener: l.Name, VirtualHost: vh.Name,
							Name: rt.Name, Team: rt.Team, Origin: Pos{rt.Origin}})
					}
				}
			}
		}
	}
	c.Teams = []*TeamCoverage{}
	for _, name := range sortedKeys(teams) {
		tc := teams[name]
		slices.SortFunc(tc.Unreached, func(a, b RouteRef) int {
			return cmp.Or(cmp.Compare(a.Origin.File, b.Origin.File), cmp.Compare(a.Origin.Line, b.Origin.Line), cmp.Compare(a.Origin.Col, b.Origin.Col))
		})
		c.Teams = append(c.Teams, tc)
	}
	return c
}

// tablesOf returns the route tables of a listener: its own, then those of
// its filter chains.
func tablesOf(l *ir.Listener) []*ir.RouteTable {
	var out []*ir.RouteTable
	if l.Routes != nil {
		out = append(out, l.Routes)
	}
	for _, fc := range l.Chains {
		if fc.Routes != nil {
			out = append(out, fc.Routes)
		}
	}
	return out
}

// generatedRoutes finds the redirects to HTTPS that edgectl adds. On a
// plain listener, a virtual host that also has TLS holds either its own
// routes or, when it redirects, only the added redirect: a route that is
// not among its routes over TLS.
func generatedRoutes(g *ir.Gateway) map[*ir.Route]bool {
	secure := map[string]map[diag.Pos]bool{} // virtual host → origins of its routes over TLS
	for _, l := range g.Listeners {
		for _, fc := range l.Chains {
			if fc.Routes == nil {
				continue
			}
			for _, vh := range fc.Routes.VirtualHosts {
				if secure[vh.Name] == nil {
					secure[vh.Name] = map[diag.Pos]bool{}
				}
				for _, rt := range vh.Routes {
					secure[vh.Name][rt.Origin] = true
				}
			}
		}
	}
	out := map[*ir.Route]bool{}
	for _, l := range g.Listeners {
		if l.Routes == nil {
			continue
		}
		for _, vh := range l.Routes.VirtualHosts {
			origins, ok := secure[vh.Name]
			if !ok {
				continue
			}
			for _, rt := range vh.Routes {
				if !origins[rt.Origin] {
					out[rt] = true
				}
			}
		}
	}
	return out
}
