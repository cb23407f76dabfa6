package policy

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/edgectl/edgectl/pkg/intent"
)

func TestGuardKinds(t *testing.T) {
	t.Parallel()
	src := `package g

import rego.v1

deny contains "a" if input.kind == "Backend"

deny_b contains "b" if "Gateway" == input.kind

warn contains "c" if {
	input.kind in {"VirtualHost", "RouteSet"}
	input.spec
}

violation contains "d" if input.spec.x

deny_e contains "e" if not input.kind == "Backend"

deny_f contains "f" if input.kind in {"Backend", input.other}
`
	m := ast.MustParseModuleWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	want := [][]string{{"Backend"}, {"Gateway"}, {"VirtualHost", "RouteSet"}, nil, nil, nil}
	for i, r := range m.Rules {
		got := guardKinds(r)
		slices.Sort(got)
		w := slices.Clone(want[i])
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("rule %s: kinds %v, want %v", r.Head.Name, got, w)
		}
	}
}

// TestRulesReachTheirKinds evaluates guarded and unguarded rules on every
// kind: a guard narrows where a rule runs, never what it reports.
func TestRulesReachTheirKinds(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: p}\n")},
		"policies/p.rego": {Data: []byte(`package p

import rego.v1

deny contains "every document" if input.metadata.name

deny_backend contains "backends only" if input.kind == "Backend"

warn contains "routes" if {
	input.kind in {"VirtualHost", "RouteSet"}
}

warn contains "also certificates" if input.kind == "Certificate"

warn_auth contains "auth services too" if input.spec.http.backend == "b"
`)},
		"all.yaml": {Data: []byte(`apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: b}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: c}
spec: {ca: {file: /ca.pem}}
---
apiVersion: edgectl.dev/v1alpha1
kind: RouteSet
metadata: {name: r}
spec: {}
---
apiVersion: edgectl.dev/v1alpha1
kind: AuthService
metadata: {name: a}
spec: {http: {backend: b}}
`)},
	}
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	mods, diags, err := Load(fsys, m.Project, false)
	if err != nil || len(diags) > 0 {
		t.Fatal(err, diags)
	}
	e, diags, err := Prepare(context.Background(), mods, m.Project, m)
	if err != nil || len(diags) > 0 {
		t.Fatal(err, diags)
	}
	got, err := e.Documents(context.Background(), m.Docs)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range got.Sorted() {
		lines = append(lines, d.Pos.String()+" "+d.Message+" "+d.Rule)
	}
	want := []string{
		"all.yaml:3:18 every document p.deny",
		"all.yaml:3:18 backends only p.deny_backend",
		"all.yaml:8:18 every document p.deny",
		"all.yaml:8:18 also certificates p.warn",
		"all.yaml:13:18 every document p.deny",
		"all.yaml:13:18 routes p.warn",
		"all.yaml:18:18 every document p.deny",
		"all.yaml:18:18 auth services too p.warn_auth",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("findings:\n%v\nwant:\n%v", lines, want)
	}
}
