// Package policy evaluates Rego policies (the repository's own and edgectl's
// built-in library) over the documents of a repository, conftest style:
// each document is the input in turn, and rules named deny, violation and
// warn (or starting deny_, violation_, warn_) report findings.
package policy

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/xds"
)

//go:embed builtin/*.rego
var builtinFS embed.FS

// DefaultPaths are the globs of policy files when edgectl.yaml names none.
var DefaultPaths = []string{"policies/**/*.rego"}

// Engine is a prepared set of policies, safe for concurrent use.
type Engine struct {
	// One query per input kind, holding only the rules that can report on
	// that kind: most rules start with input.kind == "...", and skipping
	// the rest is most of the cost of evaluating policies.
	queries map[string]*kindQuery // guarded by mu: see query
	mu      sync.Mutex
	base    []func(*rego.Rego) // the store, the modules and the built-ins refused
	rules   []ruleRef
	// limited is set by the first limit a policy hits: the evaluation of
	// every document after it stops, in this call of Documents and in any
	// other (the Gateway API documents come a file at a time).
	limited  atomic.Bool
	bundles  bool // some policy inspects compiled Envoy resources
	severity map[string]diag.Severity
	limits   Limits
}

type kindQuery struct {
	query rego.PreparedEvalQuery
	rules []ruleRef
}

type ruleRef struct {
	pkg   string // acme.timeouts
	name  string // deny, warn_x, ...
	sev   diag.Severity
	kinds []string // the input kinds the rule can report on; nil: any
}

// inputKinds are the kinds an input can have: every kind of intent
// document, and the compiled bundle.
var inputKinds = append(intent.KindNames(), "EnvoyBundle")

// Module is a parsed policy file.
type Module struct {
	File   string
	Source []byte
	AST    *ast.Module
}

var parseOpts = ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}

// Load reads and parses the repository's policy files (tests included when
// withTests is set) and the built-ins edgectl.yaml switches on.
func Load(fsys fs.FS, proj *intent.Project, withTests bool) ([]Module, diag.List, error) {
	var mods []Module
	_, diags := ProjectLimits(proj)
	diags = append(diags, CheckParams(proj)...)
	var cfg *intent.Policies
	if proj != nil {
		cfg = proj.Spec.Policies
	}
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if IsPolicyFile(cfg, p, withTests) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("find policies: %w", err)
	}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			if d, ok := intent.SymlinkProblem(fsys, f, err); ok {
				diags.Add(d)
				continue
			}
			return nil, nil, fmt.Errorf("read %s: %w", f, err)
		}
		m, err := ast.ParseModuleWithOpts(f, string(src), parseOpts)
		if err != nil {
			diags = append(diags, astErrors(err)...)
			continue
		}
		mods = append(mods, Module{File: f, Source: src, AST: m})
	}
	for _, name := range enabledBuiltins(cfg) {
		f := "builtin/" + name + ".rego"
		src, err := builtinFS.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		m, err := ast.ParseModuleWithOpts("<edgectl>/policies/"+name+".rego", string(src), parseOpts)
		if err != nil {
			return nil, nil, fmt.Errorf("built-in policy %s: %w", name, err)
		}
		mods = append(mods, Module{File: "<edgectl>/policies/" + name + ".rego", Source: src, AST: m})
	}
	return mods, diags, nil
}

// IsPolicyFile reports whether a repository file is a policy (or, with
// tests, a policy test) under the project's policy globs.
func IsPolicyFile(cfg *intent.Policies, p string, withTests bool) bool {
	globs := DefaultPaths
	if cfg != nil && len(cfg.Paths) > 0 {
		globs = cfg.Paths
	}
	return strings.HasSuffix(p, ".rego") && glob.Any(globs, p) >= 0 && (withTests || !strings.HasSuffix(p, "_test.rego"))
}

// builtins maps each built-in's name in edgectl.yaml to its Rego name.
var builtins = []struct{ yaml, rego string }{
	{"tlsRequired", "tls_required"},
	{"maxTimeout", "max_timeout"},
	{"maxRetries", "max_retries"},
	{"wildcardHosts", "wildcard_hosts"},
	{"healthChecks", "health_checks"},
	{"upstreamTLS", "upstream_tls"},
	{"redirectHosts", "redirect_hosts"},
}

func builtinParams(cfg *intent.Policies) map[string]*intent.BuiltinParams {
	if cfg == nil {
		return nil
	}
	b := cfg.Builtin
	all := map[string]*intent.BuiltinParams{
		"tls_required": b.TLSRequired, "max_timeout": b.MaxTimeout, "max_retries": b.MaxRetries,
		"wildcard_hosts": b.WildcardHosts, "health_checks": b.HealthChecks, "upstream_tls": b.UpstreamTLS,
		"redirect_hosts": b.RedirectHosts,
	}
	out := map[string]*intent.BuiltinParams{}
	for k, v := range all {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func enabledBuiltins(cfg *intent.Policies) []string {
	var out []string
	for name := range builtinParams(cfg) {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Data is what policies find under data.edgectl: the project file as
// written, the parameters of the built-ins, the teams by name, and, when
// a module mentions edgectl.documents, every document as policies see it.
func Data(proj *intent.Project, mods []Module, docs []*intent.Doc) (map[string]any, error) {
	params := map[string]any{}
	var cfg *intent.Policies
	var projectValue any = map[string]any{}
	teams := map[string]any{}
	if proj != nil {
		cfg = proj.Spec.Policies
		projectValue = proj.Doc.Value()
		for _, t := range proj.Spec.Teams {
			v, err := roundTrip(t)
			if err != nil {
				return nil, err
			}
			teams[t.Name] = v
		}
	}
	for name, p := range builtinParams(cfg) {
		v, err := roundTrip(p)
		if err != nil {
			return nil, err
		}
		params[name] = v
	}
	edgectl := map[string]any{"project": projectValue, "params": params, "teams": teams}
	if slices.ContainsFunc(mods, func(m Module) bool { return strings.Contains(string(m.Source), "edgectl.documents") }) {
		all := []any{}
		for _, d := range docs {
			all = append(all, Input(d))
		}
		edgectl["documents"] = all
	}
	return map[string]any{"edgectl": edgectl}, nil
}

// roundTrip turns a Go value into the maps and slices Rego sees.
func roundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// Prepare compiles the modules into one query over every finding rule.
// Problems in the policies are diagnostics at their .rego position.
func Prepare(ctx context.Context, mods []Module, proj *intent.Project, m *intent.Model) (*Engine, diag.List, error) {
	if len(mods) == 0 {
		return nil, nil, nil
	}
	var docs []*intent.Doc
	if m != nil {
		docs = m.Docs
	}
	data, err := Data(proj, mods, docs)
	if err != nil {
		return nil, nil, err
	}
	limits, _ := ProjectLimits(proj) // its problems are reported by Load
	e := &Engine{severity: map[string]diag.Severity{}, limits: limits}
	for _, mod := range mods {
		e.bundles = e.bundles || strings.Contains(string(mod.Source), "EnvoyBundle")
	}
	if proj != nil && proj.Spec.Policies != nil {
		for name, p := range builtinParams(proj.Spec.Policies) {
			if p.Severity == "warning" {
				e.severity["edgectl.builtin."+name] = diag.Warning
			}
		}
	}
	// Refused built-ins are found by walking each module, so they are
	// reported even when another module stops OPA's compiler earlier.
	var diags diag.List
	for _, mod := range mods {
		diags = append(diags, refusedCalls(mod.AST)...)
		if pkg := mod.AST.Package.Path.String(); strings.HasPrefix(pkg, "data.edgectl.") && !strings.HasPrefix(mod.File, "<edgectl>") {
			diags.Errorf(diag.Pos{File: mod.File, Line: mod.AST.Package.Location.Row, Col: mod.AST.Package.Location.Col}, "policy",
				"package %s: the edgectl namespace is edgectl's own; name your packages after your organisation", strings.TrimPrefix(pkg, "data."))
		}
	}
	store := inmem.NewFromObject(data)
	base := []func(*rego.Rego){rego.Store(store), rego.UnsafeBuiltins(unsafeBuiltins)}
	var rules []ruleRef
	index := map[string]int{}
	for _, mod := range mods {
		base = append(base, rego.ParsedModule(mod.AST))
		pkg := strings.TrimPrefix(mod.AST.Package.Path.String(), "data.")
		for _, r := range mod.AST.Rules {
			name := r.Head.Name.String()
			if name == "" && len(r.Head.Reference) > 0 {
				name = r.Head.Reference[0].Value.(ast.Var).String()
			}
			sev, ok := ruleSeverity(name)
			if !ok {
				continue
			}
			kinds := guardKinds(r)
			if i, seen := index[pkg+"."+name]; seen {
				// Another body of the same rule: it applies wherever any does.
				if kinds == nil || rules[i].kinds == nil {
					rules[i].kinds = nil
				} else {
					rules[i].kinds = append(rules[i].kinds, kinds...)
				}
				continue
			}
			if s, over := e.severity[pkg]; over {
				sev = s
			}
			index[pkg+"."+name] = len(rules)
			rules = append(rules, ruleRef{pkg: pkg, name: name, sev: sev, kinds: kinds})
		}
	}
	e.queries = map[string]*kindQuery{}
	e.base, e.rules = base, rules
	for _, kind := range inputKinds {
		kq, err := e.prepareKind(ctx, kind, true)
		if err != nil {
			var astErrs ast.Errors
			if !errors.As(err, &astErrs) {
				return nil, nil, fmt.Errorf("prepare policies: %w", err)
			}
			for _, d := range astErrors(err) {
				if !reportedCall(d.Message) {
					diags = append(diags, d)
				}
			}
			break // the modules are the same for every kind
		}
		e.queries[kind] = kq
	}
	if diags.HasErrors() {
		return nil, diags.Sorted(), nil
	}
	return e, diags, nil
}

// prepareKind prepares the query of the rules that can report on a kind;
// with compile, also when there are none.
func (e *Engine) prepareKind(ctx context.Context, kind string, compile bool) (*kindQuery, error) {
	kq := &kindQuery{}
	var q []string
	for _, r := range e.rules {
		// Compiled resources reach only rules that ask for them by
		// name: a rule about documents must not fire on a bundle.
		if r.kinds == nil && kind != "EnvoyBundle" || slices.Contains(r.kinds, kind) {
			q = append(q, fmt.Sprintf("r%d := data.%s.%s", len(kq.rules), r.pkg, r.name))
			kq.rules = append(kq.rules, r)
		}
	}
	if len(q) == 0 {
		if !compile {
			return kq, nil
		}
		// Nothing to ask, but the modules are compiled all the same,
		// so that their errors are found.
		q = append(q, "true")
	}
	pq, err := rego.New(append(slices.Clone(e.base), rego.Query(strings.Join(q, "; ")))...).PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	kq.query = pq
	return kq, nil
}

// query returns the query of a kind. The kinds of edgectl's own documents
// are prepared with the engine; another dialect's (Gateway API) when first
// asked for, so a repository without such documents pays nothing for
// them. A kind whose query cannot be prepared (the modules compiled for
// every other kind, so it cannot happen) has no rules.
func (e *Engine) query(kind string) *kindQuery {
	e.mu.Lock()
	defer e.mu.Unlock()
	if kq, ok := e.queries[kind]; ok {
		return kq
	}
	kq, err := e.prepareKind(context.Background(), kind, false)
	if err != nil {
		kq = &kindQuery{}
	}
	e.queries[kind] = kq
	return kq
}

// guardKinds reads the kinds a rule body is restricted to by a top-level
// input.kind == "X" or input.kind in {"X", "Y"}; nil if it has no such guard.
func guardKinds(r *ast.Rule) []string {
	kindRef := ast.MustParseRef("input.kind")
	for _, expr := range r.Body {
		if expr.Negated || !expr.IsCall() || len(expr.Operands()) != 2 {
			continue
		}
		a, b := expr.Operand(0), expr.Operand(1)
		switch expr.Operator().String() {
		case "eq", "equal":
			if s, ok := b.Value.(ast.String); ok && a.Value.Compare(kindRef) == 0 {
				return []string{string(s)}
			}
			if s, ok := a.Value.(ast.String); ok && b.Value.Compare(kindRef) == 0 {
				return []string{string(s)}
			}
		case "internal.member_2":
			set, ok := b.Value.(ast.Set)
			if !ok || a.Value.Compare(kindRef) != 0 {
				continue
			}
			var kinds []string
			all := true
			set.Foreach(func(t *ast.Term) {
				if s, ok := t.Value.(ast.String); ok {
					kinds = append(kinds, string(s))
				} else {
					all = false
				}
			})
			if all {
				return kinds
			}
		}
	}
	return nil
}

// refusedCalls finds calls to built-ins that are not allowed in a module.
// They are found by walking the module, so each is reported at its call
// with the reason, even when another module stops OPA's compiler earlier.
func refusedCalls(m *ast.Module) diag.List {
	var diags diag.List
	report := func(name string, loc *ast.Location) {
		if _, builtin := ast.BuiltinMap[name]; !builtin || Allowed(name) {
			return // a function of the policy's own, or allowed
		}
		pos := diag.Pos{}
		if loc != nil {
			pos = diag.Pos{File: loc.File, Line: loc.Row, Col: loc.Col}
		}
		why := RefusedReason(name)
		if why == "" {
			why = "it is not on edgectl's list of deterministic built-ins"
		}
		diags.Errorf(pos, "policy", "%s is refused: %s; policies may only compute from the repository, so every run gives the same findings", name, why)
	}
	ast.WalkExprs(m, func(e *ast.Expr) bool {
		if e.IsCall() {
			report(e.Operator().String(), e.Location)
		}
		return false
	})
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
			report(call[0].String(), t.Location)
		}
		return false
	})
	return diags
}

// reportedCall says whether a compiler error is about a call refusedCalls
// already reported.
func reportedCall(msg string) bool {
	return strings.Contains(msg, "unsafe built-in function calls")
}

// ruleSeverity says whether a rule name reports findings, and how severe.
func ruleSeverity(name string) (diag.Severity, bool) {
	for _, p := range []struct {
		name string
		sev  diag.Severity
	}{{"deny", diag.Error}, {"violation", diag.Error}, {"warn", diag.Warning}} {
		if name == p.name || strings.HasPrefix(name, p.name+"_") {
			return p.sev, true
		}
	}
	return 0, false
}

// astErrors turns Rego parse and compile errors into findings.
func astErrors(err error) diag.List {
	var diags diag.List
	var errs ast.Errors
	if !errors.As(err, &errs) {
		diags.Errorf(diag.Pos{}, "policy", "%v", err)
		return diags
	}
	for _, e := range errs {
		pos := diag.Pos{}
		if e.Location != nil {
			pos = diag.Pos{File: e.Location.File, Line: e.Location.Row, Col: e.Location.Col}
		}
		diags.Errorf(pos, "policy", "%s: %s", e.Code, e.Message)
	}
	return diags
}

// Input is the input a policy sees for a document: the document as written,
// plus where it came from under "edgectl".
func Input(d *intent.Doc) map[string]any {
	v, _ := d.Value().(map[string]any)
	if v == nil {
		v = map[string]any{}
	}
	v["edgectl"] = map[string]any{"file": d.File, "team": d.Team, "index": d.Index}
	return v
}

// Reads reports whether a finding rule looks at documents of a kind: the
// others need not be read for policies at all.
func (e *Engine) Reads(kind string) bool {
	if e == nil {
		return false
	}
	return len(e.query(kind).rules) > 0
}

// Documents evaluates every document and returns the findings.
func (e *Engine) Documents(ctx context.Context, docs []*intent.Doc) (diag.List, error) {
	if e == nil {
		return nil, nil
	}
	// A few long-lived workers rather than a goroutine per document: OPA's
	// evaluator recurses deeply, and a fresh goroutine grows its stack
	// again for every document.
	results := make([]diag.List, len(docs))
	errs := make([]error, len(docs))
	// The first limit a policy hits stops the evaluation of every
	// document: the compile fails anyway, and a runaway policy would
	// otherwise run out its time limit once per document.
	stop, stopAll := context.WithCancel(ctx)
	defer stopAll()
	next := make(chan int)
	var g errgroup.Group
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for i := range next {
				d := docs[i]
				kq := e.query(d.Kind)
				if len(kq.rules) == 0 || stop.Err() != nil || e.limited.Load() {
					continue // no rule looks at this kind, or a limit was hit
				}
				fs, limit, err := e.eval(stop, kq, rego.EvalParsedInput(inputValue(d)))
				switch {
				case limit != nil:
					results[i] = diag.List{*limit}
					e.limited.Store(true)
					stopAll()
					continue
				case err != nil && stop.Err() != nil && ctx.Err() == nil:
					continue // stopped by another document's limit
				case err != nil:
					errs[i] = fmt.Errorf("evaluate policies on %s: %w", d.File, err)
					continue // keep draining, so the sender never blocks
				}
				for _, f := range fs {
					pos := d.Pos("metadata", "name")
					if len(f.path) > 0 {
						pos = d.Pos(f.path...)
					}
					results[i] = append(results[i], diag.Diagnostic{Pos: pos, Severity: f.sev, Rule: f.rule, Message: f.msg})
				}
			}
			return nil
		})
	}
	for i := range docs {
		next <- i
	}
	close(next)
	_ = g.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if stop.Err() != nil && ctx.Err() == nil {
		// A limit was hit. Report one finding only, preferring one with a
		// position: other documents may have hit a limit too, or been
		// stopped halfway, depending on the schedule.
		var found *diag.Diagnostic
		for _, r := range results {
			if len(r) == 1 && r[0].Rule == "policy-limit" && (found == nil || found.Pos.File == "" && r[0].Pos.File != "") {
				found = &r[0]
			}
		}
		if found != nil {
			return diag.List{*found}, nil
		}
	}
	var out diag.List
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// WantsBundles reports whether a policy inspects compiled Envoy resources
// (input.kind == "EnvoyBundle"); building that input costs time otherwise
// not spent.
func (e *Engine) WantsBundles() bool { return e != nil && e.bundles }

// Bundle evaluates one gateway's compiled resources, as input of kind
// EnvoyBundle with listeners, routeConfigurations, clusters and secrets in
// Envoy's JSON form. Findings are reported at the gateway's document.
func (e *Engine) Bundle(ctx context.Context, gw *intent.Doc, r *xds.Resources) (diag.List, error) {
	if !e.WantsBundles() {
		return nil, nil
	}
	input := map[string]any{"kind": "EnvoyBundle", "gateway": gw.Name}
	for _, part := range []struct {
		key  string
		msgs []proto.Message
	}{
		{"listeners", msgs(r.Listeners)}, {"routeConfigurations", msgs(r.Routes)},
		{"clusters", msgs(r.Clusters)}, {"secrets", msgs(r.Secrets)},
	} {
		list := []any{}
		for _, m := range part.msgs {
			b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
			if err != nil {
				return nil, err
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		input[part.key] = list
	}
	fs, limit, err := e.eval(ctx, e.query("EnvoyBundle"), rego.EvalInput(input))
	if limit != nil {
		return diag.List{*limit}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evaluate policies on the bundle of %s: %w", gw.Name, err)
	}
	var out diag.List
	for _, f := range fs {
		out = append(out, diag.Diagnostic{Pos: gw.Pos("metadata", "name"), Severity: f.sev, Rule: f.rule, Message: f.msg})
	}
	return out, nil
}

func msgs[T proto.Message](xs []T) []proto.Message {
	out := make([]proto.Message, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

type finding struct {
	rule string
	sev  diag.Severity
	msg  string
	path []any
}

// eval evaluates a kind's rules on one input, within the engine's limits. A
// limit hit is a policy-limit finding, not an error.
func (e *Engine) eval(ctx context.Context, kq *kindQuery, input rego.EvalOption) ([]finding, *diag.Diagnostic, error) {
	if len(kq.rules) == 0 {
		return nil, nil, nil
	}
	rs, err := e.bounded(ctx, kq, input)
	if err != nil {
		if d, ok := limitFinding(err, e.limits, nil); ok {
			if d.Pos.File == "" {
				// A timeout says not where it happened: evaluate again,
				// tracing, to find the rule that runs too long. The trace
				// stops after a fixed number of steps, not at a deadline, so
				// the rule it names is the same however loaded the machine.
				rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
				t := &runningRule{rules: map[string]bool{}, steps: traceSteps, stop: cancel}
				for _, r := range kq.rules {
					t.rules[r.pkg+"."+r.name] = true
				}
				_, _ = e.bounded(rctx, kq, input, rego.EvalQueryTracer(t))
				cancel()
				if t.loc != nil {
					d.Pos = diag.Pos{File: t.loc.File, Line: t.loc.Row, Col: t.loc.Col}
				}
			}
			return nil, &d, nil
		}
		return nil, nil, err
	}
	if len(rs) == 0 {
		return nil, nil, nil
	}
	var out []finding
	for i, r := range kq.rules {
		id := r.pkg + "." + r.name
		v, ok := rs[0].Bindings[fmt.Sprintf("r%d", i)]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case []any:
			for _, item := range v {
				out = append(out, toFinding(id, r.sev, item))
			}
		case bool:
			if v {
				out = append(out, finding{rule: id, sev: r.sev, msg: "reported by " + id})
			}
		default:
			out = append(out, toFinding(id, r.sev, v))
		}
	}
	return out, nil, nil
}

// bounded evaluates a query with the time limit as a deadline and the
// memory limit for the guarded built-ins.
func (e *Engine) bounded(ctx context.Context, kq *kindQuery, opts ...rego.EvalOption) (rego.ResultSet, error) {
	ctx, cancel := context.WithTimeout(withLimits(ctx, e.limits), e.limits.Timeout)
	defer cancel()
	rs, err := kq.query.Eval(ctx, opts...)
	if err != nil && ctx.Err() == context.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		// A built-in that noticed the deadline reports it in its own words.
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return rs, err
}

// toFinding reads a finding: a message, or an object with "msg" and,
// optionally, "path" to the offending field (a list of keys and indexes,
// or a string like "spec.routes[2].timeout").
func toFinding(id string, sev diag.Severity, v any) finding {
	f := finding{rule: id, sev: sev}
	switch v := v.(type) {
	case string:
		f.msg = v
	case map[string]any:
		f.msg, _ = v["msg"].(string)
		if f.msg == "" {
			f.msg = fmt.Sprint(v)
		}
		f.path = parsePath(v["path"])
	default:
		f.msg = fmt.Sprint(v)
	}
	return f
}

func parsePath(v any) []any {
	var out []any
	switch p := v.(type) {
	case []any:
		for _, step := range p {
			switch s := step.(type) {
			case json.Number:
				n, _ := s.Int64()
				out = append(out, int(n))
			case string:
				out = append(out, s)
			}
		}
	case string:
		for _, part := range strings.Split(p, ".") {
			name, rest, _ := strings.Cut(part, "[")
			if name != "" {
				out = append(out, name)
			}
			for rest != "" {
				idx, after, _ := strings.Cut(rest, "]")
				var n int
				if _, err := fmt.Sscan(idx, &n); err == nil {
					out = append(out, n)
				}
				rest = strings.TrimPrefix(after, "[")
			}
		}
	}
	return out
}
