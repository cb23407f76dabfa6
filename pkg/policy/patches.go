package policy

import (
	"slices"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// RuleEnvoyPatches is the finding of the envoyPatches built-in.
const RuleEnvoyPatches = "edgectl.builtin.envoy_patches.violation"

// EnvoyPatches evaluates the envoyPatches built-in over the lowered
// gateways: with allowed: false every EnvoyPatch is a finding; with
// gateways, every EnvoyPatch of a gateway not in the list. It reads the
// IR, where each patch is attached to the gateway it patches.
func EnvoyPatches(proj *intent.Project, gws []*ir.Gateway) diag.List {
	if proj == nil || proj.Spec.Policies == nil || proj.Spec.Policies.Builtin.EnvoyPatches == nil {
		return nil
	}
	pol := proj.Spec.Policies.Builtin.EnvoyPatches
	sp := &securityPolicy{yaml: "envoyPatches", rule: RuleEnvoyPatches, sev: diag.Error}
	if pol.Severity == "warning" {
		sp.sev = diag.Warning
	}
	if proj.Doc != nil {
		sp.at = proj.Doc.KeyPos("spec", "policies", "builtin", "envoyPatches")
	}
	forbidden := pol.Allowed != nil && !*pol.Allowed
	diags := unknownGateways(proj, "envoyPatches", pol.Gateways, gws)
	for _, g := range gws {
		for _, p := range g.Patches {
			switch {
			case forbidden:
				sp.report(&diags, p.Origin, "EnvoyPatch %q patches gateway %q, but this repository allows no EnvoyPatches", p.Name, g.Name)
			case pol.Gateways != nil && !slices.Contains(pol.Gateways, g.Name):
				sp.report(&diags, p.Origin, "EnvoyPatch %q patches gateway %q, which is not among the gateways EnvoyPatches may patch", p.Name, g.Name)
			}
		}
	}
	return diags
}
