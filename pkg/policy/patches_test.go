package policy

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

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

// TestUnknownGateways: a gateway the faultInjection or envoyPatches
// built-in lists but the repository does not declare is a warning at the
// name, with the closest declared gateway; declared names pass.
func TestUnknownGateways(t *testing.T) {
	t.Parallel()
	proj := `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: p}
spec:
  policies:
    builtin:
      faultInjection:
        gateways: [staging, stagin]
      envoyPatches:
        gateways: [edge, interal]
`
	m, ds, err := intent.Load(fstest.MapFS{"edgectl.yaml": {Data: []byte(proj)}}, intent.Options{})
	if err != nil || ds.HasErrors() {
		t.Fatalf("load: %v %v", err, ds)
	}
	gws := []*ir.Gateway{{Name: "edge"}, {Name: "internal"}, {Name: "staging"}}
	got := append(lines(FaultInjection(m.Project, gws)), lines(EnvoyPatches(m.Project, gws))...)
	want := []string{
		`edgectl.yaml:8:29: warning: the faultInjection policy lists gateway "stagin", which the repository does not declare (did you mean "staging"?) [invalid-value]`,
		`edgectl.yaml:10:26: warning: the envoyPatches policy lists gateway "interal", which the repository does not declare (did you mean "internal"?) [invalid-value]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
