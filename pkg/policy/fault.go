package policy

import (
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// RuleFaultInjection is the finding of the faultInjection built-in: a
// route injects faults on a gateway the policy does not list.
const RuleFaultInjection = "edgectl.builtin.fault_injection.violation"

// RuleFaultInjectionWarning is lowering's warning about a fault while the
// built-in is off; the built-in, when on, decides instead.
const RuleFaultInjectionWarning = "fault-injection"

// FaultInjection evaluates the faultInjection built-in over the lowered
// gateways: fault injection is allowed only on the gateways it lists, so a
// fault written for staging never reaches production by accident. Each
// route is reported once per gateway, where it is declared.
func FaultInjection(proj *intent.Project, gws []*ir.Gateway) diag.List {
	if proj == nil || proj.Spec.Policies == nil || proj.Spec.Policies.Builtin.FaultInjection == nil {
		return nil
	}
	params := proj.Spec.Policies.Builtin.FaultInjection
	p := &securityPolicy{yaml: "faultInjection", rule: RuleFaultInjection, sev: diag.Error}
	if params.Severity == "warning" {
		p.sev = diag.Warning
	}
	if proj.Doc != nil {
		p.at = proj.Doc.KeyPos("spec", "policies", "builtin", "faultInjection")
	}
	diags := unknownGateways(proj, "faultInjection", params.Gateways, gws)
	for _, g := range gws {
		if slices.Contains(params.Gateways, g.Name) {
			continue
		}
		seen := map[*ir.Route]bool{}
		for _, vh := range servedHosts(g) {
			for _, r := range vh.Routes {
				if r.Fault == nil || seen[r] {
					continue
				}
				seen[r] = true
				p.report(&diags, r.Origin, "%s injects faults on gateway %q, which the faultInjection policy does not allow (allowed: %s)", routeLabel(r), g.Name, gatewayList(params.Gateways))
			}
		}
	}
	return diags
}

// unknownGateways warns about each gateway a built-in lists that the
// repository does not declare: a misspelt name would otherwise silently
// allow nothing where it was meant to allow something.
func unknownGateways(proj *intent.Project, builtin string, listed []string, gws []*ir.Gateway) diag.List {
	names := make([]string, len(gws))
	for i, g := range gws {
		names[i] = g.Name
	}
	var diags diag.List
	for i, name := range listed {
		if slices.Contains(names, name) {
			continue
		}
		var pos diag.Pos
		if proj.Doc != nil {
			pos = proj.Doc.Pos("spec", "policies", "builtin", builtin, "gateways", i)
		}
		msg := "the " + builtin + " policy lists gateway \"" + name + "\", which the repository does not declare"
		if s := diag.Suggest(name, names); s != "" {
			msg += " (did you mean \"" + s + "\"?)"
		}
		diags.Warnf(pos, "invalid-value", "%s", msg)
	}
	return diags
}

func gatewayList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), ", ")
}
