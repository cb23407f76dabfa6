package policy

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/intent"
)

func loadDiags(t *testing.T, spec string) []string {
	t.Helper()
	fsys := fstest.MapFS{"edgectl.yaml": {Data: []byte(project + "spec:\n" + spec)}}
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	_, diags, err = Load(fsys, m.Project, false)
	if err != nil {
		t.Fatal(err)
	}
	return lines(diags)
}

// TestInvalidParams gives each built-in several parameters the schema
// accepts and edgectl cannot use; each is an error at its position.
func TestInvalidParams(t *testing.T) {
	t.Parallel()
	const teams = "  teams:\n  - {name: platform, paths: [\"**\"]}\n"
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"maxTimeout overflow", "  policies:\n    builtin:\n      maxTimeout: {max: 99999999999h}\n",
			[]string{`edgectl.yaml:7:25: error: maxTimeout: max "99999999999h" is not a duration edgectl can use (at most about 2562047h0m0s): time: invalid duration "99999999999h" [invalid-value]`}},
		{"maxTimeout zero", "  policies:\n    builtin:\n      maxTimeout: {max: 0s}\n",
			[]string{"edgectl.yaml:7:25: error: maxTimeout: max 0s allows no timeout at all; give a positive duration [invalid-value]"}},
		{"maxRetries too many", "  policies:\n    builtin:\n      maxRetries: {max: 99999999999}\n",
			[]string{"edgectl.yaml:7:25: error: maxRetries: max 99999999999 is out of range: give a whole number from 0 to 4294967295 (Envoy's limit) [invalid-value]"}},
		{"wildcardHosts empty and unknown", "  policies:\n    builtin:\n      wildcardHosts: {teams: []}\n",
			[]string{"edgectl.yaml:7:30: error: wildcardHosts: teams is empty, so the policy cannot be satisfied; list at least one [invalid-value]"}},
		{"wildcardHosts undeclared team", teams + "  policies:\n    builtin:\n      wildcardHosts: {teams: [platform, shop]}\n",
			[]string{`edgectl.yaml:9:41: error: wildcardHosts: team "shop" is not declared under spec.teams [invalid-value]`}},
		{"redirectHosts empty", "  policies:\n    builtin:\n      redirectHosts: {allowed: []}\n",
			[]string{"edgectl.yaml:7:32: error: redirectHosts: allowed is empty, so the policy cannot be satisfied; list at least one [invalid-value]"}},
		{"redirectHosts duplicate", "  policies:\n    builtin:\n      redirectHosts: {allowed: [acme.io, acme.io]}\n",
			[]string{`edgectl.yaml:7:32: error: redirectHosts: allowed lists "acme.io" twice [invalid-value]`}},
		{"healthChecks bad globs", "  policies:\n    builtin:\n      healthChecks: {exclude: [\"shop-[\", \"\"]}\n",
			[]string{
				`edgectl.yaml:7:32: error: healthChecks: exclude[0]: "shop-[" is not a valid glob: glob: syntax error at 6: unexpected end of input [invalid-value]`,
				`edgectl.yaml:7:42: error: healthChecks: exclude[1] is empty [invalid-value]`,
			}},
		{"upstreamTLS bad glob", "  policies:\n    builtin:\n      upstreamTLS: {exclude: [\"{a,b\"]}\n",
			[]string{"edgectl.yaml:7:31: error: upstreamTLS: exclude[0]: \"{a,b\" is not a valid glob: glob: syntax error at 4: unclosed `{` [invalid-value]"}},
		{"limits out of range", "  policies:\n    limits: {timeout: 0s, memory: 99999999999Gi}\n",
			[]string{
				"edgectl.yaml:6:23: error: policy timeout 0s is out of range: give more than 0s and at most 1h0m0s [invalid-value]",
				`edgectl.yaml:6:35: error: policy memory limit "99999999999Gi" is out of range: give a size from 1Mi to 64Gi, such as 512Mi [invalid-value]`,
			}},
		{"valid", teams + "  policies:\n    limits: {timeout: 2m, memory: 1Gi}\n    builtin:\n      maxTimeout: {max: 30s}\n      maxRetries: {max: 0}\n      wildcardHosts: {teams: [platform]}\n      redirectHosts: {allowed: [\"*.acme.io\"]}\n      healthChecks: {exclude: [\"*-v2\"]}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := loadDiags(t, tc.spec)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
