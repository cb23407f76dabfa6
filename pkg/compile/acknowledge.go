package compile

import (
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
)

// acknowledge applies edgectl.yaml's acknowledgements: a warning they
// match becomes a note that carries the reason, so CI can fail on warnings
// and still accept the ones a team has reviewed. Errors cannot be
// acknowledged. An acknowledgement that matches nothing is itself a
// warning, so none outlives the problem it was written for.
func acknowledge(proj *intent.Project, diags diag.List) diag.List {
	if proj == nil || len(proj.Spec.Acknowledge) == 0 {
		return diags
	}
	acks := proj.Spec.Acknowledge
	used := make([]bool, len(acks))
	out := make(diag.List, 0, len(diags))
	for _, d := range diags {
		if d.Severity == diag.Warning {
			for i, a := range acks {
				if a.Rule == d.Rule && (len(a.Files) == 0 || glob.Any(a.Files, d.Pos.File) >= 0) && strings.Contains(d.Message, a.Message) {
					used[i] = true
					d.Severity = diag.Note
					d.Message += " (acknowledged: " + a.Reason + ")"
					break
				}
			}
		}
		out = append(out, d)
	}
	for i, a := range acks {
		if !used[i] {
			out.Warnf(proj.Doc.Pos("spec", "acknowledge", i), "acknowledgement", "this acknowledgement of %s matches no warning; remove it", a.Rule)
		}
	}
	return out
}
