// Package patch applies a gateway's EnvoyPatches to the resources
// translation generated for it: the platform team's governed escape hatch
// for Envoy features edgectl does not model.
//
// A patch works on a resource's protojson form (Envoy's field names), as a
// JSON merge patch (RFC 7386) or a JSON patch (RFC 6902), or inserts a
// typed HTTP filter into a listener's connection managers. What it makes
// must still be a resource of the same type and name; the caller then holds
// the result to the same validation as everything edgectl generates.
package patch

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Rule ids of the findings about patches.
const (
	RuleTarget = "patch-target" // the addressed resource does not exist
	RuleApply  = "patch-apply"  // the patch does not apply, or makes no resource of its type
	RuleFilter = "patch-filter" // the inserted filter's configuration or position is wrong
	RuleResult = "patch-result" // the patched resources fail Envoy's validation
)

// Check holds the resources of every form to what Envoy accepts; the
// compiler's own check, passed in so a failure can be blamed on a patch.
type Check func(forms []*xds.Resources) error

// Apply applies g's patches, in order, to the resources of each form of
// the gateway (forms[0] file-based; any others, such as the static
// bootstrap's, hold the same listeners, clusters and secrets in their own
// form and share forms[0]'s route configurations). The forms are not
// modified: the result shares every resource no patch touched. Problems
// are diagnostics at the patch's position; when there are any, the
// returned forms must not be used.
func Apply(g *ir.Gateway, forms []*xds.Resources, check Check) ([]*xds.Resources, diag.List) {
	if len(g.Patches) == 0 {
		return forms, nil
	}
	out := forms
	var diags diag.List
	for _, p := range g.Patches {
		next, d := applyOne(p, out)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		out = next
	}
	if diags.HasErrors() || check == nil {
		return out, diags
	}
	if check(out) == nil {
		return out, diags
	}
	// Something is wrong with the result: find the first patch after
	// which it is, so the finding points at the document to fix.
	cur := forms
	for _, p := range g.Patches {
		next, _ := applyOne(p, cur)
		if err := check(next); err != nil {
			diags.Errorf(p.Origin, RuleResult, "EnvoyPatch %q makes a %s Envoy would refuse: %s", p.Name, what(p), oneLine(err))
			return out, diags
		}
		cur = next
	}
	// The patches applied one by one give what failed above, so the loop
	// has returned; this only answers a check that changed its mind.
	p := g.Patches[len(g.Patches)-1]
	diags.Errorf(p.Origin, RuleResult, "EnvoyPatch %q makes a %s Envoy would refuse: %s", p.Name, what(p), oneLine(check(out)))
	return out, diags
}

func what(p *ir.Patch) string {
	return fmt.Sprintf("%s %q", p.Target.Type, p.Target.Name)
}

// oneLine joins the lines of a joined error.
func oneLine(err error) string {
	return strings.Join(strings.Split(err.Error(), "\n"), "; ")
}

// applyOne applies one patch to every form, copying what it changes.
func applyOne(p *ir.Patch, forms []*xds.Resources) ([]*xds.Resources, diag.List) {
	var diags diag.List
	out := make([]*xds.Resources, len(forms))
	for i, f := range forms {
		c := *f
		out[i] = &c
	}
	report := func(err error) {
		var pe *posError
		if errors.As(err, &pe) {
			diags.Errorf(pe.pos, pe.rule, "EnvoyPatch %q: %s", p.Name, pe.msg)
			return
		}
		diags.Errorf(p.Origin, RuleApply, "EnvoyPatch %q: %v", p.Name, err)
	}
	switch p.Target.Type {
	case ir.PatchRouteConfiguration:
		// Shared by every form: patched once.
		routes, err := patchList(p, forms[0].Routes, "", patchRouteConfig)
		if err != nil {
			report(err)
			return nil, diags
		}
		for _, f := range out {
			if f.Routes != nil {
				f.Routes = routes
			}
		}
	case ir.PatchListener:
		for i, f := range forms {
			ls, err := patchList(p, f.Listeners, formName(i), patchListener)
			if err != nil {
				report(err)
				return nil, diags
			}
			out[i].Listeners = ls
		}
	case ir.PatchCluster:
		for i, f := range forms {
			cs, err := patchList(p, f.Clusters, formName(i), patchMessage[*clusterv3.Cluster])
			if err != nil {
				report(err)
				return nil, diags
			}
			out[i].Clusters = cs
		}
	case ir.PatchSecret:
		for i, f := range forms {
			ss, err := patchList(p, f.Secrets, formName(i), patchMessage[*tlsv3.Secret])
			if err != nil {
				report(err)
				return nil, diags
			}
			out[i].Secrets = ss
		}
	default:
		diags.Errorf(p.Origin, RuleTarget, "EnvoyPatch %q: unknown target type %q", p.Name, p.Target.Type)
	}
	return out, diags
}

func formName(i int) string {
	if i == 0 {
		return ""
	}
	return "the static bootstrap's form of "
}

// posError is a problem at a known position of the patch document.
type posError struct {
	pos  diag.Pos
	rule string
	msg  string
}

func (e *posError) Error() string { return e.msg }

func errAt(pos diag.Pos, rule, format string, args ...any) error {
	return &posError{pos: pos, rule: rule, msg: fmt.Sprintf(format, args...)}
}

type named interface {
	proto.Message
	GetName() string
}

// patchList returns xs with the patch's target replaced by its patched
// copy; xs itself is not modified.
func patchList[T named](p *ir.Patch, xs []T, form string, fn func(*ir.Patch, T) (T, error)) ([]T, error) {
	i := slices.IndexFunc(xs, func(x T) bool { return x.GetName() == p.Target.Name })
	if i < 0 {
		if form != "" {
			return nil, errAt(p.Target.NamePos, RuleTarget, "%s%s %q does not exist", form, p.Target.Type, p.Target.Name)
		}
		names := make([]string, len(xs))
		for k, x := range xs {
			names[k] = x.GetName()
		}
		msg := fmt.Sprintf("the gateway generates no %s %q", p.Target.Type, p.Target.Name)
		if s := diag.Suggest(p.Target.Name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if len(names) > 0 {
			msg += fmt.Sprintf(" (there are %s)", quoteAll(names))
		}
		return nil, errAt(p.Target.NamePos, RuleTarget, "%s", msg)
	}
	patched, err := fn(p, xs[i])
	if err != nil {
		if form != "" {
			var pe *posError
			if errors.As(err, &pe) {
				pe.msg = "in " + form + p.Target.Type + ": " + pe.msg
			}
		}
		return nil, err
	}
	out := slices.Clone(xs)
	out[i] = patched
	return out, nil
}

func quoteAll(names []string) string {
	const most = 8
	q := make([]string, 0, most+1)
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(names)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	return strings.Join(q, ", ")
}

func patchListener(p *ir.Patch, l *listenerv3.Listener) (*listenerv3.Listener, error) {
	if p.Filter != nil {
		return insertFilter(p.Filter, l)
	}
	return patchMessage(p, l)
}

func patchRouteConfig(p *ir.Patch, rc *routev3.RouteConfiguration) (*routev3.RouteConfiguration, error) {
	if p.Target.VirtualHost == "" {
		return patchMessage(p, rc)
	}
	i := slices.IndexFunc(rc.VirtualHosts, func(vh *routev3.VirtualHost) bool { return vh.Name == p.Target.VirtualHost })
	if i < 0 {
		names := make([]string, len(rc.VirtualHosts))
		for k, vh := range rc.VirtualHosts {
			names[k] = vh.Name
		}
		msg := fmt.Sprintf("route configuration %q has no virtual host %q", rc.Name, p.Target.VirtualHost)
		if s := diag.Suggest(p.Target.VirtualHost, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if len(names) > 0 {
			msg += fmt.Sprintf(" (it has %s)", quoteAll(names))
		}
		return nil, errAt(p.Target.VirtualHostPos, RuleTarget, "%s", msg)
	}
	vh, err := patchMessage(p, rc.VirtualHosts[i])
	if err != nil {
		return nil, err
	}
	// A shallow copy: only the list of virtual hosts changes.
	out := shallowRouteConfig(rc)
	out.VirtualHosts = slices.Clone(rc.VirtualHosts)
	out.VirtualHosts[i] = vh
	return out, nil
}

func shallowRouteConfig(rc *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	out := &routev3.RouteConfiguration{}
	src, dst := rc.ProtoReflect(), out.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	return out
}

var (
	marshal   = protojson.MarshalOptions{UseProtoNames: true}
	unmarshal = protojson.UnmarshalOptions{}
)

// patchMessage applies a merge or JSON patch to m's JSON form and reads
// the result back as a message of m's type, which must keep m's name.
func patchMessage[T named](p *ir.Patch, m T) (T, error) {
	var zero T
	js, err := marshal.Marshal(m)
	if err != nil {
		return zero, fmt.Errorf("render %s as JSON: %w", what(p), err)
	}
	switch {
	case p.Merge != nil:
		if js, err = jsonpatch.MergePatch(js, p.Merge); err != nil {
			return zero, errAt(p.MergePos, RuleApply, "spec.merge does not apply: %v", err)
		}
	case p.JSONPatch != nil:
		for i, op := range p.JSONPatch {
			ops, err := jsonpatch.DecodePatch(append(append([]byte{'['}, op.Op...), ']'))
			if err == nil {
				js, err = ops.Apply(js)
			}
			if err != nil {
				return zero, errAt(op.Pos, RuleApply, "spec.jsonPatch[%d] does not apply: %v", i, err)
			}
		}
	default:
		return zero, errAt(p.Origin, RuleApply, "an HTTP filter is inserted into a Listener only")
	}
	out := m.ProtoReflect().New().Interface().(T)
	if err := unmarshal.Unmarshal(js, out); err != nil {
		return zero, errAt(patchPos(p), RuleApply, "the patched %s is no longer a valid %s: %s", strings.ToLower(kindWord(p)), m.ProtoReflect().Descriptor().Name(), protoError(err))
	}
	if out.GetName() != m.GetName() {
		return zero, errAt(patchPos(p), RuleApply, "the patch renames %s %q to %q; a patch may not rename what it patches", kindWord(p), m.GetName(), out.GetName())
	}
	return out, nil
}

func kindWord(p *ir.Patch) string {
	if p.Target.VirtualHost != "" {
		return "virtual host"
	}
	return p.Target.Type
}

func patchPos(p *ir.Patch) diag.Pos {
	if p.Merge != nil {
		return p.MergePos
	}
	if len(p.JSONPatch) > 0 {
		return p.JSONPatch[0].Pos
	}
	return p.Origin
}

func suggest(name string, candidates []string) string { return diag.Suggest(name, candidates) }

// jsonAt is where protojson says an error is: an offset into JSON the
// user never wrote.
var jsonAt = regexp.MustCompile(` ?\(line \d+:\d+\)(: )?`)

// protoError words a protojson error for a finding. protojson varies the
// space after its "proto:" prefix from run to run, on purpose, and
// findings must be the same bytes every time.
func protoError(err error) string {
	s := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	s = strings.TrimPrefix(s, "proto: ")
	return jsonAt.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasSuffix(m, ": ") && !strings.HasPrefix(m, " ") {
			return "" // at the start: "(line 1:25): unknown field"
		}
		if strings.HasSuffix(m, ": ") {
			return ": " // inside: "syntax error (line 1:20): unexpected token"
		}
		return ""
	})
}
