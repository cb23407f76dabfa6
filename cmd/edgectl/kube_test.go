package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/edgectl/edgectl/internal/kubetest"
)

// TestKubeScripts runs testdata/kube/*.txtar against a real kube-apiserver:
// $KUBECONFIG authenticates as a cluster admin, $NOBODY_KUBECONFIG as a
// user without grants, and $NS is a fresh namespace for each script.
func TestKubeScripts(t *testing.T) {
	t.Parallel()
	c := kubetest.Start(t)
	admin := c.Kubeconfig(t, c.AdminToken)
	nobody := c.Kubeconfig(t, c.NobodyToken)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/kube",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": exits},
		Setup: func(env *testscript.Env) error {
			env.Setenv("KUBECONFIG", admin)
			env.Setenv("NOBODY_KUBECONFIG", nobody)
			env.Setenv("NS", c.Namespace(t))
			return nil
		},
	})
}
