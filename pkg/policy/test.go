package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
)

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	Pos      diag.Pos      `json:"-"`
	Pass     bool          `json:"pass"`
	Error    string        `json:"error,omitempty"`
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"durationNanos"`
}

// Test runs the repository's Rego tests (rules named test_* in any module,
// usually in *_test.rego files) against its policies and the enabled
// built-ins, with the same data.edgectl as a compile. run, if set, is a
// regular expression selecting tests by name.
func Test(ctx context.Context, mods []Module, proj *intent.Project, docs []*intent.Doc, run string) ([]TestResult, diag.List, error) {
	var diags diag.List
	modules := map[string]*ast.Module{}
	for _, m := range mods {
		diags = append(diags, refusedCalls(m.AST)...)
		modules[m.File] = m.AST
	}
	if diags.HasErrors() {
		return nil, diags, nil
	}
	data, err := Data(proj, mods, docs)
	if err != nil {
		return nil, nil, err
	}
	// Each test runs within the limits of a compile, so a runaway policy
	// cannot stall CI. Their problems are reported by Load.
	limits, _ := ProjectLimits(proj)
	ctx = withLimits(ctx, limits)
	compiler := ast.NewCompiler().WithUnsafeBuiltins(unsafeBuiltins).WithEnablePrintStatements(true).WithDefaultRegoVersion(ast.RegoV1)
	r := tester.NewRunner().
		SetCompiler(compiler).
		SetModules(modules).
		SetStore(inmem.NewFromObject(data)).
		CapturePrintOutput(true).
		SetTimeout(limits.Timeout)
	if run != "" {
		r = r.Filter(run)
	}
	ch, err := r.RunTests(ctx, nil)
	if err != nil {
		var astErrs ast.Errors
		if errors.As(err, &astErrs) {
			for _, d := range astErrors(err) {
				if !reportedCall(d.Message) {
					diags = append(diags, d)
				}
			}
			return nil, diags, nil
		}
		return nil, nil, fmt.Errorf("run policy tests: %w", err)
	}
	var out []TestResult
	for res := range ch {
		tr := TestResult{Package: strings.TrimPrefix(res.Package, "data."), Name: res.Name, Pass: res.Pass(), Output: string(res.Output), Duration: res.Duration}
		if res.Location != nil {
			tr.Pos = diag.Pos{File: res.Location.File, Line: res.Location.Row, Col: res.Location.Col}
		}
		if res.Error != nil {
			tr.Error = res.Error.Error()
			err := res.Error
			if topdown.IsCancel(err) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
			}
			var at *ast.Location
			if res.Location != nil {
				at = res.Location
			}
			if d, ok := limitFinding(err, limits, at); ok {
				diags.Add(d)
			}
		}
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Name, b.Name))
	})
	return out, diags.Sorted(), nil
}
