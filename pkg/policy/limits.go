package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Limits bound every evaluation of the policies: on one document, on one
// gateway's compiled resources, or one Rego test.
type Limits struct {
	// Timeout is how long one evaluation may run.
	Timeout time.Duration
	// Memory is the largest value a built-in may build, in bytes, as
	// estimated from its arguments before it runs.
	Memory int64
}

// DefaultLimits apply when edgectl.yaml sets none.
var DefaultLimits = Limits{Timeout: 10 * time.Second, Memory: 512 << 20}

// elementBytes is what one element of a collection is counted as: a term,
// its value, and its slot in the array, set or object.
const elementBytes = 64

// fmtMaxWidth is the largest width or precision Go's fmt, and so sprintf,
// honours.
const fmtMaxWidth = 1e6

// LimitError is a built-in call refused because what it would build
// exceeds the memory limit.
type LimitError struct {
	Builtin string
	Need    int64 // estimated bytes, at least
	Limit   int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s would build %s, over the policy memory limit of %s", e.Builtin, about(e.Need), bytesString(e.Limit))
}

type limitsKey struct{}

// withLimits carries the memory limit to the guarded built-ins, which run
// inside OPA's evaluator and see only the evaluation's context.
func withLimits(ctx context.Context, l Limits) context.Context {
	return context.WithValue(ctx, limitsKey{}, l.Memory)
}

func memoryLimit(ctx context.Context) (int64, bool) {
	if ctx == nil {
		return 0, false
	}
	m, ok := ctx.Value(limitsKey{}).(int64)
	return m, ok && m > 0
}

// estimators say, from a built-in's arguments, how many bytes its result
// can take, before it allocates them. Built-ins not listed build results
// no larger than a small multiple of their arguments, which already fit
// the limit; their results are measured after the call.
var estimators = map[string]func(args []*ast.Term, limit int64) int64{
	"net.cidr_expand": func(args []*ast.Term, _ int64) int64 {
		s, ok := args[0].Value.(ast.String)
		if !ok {
			return 0
		}
		_, n, err := net.ParseCIDR(string(s))
		if err != nil {
			return 0
		}
		ones, bits := n.Mask.Size()
		return mulSat(pow2(bits-ones), elementBytes)
	},
	"numbers.range": func(args []*ast.Term, _ int64) int64 {
		return mulSat(rangeCount(args[0].Value, args[1].Value, ast.Number("1")), elementBytes)
	},
	"numbers.range_step": func(args []*ast.Term, _ int64) int64 {
		return mulSat(rangeCount(args[0].Value, args[1].Value, args[2].Value), elementBytes)
	},
	"bits.lsh": func(args []*ast.Term, _ int64) int64 {
		return bigNumber(args[1].Value) / 8
	},
	"concat": func(args []*ast.Term, limit int64) int64 {
		sep := int64(len(stringOf(args[0].Value)))
		var n, total int64
		eachElement(args[1].Value, func(t *ast.Term) {
			n++
			total = addSat(total, int64(len(stringOf(t.Value)))+sep)
		})
		return total
	},
	"sprintf": func(args []*ast.Term, limit int64) int64 {
		format := stringOf(args[0].Value)
		total := addSat(int64(len(format)), formatWidths(format))
		if strings.Contains(format, "*") {
			// Widths taken from the arguments.
			eachElement(args[1].Value, func(t *ast.Term) { total = addSat(total, min(bigNumber(t.Value), fmtMaxWidth)) })
		}
		// %q and %v can quote every byte of a string or value.
		return addSat(total, mulSat(deepSize(args[1].Value, limit), 4))
	},
	"replace": func(args []*ast.Term, _ int64) int64 {
		return replaced(len(stringOf(args[0].Value)), len(stringOf(args[1].Value)), len(stringOf(args[2].Value)))
	},
	"strings.replace_n": func(args []*ast.Term, _ int64) int64 {
		s := len(stringOf(args[1].Value))
		var worst int64
		if obj, ok := args[0].Value.(ast.Object); ok {
			obj.Foreach(func(k, v *ast.Term) {
				worst = max(worst, replaced(s, len(stringOf(k.Value)), len(stringOf(v.Value))))
			})
		}
		return worst
	},
	"regex.replace": func(args []*ast.Term, _ int64) int64 {
		// A pattern can match the empty string at every position.
		return replaced(len(stringOf(args[0].Value)), 0, len(stringOf(args[2].Value)))
	},
	// These serialise or copy values that may share parts: a list of a
	// thousand references to one large string is small in memory, and
	// large once written out.
	"json.marshal":              serialised,
	"json.marshal_with_options": serialised,
	"yaml.marshal":              serialised,
	"base64.encode":             serialised,
	"base64url.encode":          serialised,
	"base64url.encode_no_pad":   serialised,
	"hex.encode":                func(args []*ast.Term, limit int64) int64 { return mulSat(serialised(args, limit), 2) },
	"urlquery.encode":           func(args []*ast.Term, limit int64) int64 { return mulSat(serialised(args, limit), 3) },
	"urlquery.encode_object":    func(args []*ast.Term, limit int64) int64 { return mulSat(serialised(args, limit), 3) },
}

func serialised(args []*ast.Term, limit int64) int64 {
	return mulSat(deepSize(args[0].Value, limit), 2)
}

// guard wraps a built-in so that, in an evaluation that carries limits, a
// call whose result would exceed the memory limit halts the evaluation
// with a LimitError at the call instead of allocating it.
func guard(name string, f topdown.BuiltinFunc) topdown.BuiltinFunc {
	estimate := estimators[name]
	return func(bctx topdown.BuiltinContext, args []*ast.Term, iter func(*ast.Term) error) error {
		limit, ok := memoryLimit(bctx.Context)
		if !ok {
			return f(bctx, args, iter)
		}
		refuse := func(need int64) error {
			le := &LimitError{Builtin: name, Need: need, Limit: limit}
			return topdown.Halt{Err: (&topdown.Error{Code: "edgectl_limit_error", Message: le.Error(), Location: bctx.Location}).Wrap(le)}
		}
		if estimate != nil {
			if need := estimate(args, limit); need > limit {
				return refuse(need)
			}
		}
		return f(bctx, args, func(t *ast.Term) error {
			if need := shallowSize(t.Value); need > limit {
				return refuse(need)
			}
			return iter(t)
		})
	}
}

func init() {
	// OPA looks built-ins up in one table shared by every evaluation, so
	// the guards are installed there; they act only in evaluations whose
	// context carries edgectl's limits.
	for _, name := range allowedBuiltins {
		if f := topdown.GetBuiltin(name); f != nil {
			topdown.RegisterBuiltinFunc(name, guard(name, f))
			// OPA passes an empty context to built-ins it knows need
			// none; a guard needs the evaluation's.
			if b := ast.BuiltinMap[name]; b != nil {
				b.CanSkipBctx = false
			}
		}
	}
}

// shallowSize measures a value without walking into its elements, which
// are values that already existed or were measured when they were built.
func shallowSize(v ast.Value) int64 {
	switch v := v.(type) {
	case ast.String:
		return int64(len(v))
	case ast.Number:
		return int64(len(v))
	case *ast.Array:
		return mulSat(int64(v.Len()), elementBytes)
	case ast.Set:
		return mulSat(int64(v.Len()), elementBytes)
	case ast.Object:
		return mulSat(int64(v.Len()), 2*elementBytes)
	}
	return 0
}

// deepSize measures a value with its elements, counting shared parts each
// time they appear, and stops as soon as it passes limit: it never walks
// further than the built-in it guards would write.
func deepSize(v ast.Value, limit int64) int64 {
	var total int64
	var walk func(v ast.Value)
	walk = func(v ast.Value) {
		if total > limit {
			return
		}
		total = addSat(total, shallowSize(v))
		switch v := v.(type) {
		case *ast.Array:
			v.Foreach(func(t *ast.Term) { walk(t.Value) })
		case ast.Set:
			v.Foreach(func(t *ast.Term) { walk(t.Value) })
		case ast.Object:
			v.Foreach(func(k, t *ast.Term) { walk(k.Value); walk(t.Value) })
		}
	}
	walk(v)
	return total
}

func eachElement(v ast.Value, f func(*ast.Term)) {
	switch v := v.(type) {
	case *ast.Array:
		v.Foreach(f)
	case ast.Set:
		v.Foreach(f)
	}
}

func stringOf(v ast.Value) string {
	s, _ := v.(ast.String)
	return string(s)
}

// replaced bounds the length of s with every occurrence of old replaced
// by new; an empty old matches between every two bytes.
func replaced(s, old, new int) int64 {
	if old == 0 {
		return addSat(int64(s), mulSat(int64(s+1), int64(new)))
	}
	return addSat(int64(s), mulSat(int64(s/old), int64(new)))
}

// formatWidths adds up the widths and precisions written in a format.
func formatWidths(format string) int64 {
	var total int64
	for i := 0; i < len(format); i++ {
		if format[i] < '0' || format[i] > '9' || i == 0 || !inVerb(format, i) {
			continue
		}
		j := i
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(format[i:j], 10, 64)
		if err != nil {
			n = math.MaxInt64
		}
		total = addSat(total, min(n, fmtMaxWidth))
		i = j
	}
	return total
}

// inVerb reports whether position i of a format is inside a % verb's
// flags, width or precision.
func inVerb(format string, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch c := format[k]; {
		case c == '%':
			return true
		case strings.IndexByte("+-# 0.[]*", c) >= 0 || c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return false
}

// rangeCount is the number of elements of numbers.range_step(a, b, step).
func rangeCount(a, b, step ast.Value) int64 {
	x, y, s := bigNumber(a), bigNumber(b), bigNumber(step)
	if s <= 0 {
		s = 1
	}
	d := y - x
	if x > y {
		d = x - y
	}
	if d < 0 { // overflowed
		return math.MaxInt64
	}
	return addSat(d/s, 1)
}

// bigNumber reads an integer, saturated to ±MaxInt64; 0 for other values.
func bigNumber(v ast.Value) int64 {
	n, ok := v.(ast.Number)
	if !ok {
		return 0
	}
	f, ok := new(big.Float).SetString(string(n))
	if !ok {
		return 0
	}
	i, _ := f.Int64()
	return i
}

func pow2(n int) int64 {
	if n >= 62 {
		return math.MaxInt64
	}
	return 1 << n
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func about(n int64) string {
	if n > 1<<40 {
		return "more than 1Ti"
	}
	return "about " + bytesString(n)
}

func bytesString(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.size {
			if n%u.size == 0 {
				return fmt.Sprintf("%d%s", n/u.size, u.suffix)
			}
			return fmt.Sprintf("%.1f%s", float64(n)/float64(u.size), u.suffix)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// runningRule is a tracer that keeps the position of the last finding
// rule entered: after a timeout, the rule that was running. (The last
// expression evaluated would be more precise, and differ from run to run.)
type runningRule struct {
	rules map[string]bool // pkg.name of the query's rules
	loc   *ast.Location
	steps int    // events left before the trace stops the evaluation
	stop  func() // cancels the traced evaluation
}

// traceSteps is how many evaluation events the trace after a timeout
// follows: enough to reach any rule of a policy that is merely slow to
// start, few enough to take well under a second.
const traceSteps = 200_000

func (t *runningRule) Enabled() bool               { return true }
func (t *runningRule) Config() topdown.TraceConfig { return topdown.TraceConfig{} }
func (t *runningRule) TraceEvent(e topdown.Event) {
	if t.steps--; t.steps == 0 {
		t.stop()
	}
	r, ok := e.Node.(*ast.Rule)
	if e.Op != topdown.EnterOp || !ok || r.Module == nil {
		return
	}
	name := r.Head.Name.String()
	if name == "" && len(r.Head.Reference) > 0 {
		name = r.Head.Reference[0].Value.String()
	}
	if t.rules[strings.TrimPrefix(r.Module.Package.Path.String(), "data.")+"."+name] {
		t.loc = r.Location
	}
}

// limitFinding turns an evaluation error into a policy-limit finding, if
// a limit caused it. at is where the evaluation was when it was stopped,
// when known.
func limitFinding(err error, l Limits, at *ast.Location) (diag.Diagnostic, bool) {
	var le *LimitError
	var msg string
	switch {
	case errors.As(err, &le):
		msg = le.Error() + "; raise spec.policies.limits.memory in edgectl.yaml if the policy really needs it"
		var te *topdown.Error
		if errors.As(err, &te) && te.Location != nil {
			at = te.Location
		}
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("policy evaluation stopped after the time limit of %s; raise spec.policies.limits.timeout in edgectl.yaml if the policy really needs it", l.Timeout)
	default:
		return diag.Diagnostic{}, false
	}
	pos := diag.Pos{}
	if at != nil {
		pos = diag.Pos{File: at.File, Line: at.Row, Col: at.Col}
	}
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: "policy-limit", Message: msg}, true
}
