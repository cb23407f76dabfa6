package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/routetest"
)

// testFormats are the output formats of edgectl test: the findings'
// formats, and JUnit XML for CI dashboards.
var testFormats = append(slices.Clone(diag.Formats), "junit")

type testFlags struct {
	project   projectFlags
	output    string
	coverage  bool
	failUnder float64
	run       string
	junit     string
}

func newTestCmd() *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test [SOURCE]",
		Short: "Run the repository's route tests",
		Long: `Test compiles the repository and sends the request of every route test (the
RouteTest documents in the files edgectl.yaml lists under tests) through
the xDS resources of the gateway it names, as Envoy would route it, then
checks what the test expects: the backend or the split, a redirect, a direct
response, the path and host the backend receives, header changes, the route
that matched, or that no route matches. SOURCE and --rev name the revision
as for validate.

A failed expectation is reported at its own position in the test file, with
what was expected and what Envoy does, and the route that matched as a note.
--coverage lists, per team, the routes no test reaches; --fail-under fails
the run when fewer than that percentage of routes are reached.

Formats (-o): text (findings on stderr, a line per file on stdout), json,
github (annotations), sarif, and junit (JUnit XML, one testsuite per test
file); --junit FILE writes JUnit XML besides the chosen format.

Exit codes: 0 every test passed, 1 edgectl failed, 2 usage error, 3 a test
failed, a test file has errors, the repository does not compile, or the
coverage is under --fail-under.`,
		Example: `  edgectl test
  edgectl test examples/acme --coverage
  edgectl test --rev main --run 'canary'
  edgectl test -o github --junit route-tests.xml --fail-under 90`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runTest(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text, json, github, sarif or junit")
	cmd.Flags().BoolVar(&f.coverage, "coverage", false, "list the routes no test reaches, per team")
	cmd.Flags().Float64Var(&f.failUnder, "fail-under", 0, "fail when tests reach fewer than this percentage of routes")
	cmd.Flags().StringVar(&f.run, "run", "", "run only tests whose name matches this regular expression")
	cmd.Flags().StringVar(&f.junit, "junit", "", "also write JUnit XML to this file")
	_ = cmd.MarkFlagFilename("junit", "xml")
	return cmd
}

func runTest(cmd *cobra.Command, f testFlags, a []string) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	if f.failUnder < 0 || f.failUnder > 100 {
		return usageErrorf("--fail-under: %v is not a percentage from 0 to 100", f.failUnder)
	}
	var opts routetest.Options
	if f.run != "" {
		re, err := regexp.Compile(f.run)
		if err != nil {
			return usageErrorf("--run: %v", err)
		}
		opts.Run = re
	}
	src, err := openProject(f.project, a)
	if err != nil {
		return err
	}
	defer src.Close()
	res, diags, err := compileProject(src)
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		// No tests run on a repository that does not compile.
		if err := writeFindings(cmd, diags, f.output); err != nil {
			return err
		}
		return rejected(diags)
	}
	suite, err := routetest.Load(src.FS, res.Model.Project)
	if err != nil {
		return err
	}
	rep, err := routetest.Run(res, suite, opts)
	if err != nil {
		return err
	}
	rep.WithPrefix(src.Prefix)
	findings := rep.Diagnostics()

	out := cmd.OutOrStdout()
	switch f.output {
	case "text":
		printDiagnostics(cmd.ErrOrStderr(), findings)
		printTestSummary(out, rep, len(suite.Files) > 0 || len(suite.Problems) > 0)
		if f.coverage || cmd.Flags().Changed("fail-under") {
			printCoverage(out, rep.Coverage, f.coverage)
		}
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*routetest.Report
			CoveragePercent float64 `json:"coveragePercent"`
			diag.JSONReport
		}{rep, round1(rep.Coverage.Percent()), diag.Report(findings)}); err != nil {
			return err
		}
	case "junit":
		if err := routetest.WriteJUnit(out, rep); err != nil {
			return err
		}
	default:
		if f.coverage {
			findings = append(findings, untested(rep.Coverage)...).Sorted()
		}
		if err := diag.Write(out, findings, f.output, toolVersion()); err != nil {
			return err
		}
	}
	if f.junit != "" {
		if err := writeJUnitFile(f.junit, rep); err != nil {
			return err
		}
	}

	if findings.HasErrors() {
		msg := fmt.Sprintf("route tests: %d passed, %d failed", rep.Passed, rep.Failed)
		if rep.NotRun > 0 {
			msg += fmt.Sprintf(", %d not run", rep.NotRun)
		}
		return &exitError{code: exitRejected, err: fmt.Errorf("%s (%s)", msg, diag.Summary(findings))}
	}
	if pct := rep.Coverage.Percent(); cmd.Flags().Changed("fail-under") && pct < f.failUnder {
		return &exitError{code: exitRejected, err: fmt.Errorf("route coverage %.1f%% is under --fail-under %v%%", pct, f.failUnder)}
	}
	return nil
}

// writeFindings prints the findings of a compile in the format asked for;
// JUnit has no place for them, so they go to stderr as text.
func writeFindings(cmd *cobra.Command, l diag.List, format string) error {
	switch format {
	case "text", "junit":
		printFindings(cmd.ErrOrStderr(), l)
		return nil
	}
	return diag.Write(cmd.OutOrStdout(), l, format, toolVersion())
}

func writeJUnitFile(name string, rep *routetest.Report) error {
	var b strings.Builder
	if err := routetest.WriteJUnit(&b, rep); err != nil {
		return err
	}
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// printTestSummary writes a line per test file and the totals.
func printTestSummary(w io.Writer, rep *routetest.Report, any bool) {
	if !any {
		fmt.Fprintln(w, "no route tests: edgectl.yaml lists no test files under tests")
		return
	}
	type counts struct{ tests, failed, errors, problems int }
	files := map[string]*counts{}
	at := func(path string) *counts {
		c := files[path]
		if c == nil {
			c = &counts{}
			files[path] = c
		}
		return c
	}
	for _, d := range rep.Problems {
		if d.Severity == diag.Error {
			at(d.Pos.File).problems++
		}
	}
	for _, f := range rep.Files {
		c := at(f.Path)
		for _, t := range f.Tests {
			c.tests++
			switch t.Status {
			case routetest.Fail:
				c.failed++
			case routetest.Error:
				c.errors++
			}
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	width := 0
	for _, p := range paths {
		width = max(width, len(p))
	}
	for _, p := range paths {
		c := files[p]
		status, detail := "ok", count(c.tests, "test")
		var bad []string
		if c.failed > 0 {
			bad = append(bad, fmt.Sprintf("%d failed", c.failed))
		}
		if c.errors > 0 {
			bad = append(bad, fmt.Sprintf("%d not run", c.errors))
		}
		if c.problems > 0 {
			bad = append(bad, count(c.problems, "error")+" in the file")
		}
		if len(bad) > 0 {
			status = "FAIL"
			detail += ": " + strings.Join(bad, ", ")
		}
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", status, width, p, detail)
	}
	total := rep.Passed + rep.Failed + rep.NotRun
	line := fmt.Sprintf("%s: %d passed, %d failed", count(total, "test"), rep.Passed, rep.Failed)
	if rep.NotRun > 0 {
		line += fmt.Sprintf(", %d not run", rep.NotRun)
	}
	fmt.Fprintln(w, line)
}

// printCoverage writes the share of routes the tests reach and, with
// detail, each team's share and the routes no test reaches.
func printCoverage(w io.Writer, c *routetest.Coverage, detail bool) {
	fmt.Fprintf(w, "coverage: %d of %s reached (%.1f%%)\n", c.Reached, count(c.Routes, "route"), c.Percent())
	if !detail {
		return
	}
	width := 0
	for _, t := range c.Teams {
		width = max(width, len(teamName(t.Team)))
	}
	for _, t := range c.Teams {
		fmt.Fprintf(w, "  %-*s  %d of %s (%.1f%%)\n", width, teamName(t.Team), t.Reached, count(t.Routes, "route"), t.Percent())
		for _, r := range t.Unreached {
			fmt.Fprintf(w, "    %s: %s\n", r.Origin, unreachedRoute(r))
		}
	}
}

func teamName(t string) string {
	if t == "" {
		return "(no team)"
	}
	return t
}

func unreachedRoute(r routetest.RouteRef) string {
	if r.Name == "" {
		return fmt.Sprintf("unnamed route of virtual host %s", r.VirtualHost)
	}
	return fmt.Sprintf("route %s of virtual host %s", r.Name, r.VirtualHost)
}

// untested makes a note of each route no test reaches, for the formats
// that annotate files (github, sarif).
func untested(c *routetest.Coverage) diag.List {
	var l diag.List
	for _, t := range c.Teams {
		for _, r := range t.Unreached {
			l.Add(diag.Diagnostic{Pos: r.Origin.Pos, Severity: diag.Note, Rule: "untested-route",
				Message: fmt.Sprintf("no route test reaches %s", unreachedRoute(r))})
		}
	}
	return l
}

// round1 rounds a percentage to one decimal, as it is printed.
func round1(p float64) float64 {
	return float64(int64(p*10+0.5)) / 10
}
