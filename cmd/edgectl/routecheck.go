package main

import (
	"fmt"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/routecheck"
)

type routecheckFlags struct {
	routes, tests      string
	details, onlyFails bool
	failUnder          float64
	covall             bool
}

func newRoutecheckCmd() *cobra.Command {
	var f routecheckFlags
	cmd := &cobra.Command{
		Use:   "routecheck -c ROUTES -t TESTS",
		Short: "Run Envoy router_check_tool tests against a route configuration",
		Long: `Routecheck runs a test file of Envoy's router_check_tool (its current format:
tests of test_name, input and validate, in YAML or JSON) against a route
configuration, through edgectl's route simulator, with the tool's semantics
and exit status. ROUTES is an Envoy RouteConfiguration in YAML or JSON, or a
route file of an edgectl bundle (OUT/<gateway>/xds/rds-*.yaml).

By default it prints each failed test's name, then one line per failed
check: expected: [...], actual: [...], test type: FIELD. When every test
passes it prints the route coverage: the share of routes at least one check
held for (--covall: the share of all checkable fields, listing the routes
no test reached).

Exit codes: 0 every test passed (and coverage is at least --fail-under),
1 a test failed, coverage is under --fail-under, or a file could not be
read, 2 usage error, 3 ROUTES or TESTS is invalid.`,
		Example: `  edgectl routecheck -c routes.yaml -t tests.yaml
  edgectl routecheck -c out/edge/xds/rds-http.yaml -t tests.json --details
  edgectl routecheck -c routes.json -t tests.yaml --fail-under 80 --covall`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoutecheck(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.routes, "config-path", "c", "", "the route configuration: YAML or JSON, or a bundle's rds file (required)")
	fl.StringVarP(&f.tests, "test-path", "t", "", "the router_check_tool test file: YAML or JSON (required)")
	fl.BoolVarP(&f.details, "details", "d", false, "print every test's name, and the failed checks under the failed ones")
	fl.BoolVar(&f.onlyFails, "only-show-failures", false, "print only failed tests, even with --details")
	fl.Float64VarP(&f.failUnder, "fail-under", "f", 0, "fail when route coverage is under this percentage (0 to 100)")
	fl.BoolVar(&f.covall, "covall", false, "count coverage over every checkable field, and list routes no test reached")
	return cmd
}

func runRoutecheck(cmd *cobra.Command, f routecheckFlags) error {
	if f.routes == "" || f.tests == "" {
		return usageErrorf("routecheck needs both -c ROUTES and -t TESTS")
	}
	if math.IsNaN(f.failUnder) || f.failUnder < 0 || f.failUnder > 100 {
		return usageErrorf("--fail-under: %v is not a percentage from 0 to 100", f.failUnder)
	}
	routeData, err := os.ReadFile(f.routes)
	if err != nil {
		return fmt.Errorf("read routes: %w", err)
	}
	testData, err := os.ReadFile(f.tests)
	if err != nil {
		return fmt.Errorf("read tests: %w", err)
	}
	routes, problems := routecheck.LoadRoutes(f.routes, routeData)
	suite, more := routecheck.ParseTests(f.tests, testData)
	problems = append(problems, more...)
	if problems.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), problems.Sorted())
		return rejected(problems)
	}
	rep := routecheck.Run(routes, suite)
	out := cmd.OutOrStdout()
	if err := rep.Write(out, f.details, f.onlyFails); err != nil {
		return err
	}
	if n := rep.Failed(); n > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("routecheck: %d of %d tests failed", n, len(rep.Results))}
	}
	if f.covall {
		if err := rep.WriteMissing(out); err != nil {
			return err
		}
	}
	coverage := rep.Coverage(f.covall)
	fmt.Fprintf(out, "Current route coverage: %s%%\n", routecheck.Percent(coverage))
	if f.failUnder != 0 && coverage < f.failUnder {
		return &exitError{code: exitFailure, err: fmt.Errorf("routecheck: failed to meet coverage requirement: %s%%", routecheck.Percent(f.failUnder))}
	}
	return nil
}
