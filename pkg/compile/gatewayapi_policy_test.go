package compile

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/source"
)

// TestGatewayAPIPolicyLimitStopsEveryFile: the Gateway API documents reach
// the policies a file at a time, in path order, and the first limit a
// policy hits must still stop the evaluation of every document after it,
// as it does for edgectl's own; else a runaway policy would run out its
// time limit once per file.
func TestGatewayAPIPolicyLimitStopsEveryFile(t *testing.T) {
	fsys := fstest.MapFS{
		"edgectl.yaml": {Data: []byte("apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: p}\nspec:\n  exclude: [\"k8s/**\"]\n")},
		"policies/bomb.rego": {Data: []byte(`package bomb

import rego.v1

deny contains msg if {
	input.kind == "HTTPRoute"
	input.metadata.name == "r0"
	count(net.cidr_expand("::/0")) > 0
	msg := "unreachable"
}

deny contains msg if {
	input.kind == "HTTPRoute"
	input.metadata.name != "r0"
	msg := sprintf("evaluated %s", [input.metadata.name])
}
`)},
		"k8s/gateway.yaml": {Data: []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge}
spec:
  gatewayClassName: edgectl
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
`)},
	}
	for i := range 5 {
		fsys[fmt.Sprintf("k8s/route-%d.yaml", i)] = &fstest.MapFile{Data: fmt.Appendf(nil, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r%d}
spec:
  parentRefs: [{name: edge}]
  hostnames: [r%d.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`, i, i)}
	}
	_, diags, err := Compile(context.Background(), &source.Source{FS: fsys}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	limits, evaluated := 0, 0
	for _, d := range diags {
		switch d.Rule {
		case "policy-limit":
			limits++
		case "bomb.deny":
			evaluated++
		}
	}
	if limits != 1 || evaluated != 0 {
		t.Errorf("%d policy-limit findings and %d documents evaluated after it, want 1 and 0:\n%v", limits, evaluated, diags)
	}
}
