package policy

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/intent"
)

func policyWith(body string) string {
	return "package p\n\nimport rego.v1\n\ndeny contains \"x\" if {\n\tinput.kind == \"Backend\"\n" + body + "}\n"
}

// TestMemoryBombsAreRefused evaluates built-in calls that would build
// gigabytes: each is refused from its arguments, before it allocates, and
// reported at the call. None depends on the machine's speed.
func TestMemoryBombsAreRefused(t *testing.T) {
	t.Parallel()
	var doubling strings.Builder
	doubling.WriteString("\tx0 := [1]\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "\tx%d := array.concat(x%d, x%d)\n", i, i-1, i-1)
	}
	doubling.WriteString("\tcount(x40) > 0\n")
	for _, tc := range []struct {
		name, body, want string
	}{
		{"cidr_expand IPv4", "\tcount(net.cidr_expand(\"10.0.0.0/8\")) > 0\n", "policies/p.rego:7:8: error: net.cidr_expand would build about 1Gi, over the policy memory limit of 512Mi"},
		{"cidr_expand IPv6", "\tcount(net.cidr_expand(\"::/0\")) > 0\n", "policies/p.rego:7:8: error: net.cidr_expand would build more than 1Ti"},
		{"numbers.range", "\tsome n in numbers.range(1, 1000000000000)\n\tn > 5\n", "policies/p.rego:7:12: error: numbers.range would build more than 1Ti"},
		{"numbers.range_step", "\tsome n in numbers.range_step(0, 100000000000, 2)\n\tn > 5\n", "policies/p.rego:7:12: error: numbers.range_step would build more than 1Ti"},
		{"sprintf widths", "\tf := concat(\"\", [\"%0999999d\" | some _ in numbers.range(1, 1000)])\n\tsprintf(f, numbers.range(1, 1000)) != \"\"\n", "policies/p.rego:8:2: error: sprintf would build about"},
		{"bits.lsh", "\tbits.lsh(1, 100000000000) > 0\n", "policies/p.rego:7:2: error: bits.lsh would build about"},
		{"replace with an empty needle", "\ts := concat(\"\", [\"0123456789\" | some _ in numbers.range(1, 100000)])\n\treplace(s, \"\", s) != \"\"\n", "policies/p.rego:8:2: error: replace would build about"},
		{"concat of shared strings", "\ts := concat(\"\", [\"0123456789\" | some _ in numbers.range(1, 100000)])\n\tall := concat(\",\", [s | some _ in numbers.range(1, 1000)])\n\tall != \"\"\n", "policies/p.rego:8:9: error: concat would build about 953.7Mi"},
		{"json.marshal of shared values", "\ts := concat(\"\", [\"0123456789\" | some _ in numbers.range(1, 100000)])\n\tjson.marshal([s | some _ in numbers.range(1, 1000)]) != \"\"\n", "policies/p.rego:8:2: error: json.marshal would build about"},
		{"doubling array", doubling.String(), "error: array.concat would build about"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The time limit is out of reach, so that only the memory limit
			// can stop these, however loaded the machine (building the
			// doubling array up to the memory limit takes seconds of CPU).
			got := evaluate(t, map[string]string{
				"edgectl.yaml":    project + "spec: {policies: {limits: {timeout: 1h}}}\n",
				"b.yaml":          backendDoc,
				"policies/p.rego": policyWith(tc.body),
			})
			if len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.HasSuffix(got[0], "[policy-limit]") {
				t.Errorf("got\n%s\nwant one policy-limit finding with\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// TestRefusedBeforeAllocating measures what the refused expansion of
// 10.0.0.0/8 allocated: OPA would build 16 million strings, gigabytes. It
// does not run in parallel, so the allocation counter is this test's.
func TestRefusedBeforeAllocating(t *testing.T) {
	files := map[string]string{"b.yaml": backendDoc, "policies/p.rego": policyWith("\tcount(net.cidr_expand(\"10.0.0.0/8\")) > 0\n")}
	evaluate(t, files) // warm up: parse schemas and compile once
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := evaluate(t, files)
	runtime.ReadMemStats(&after)
	if len(got) != 1 || !strings.HasSuffix(got[0], "[policy-limit]") {
		t.Fatalf("got %v, want a policy-limit finding", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("evaluating the refused call allocated %d MiB", alloc>>20)
	}
}

func TestMemoryLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	policy := policyWith("\tcount(net.cidr_expand(\"10.0.0.0/16\")) > 0\n") // 65536 addresses, 4Mi
	for _, tc := range []struct {
		limits string
		want   string
	}{
		{"", "b.yaml:3:18: error: x [p.deny]"},
		{"limits: {memory: 8Mi}", "b.yaml:3:18: error: x [p.deny]"},
		{"limits: {memory: 2Mi}", "policies/p.rego:7:8: error: net.cidr_expand would build about 4Mi, over the policy memory limit of 2Mi; raise spec.policies.limits.memory in edgectl.yaml if the policy really needs it [policy-limit]"},
	} {
		t.Run(tc.limits, func(t *testing.T) {
			t.Parallel()
			proj := project
			if tc.limits != "" {
				proj += "spec:\n  policies:\n    " + tc.limits + "\n"
			}
			got := evaluate(t, map[string]string{"edgectl.yaml": proj, "b.yaml": backendDoc, "policies/p.rego": policy})
			if !slices.Equal(got, []string{tc.want}) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// TestTimeLimit gives policies that would run for hours a small time limit,
// and trivial ones a generous limit: the outcome does not depend on the
// machine's speed.
func TestTimeLimit(t *testing.T) {
	t.Parallel()
	const hours = "\tcount([x | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); x := i * j]) > 0\n"
	for _, tc := range []struct {
		name, limits, body, want string
	}{
		{"nested loops", "limits: {timeout: 100ms}", hours,
			"policies/p.rego:5:1: "},
		{"nested loops, one expression each", "limits: {timeout: 100ms}", "\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n",
			"policies/p.rego:5:1: "},
		{"a growing object", "limits: {timeout: 100ms}", "\tx := {sprintf(\"%d-%d\", [i, j]): numbers.range(1, 1000) | some i in numbers.range(1, 1000000); some j in numbers.range(1, 1000000)}\n\tcount(x) > 0\n",
			"policies/p.rego:5:1: "},
		{"trivial, generous limit", "limits: {timeout: 10m}", "\tcount(numbers.range(1, 100)) == 100\n",
			"b.yaml:3:18: error: x [p.deny]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proj := project + "spec:\n  policies:\n    " + tc.limits + "\n"
			got := evaluate(t, map[string]string{"edgectl.yaml": proj, "b.yaml": backendDoc, "b2.yaml": strings.ReplaceAll(backendDoc, "name: b}", "name: c}"), "policies/p.rego": policyWith(tc.body)})
			if strings.HasPrefix(tc.want, "b.yaml") {
				want := []string{tc.want, "b2.yaml:3:18: error: x [p.deny]"}
				if !slices.Equal(got, want) {
					t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) || !strings.Contains(got[0], "policy evaluation stopped after the time limit") || !strings.HasSuffix(got[0], "[policy-limit]") {
				t.Errorf("got %d\n%q\nwant one policy-limit finding at %s", len(got), got, tc.want)
			}
		})
	}
}

func TestLimitsInPolicyTests(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"edgectl.yaml": {Data: []byte(project + "spec:\n  policies:\n    limits: {timeout: 50ms}\n")},
		"policies/p_test.rego": {Data: []byte(`package p_test

import rego.v1

test_bomb if count(net.cidr_expand("::/0")) > 0

test_hours if count([x | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); x := i * j]) > 0

test_fine if count(net.cidr_expand("10.0.0.0/30")) == 4
`)},
	}
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	mods, _, err := Load(fsys, m.Project, true)
	if err != nil {
		t.Fatal(err)
	}
	res, diags, err := Test(context.Background(), mods, m.Project, m.Docs, "")
	if err != nil {
		t.Fatal(err)
	}
	var pass []string
	for _, r := range res {
		pass = append(pass, fmt.Sprintf("%s %v", r.Name, r.Pass))
	}
	if want := []string{"test_bomb false", "test_fine true", "test_hours false"}; !slices.Equal(pass, want) {
		t.Errorf("results %v, want %v", pass, want)
	}
	got := lines(diags)
	if len(got) != 2 || !strings.HasPrefix(got[0], "policies/p_test.rego:5:20: error: net.cidr_expand would build") ||
		!strings.HasPrefix(got[1], "policies/p_test.rego:7:1: error: policy evaluation stopped after the time limit of 50ms") {
		t.Errorf("findings:\n%s", strings.Join(got, "\n"))
	}
}
