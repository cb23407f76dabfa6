package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/gatewayapi"
)

type validateFlags struct {
	project projectFlags
	output  string
	failOn  string
}

func newValidateCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [SOURCE]",
		Short: "Check a routing repository without writing anything",
		Long: `Validate runs the whole compile (schema, references, conflicts, Envoy's own
validation of every generated resource) and reports every finding, but writes
no bundle. SOURCE is a directory of the working tree (default: the current
one; edgectl.yaml is found by walking up from it), or a git revision:
--rev main reads the same project as of main, and the buf-style
'.git#branch=main,subdir=edge' (also tag= and ref=) names any project in any
revision. Revisions are read from git's object store, without a checkout.

Findings print as path:line:col: severity: message [rule], sorted, with paths
relative to the root of the git repository. Exit codes: 0 valid, 1 edgectl
failed, 2 usage error, 3 the repository has errors (or warnings, with
--fail-on warning).`,
		Example: `  edgectl validate
  edgectl validate examples/acme
  edgectl validate --rev HEAD~1
  edgectl validate '.git#tag=v1.2,subdir=examples/acme'
  edgectl validate -o github          # annotations on a pull request
  edgectl validate -o sarif > edgectl.sarif
  edgectl validate -o gateway-status  # Gateway API: the status a controller would set`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runValidate(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text, json, github, sarif, or gateway-status (YAML) and gateway-status-json for Gateway API input")
	cmd.Flags().StringVar(&f.failOn, "fail-on", "error", "lowest severity that fails: error or warning")
	return cmd
}

func runValidate(cmd *cobra.Command, f validateFlags, a []string) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	if err := oneOf(cmd, "fail-on"); err != nil {
		return err
	}
	failOn, _ := diag.ParseSeverity(f.failOn)
	src, err := openProject(f.project, a)
	if err != nil {
		return err
	}
	defer src.Close()
	res, diags, err := compileProject(src)
	if err != nil {
		return err
	}
	if slices.Contains(gatewayStatusFormats, f.output) {
		// The findings go to stderr as text; stdout holds only the status.
		printDiagnostics(cmd.ErrOrStderr(), diags)
		if err := writeGatewayStatus(cmd.OutOrStdout(), res, f.output); err != nil {
			return err
		}
	} else if f.output == "text" {
		printDiagnostics(cmd.ErrOrStderr(), diags)
	} else if err := diag.Write(cmd.OutOrStdout(), diags, f.output, toolVersion()); err != nil {
		return err
	}
	if diags.AtLeast(failOn) {
		return rejected(diags)
	}
	if f.output == "text" {
		fmt.Fprintf(cmd.OutOrStdout(), "valid: %s (%s)\n", modelSummary(res), diag.Summary(diags))
	}
	return nil
}

func toolVersion() diag.Tool {
	t := tool
	t.Version = readVersion().Version
	return t
}

// gatewayStatusFormats print the status conditions a Gateway API
// controller would set, instead of the findings.
var gatewayStatusFormats = []string{"gateway-status", "gateway-status-json"}

func writeGatewayStatus(w io.Writer, res *compile.Result, format string) error {
	st := &gatewayapi.Status{Gateways: []gatewayapi.GatewayStatus{}, Routes: []gatewayapi.RouteStatus{}}
	if res != nil && res.GatewayStatus != nil {
		st = res.GatewayStatus
	}
	if format == "gateway-status-json" {
		return st.WriteJSON(w)
	}
	return st.WriteYAML(w)
}

// modelSummary counts what a repository declares.
func modelSummary(res *compile.Result) string {
	if res.GatewayStatus != nil && len(res.Model.Docs) == 0 {
		return fmt.Sprintf("%s, %s (Gateway API)", count(len(res.GatewayStatus.Gateways), "gateway"), count(len(res.GatewayStatus.Routes), "route"))
	}
	routes := 0
	for _, vh := range res.Model.VirtualHosts {
		routes += len(vh.Spec.Routes)
	}
	for _, rs := range res.Model.RouteSets {
		routes += len(rs.Spec.Routes)
	}
	s := fmt.Sprintf("%s, %s, %s, %s, %s",
		count(len(res.Model.Gateways), "gateway"), count(len(res.Model.VirtualHosts), "virtual host"),
		count(routes, "route"), count(len(res.Model.Backends), "backend"), count(len(res.Model.Certificates), "certificate"))
	if n := len(res.Model.RouteSets); n > 0 {
		s += ", " + count(n, "route set")
	}
	if n := len(res.Model.AuthProviders); n > 0 {
		s += ", " + count(n, "auth provider")
	}
	if n := len(res.Model.AuthServices); n > 0 {
		s += ", " + count(n, "auth service")
	}
	if n := len(res.Model.RateLimitServices); n > 0 {
		s += ", " + count(n, "rate-limit service")
	}
	return s
}

func count(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
