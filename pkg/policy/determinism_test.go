package policy

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/intent"
)

// TestRepeatedRunsAgree evaluates the showcase's policies and built-ins,
// and a policy using the allowed built-ins whose implementations could
// vary (JWT verification, hashes, time zones), twenty times each: the
// findings must be the same bytes every time.
func TestRepeatedRunsAgree(t *testing.T) {
	t.Parallel()
	fsys := os.DirFS("../../examples/acme")
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	mods, _, err := Load(fsys, m.Project, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 2 {
		t.Fatalf("the showcase has %d policies; want its own and built-ins", len(mods))
	}
	var first string
	for i := range 20 {
		e, pd, err := Prepare(context.Background(), mods, m.Project, m)
		if err != nil || pd.HasErrors() {
			t.Fatal(err, pd)
		}
		got, err := e.Documents(context.Background(), m.Docs)
		if err != nil {
			t.Fatal(err)
		}
		out := strings.Join(lines(got), "\n")
		if i == 0 {
			first = out
			if out == "" {
				t.Fatal("the showcase gives no findings; the comparison would prove nothing")
			}
		} else if out != first {
			t.Fatalf("run %d differs:\n%s\nfirst run:\n%s", i, out, first)
		}
	}

	files := map[string]string{"b.yaml": backendDoc, "policies/p.rego": `package p

import rego.v1

deny contains msg if {
	input.kind == "Backend"
	token := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiIn0.aXbRNXZ3n-tuPBW1lQWC5lUbOTPeJ5l3kKdY7HRdF0Y"
	valid := io.jwt.verify_hs256(token, "secret")
	msg := sprintf("%v %s %s %v", [valid, crypto.sha256(input.metadata.name), time.format([0, "Asia/Kolkata"]), net.cidr_merge(["10.0.0.0/25", "10.0.0.128/25"])])
}
`}
	want := evaluate(t, files)
	for range 20 {
		if got := evaluate(t, files); !slices.Equal(got, want) {
			t.Fatalf("got\n%v\nthen\n%v", want, got)
		}
	}
}
