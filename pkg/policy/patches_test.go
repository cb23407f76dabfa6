package policy

import (
	"slices"
	"testing"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

func TestEnvoyPatches(t *testing.T) {
	t.Parallel()
	no, yes := false, true
	gws := []*ir.Gateway{
		{Name: "edge", Patches: []*ir.Patch{{Name: "a", Origin: pos(3)}, {Name: "b", Origin: pos(9)}}},
		{Name: "internal", Patches: []*ir.Patch{{Name: "c", Origin: pos(20)}}},
		{Name: "quiet"},
	}
	tests := []struct {
		name string
		pol  *intent.EnvoyPatchesPolicy
		want []string
	}{
		{"off", nil, nil},
		{"on, allowing everything", &intent.EnvoyPatchesPolicy{}, nil},
		{"allowed: true", &intent.EnvoyPatchesPolicy{Allowed: &yes}, nil},
		{"allowed: false refuses every patch", &intent.EnvoyPatchesPolicy{Allowed: &no}, []string{
			`api.yaml:3:3 error EnvoyPatch "a" patches gateway "edge", but this repository allows no EnvoyPatches`,
			`api.yaml:9:3 error EnvoyPatch "b" patches gateway "edge", but this repository allows no EnvoyPatches`,
			`api.yaml:20:3 error EnvoyPatch "c" patches gateway "internal", but this repository allows no EnvoyPatches`,
		}},
		{"allowed: false wins over gateways", &intent.EnvoyPatchesPolicy{Allowed: &no, Gateways: []string{"edge", "internal"}}, []string{
			`api.yaml:3:3 error EnvoyPatch "a" patches gateway "edge", but this repository allows no EnvoyPatches`,
			`api.yaml:9:3 error EnvoyPatch "b" patches gateway "edge", but this repository allows no EnvoyPatches`,
			`api.yaml:20:3 error EnvoyPatch "c" patches gateway "internal", but this repository allows no EnvoyPatches`,
		}},
		{"listed gateways only", &intent.EnvoyPatchesPolicy{Gateways: []string{"internal"}, Severity: "warning"}, []string{
			`api.yaml:3:3 warning EnvoyPatch "a" patches gateway "edge", which is not among the gateways EnvoyPatches may patch`,
			`api.yaml:9:3 warning EnvoyPatch "b" patches gateway "edge", which is not among the gateways EnvoyPatches may patch`,
		}},
		{"an empty list allows none", &intent.EnvoyPatchesPolicy{Gateways: []string{}}, []string{
			`api.yaml:3:3 error EnvoyPatch "a" patches gateway "edge", which is not among the gateways EnvoyPatches may patch`,
			`api.yaml:9:3 error EnvoyPatch "b" patches gateway "edge", which is not among the gateways EnvoyPatches may patch`,
			`api.yaml:20:3 error EnvoyPatch "c" patches gateway "internal", which is not among the gateways EnvoyPatches may patch`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := EnvoyPatches(projectWith(intent.BuiltinPolicies{EnvoyPatches: tt.pol}), gws)
			var lines []string
			for _, d := range got {
				if d.Rule != RuleEnvoyPatches {
					t.Errorf("rule %q", d.Rule)
				}
				lines = append(lines, d.Pos.String()+" "+d.Severity.String()+" "+d.Message)
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", lines, tt.want)
			}
		})
	}
	if got := EnvoyPatches(nil, gws); len(got) != 0 {
		t.Errorf("no project: %v", got)
	}
}
