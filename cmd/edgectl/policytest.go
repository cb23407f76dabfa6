package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with the repository's Rego policies",
	}
	cmd.AddCommand(newPolicyTestCmd())
	return cmd
}

type policyTestFlags struct {
	project projectFlags
	output  string
	run     string
}

func newPolicyTestCmd() *cobra.Command {
	var f policyTestFlags
	cmd := &cobra.Command{
		Use:   "test [SOURCE]",
		Short: "Run the repository's Rego policy tests",
		Long: `Test runs every test_* rule of the repository's policy files (usually in
*_test.rego beside the policies, under policies/ by default) with OPA's test
runner, against the repository's policies and the built-ins edgectl.yaml
switches on, with the same data.edgectl a compile gives them.

Exit codes: 0 every test passed, 1 edgectl failed, 2 usage error, 3 a test
failed or a policy does not compile.`,
		Example: `  edgectl policy test
  edgectl policy test examples/acme --run 'timeout'
  edgectl policy test -o json`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runPolicyTest(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&f.run, "run", "", "run only tests whose name matches this regular expression")
	return cmd
}

func runPolicyTest(cmd *cobra.Command, f policyTestFlags, a []string) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	src, err := openProject(f.project, a)
	if err != nil {
		return err
	}
	defer src.Close()
	m, diags, err := intent.Load(src.FS, intent.Options{})
	if err != nil {
		return err
	}
	if m.Project == nil {
		printDiagnostics(cmd.ErrOrStderr(), diags.WithPrefix(src.Prefix))
		return rejected(diags)
	}
	mods, pd, err := policy.Load(src.FS, m.Project, true)
	if err != nil {
		return err
	}
	results, td, err := policy.Test(context.Background(), mods, m.Project, m.Docs, f.run)
	if err != nil {
		return err
	}
	problems := append(pd, td...).Sorted().WithPrefix(src.Prefix)
	failed := 0
	for _, r := range results {
		if !r.Pass {
			failed++
		}
	}
	out := cmd.OutOrStdout()
	if f.output == "json" {
		rep := struct {
			Tests  []policy.TestResult `json:"tests"`
			Passed int                 `json:"passed"`
			Failed int                 `json:"failed"`
			diag.JSONReport
		}{Tests: append([]policy.TestResult{}, results...), Passed: len(results) - failed, Failed: failed, JSONReport: diag.Report(problems)}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printDiagnostics(cmd.ErrOrStderr(), problems)
		for _, r := range results {
			status := "PASS"
			if !r.Pass {
				status = "FAIL"
			}
			fmt.Fprintf(out, "%s %s.%s (%s)\n", status, r.Package, r.Name, r.Duration.Round(1000))
			if !r.Pass {
				where := r.Pos
				where.File = joinPrefix(src.Prefix, where.File)
				fmt.Fprintf(out, "    at %s\n", where)
				if r.Error != "" {
					fmt.Fprintf(out, "    error: %s\n", r.Error)
				}
				for _, line := range strings.Split(strings.TrimSpace(r.Output), "\n") {
					if line != "" {
						fmt.Fprintf(out, "    %s\n", line)
					}
				}
			}
		}
		if len(results) == 0 && len(problems) == 0 {
			fmt.Fprintln(out, "no policy tests found")
		} else {
			fmt.Fprintf(out, "%d passed, %d failed\n", len(results)-failed, failed)
		}
	}
	if failed > 0 || problems.HasErrors() {
		return &exitError{code: exitRejected, err: fmt.Errorf("policy tests: %d failed, %s", failed, diag.Summary(problems))}
	}
	return nil
}

func joinPrefix(prefix, file string) string {
	if prefix == "" || strings.HasPrefix(file, "<") {
		return file
	}
	return prefix + "/" + file
}
