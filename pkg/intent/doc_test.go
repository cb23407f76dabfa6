package intent

import (
	"testing"
	"testing/fstest"
)

func TestPositionsSurviveReleasedSyntax(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: p}\n")},
		"b.yaml": {Data: []byte(`---
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: one}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata:
  name: two
spec:
  endpoints:
  - {address: 10.0.0.2, port: 80}
  - address: api.internal
    port: 443
`)},
	}
	m, diags, err := Load(fsys, Options{})
	if err != nil || len(diags) > 0 {
		t.Fatalf("load: %v %v", err, diags)
	}
	paths := [][]any{
		{"metadata", "name"},
		{"spec", "endpoints", 1, "address"},
		{"spec", "endpoints", 7, "address"}, // missing: the nearest part that exists
		{},
	}
	type pos struct{ v, k string }
	before := map[string][]pos{}
	for _, b := range m.Backends {
		for _, p := range paths {
			before[b.Doc.Name] = append(before[b.Doc.Name], pos{b.Doc.Pos(p...).String(), b.Doc.KeyPos(p...).String()})
		}
	}
	if got := m.Backends[1].Doc.Pos("spec", "endpoints", 1, "address").String(); got != "b.yaml:15:14" {
		t.Errorf("position of spec.endpoints[1].address = %s, want b.yaml:15:14", got)
	}
	m.ReleaseSyntax()
	for _, b := range m.Backends {
		for i, p := range paths {
			got := pos{b.Doc.Pos(p...).String(), b.Doc.KeyPos(p...).String()}
			if got != before[b.Doc.Name][i] {
				t.Errorf("%s %v: after release %v, before %v", b.Doc.Name, p, got, before[b.Doc.Name][i])
			}
		}
	}
}
