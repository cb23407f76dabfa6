package tenancy

import "github.com/edgectl/edgectl/pkg/intent"

// patches refuses an EnvoyPatch from any team but a platform team: a patch
// reaches past every check a team's intents are held to, so only the team
// that runs the gateways may write one.
func (c *checker) patches(m *intent.Model) {
	for _, p := range m.EnvoyPatches {
		t := c.team(p.Doc.Team)
		if t < 0 || c.teams[t].Platform {
			continue
		}
		c.diags.Errorf(p.Doc.Pos("kind"), "ownership", "team %q may not declare EnvoyPatch %q; only a platform team may patch generated Envoy resources", c.teams[t].Name, p.Doc.Name).
			Note(c.teamPos(t, "name"), "team %q is declared here; platform: true makes it a platform team", c.teams[t].Name)
	}
}
