package gatewayapi

import (
	"strings"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
)

// re2Limit is the RE2 program size the gateways accept: Envoy's default,
// or what edgectl.yaml's spec.regex.maxProgramSize raises it to.
func re2Limit(proj *intent.Project) (int, bool) {
	if proj != nil && proj.Spec.Regex != nil && proj.Spec.Regex.MaxProgramSize > 0 {
		return proj.Spec.Regex.MaxProgramSize, true
	}
	return lower.MaxRE2Program, false
}

// regexSize refuses a regular expression whose RE2 program is certainly
// larger than Envoy accepts (the route is not accepted), and warns when it
// may be. pattern has been parsed already.
func (l *lowerer) regexSize(ro *routeObj, path []any, pattern string) bool {
	least, approx, err := lower.RE2ProgramSize(pattern)
	if err != nil {
		return true // reported where it was parsed
	}
	by := "by default (re2.max_program_size.error_level; raise it with spec.regex.maxProgramSize in edgectl.yaml)"
	if l.re2Raised {
		by = "as spec.regex.maxProgramSize in edgectl.yaml sets it"
	}
	if least > l.re2Limit {
		msg := "regular expression " + quote(pattern) + " compiles to more RE2 instructions than Envoy accepts"
		l.diags.Errorf(ro.doc.Pos(path...), "regex-program-size", "%s: %q compiles to at least %d RE2 instructions; Envoy refuses more than %d %s", ro.doc.ID(), pattern, least, l.re2Limit, by)
		if ro.accepted {
			ro.accepted, ro.acceptedReason, ro.acceptedMsg = false, "UnsupportedValue", msg
		}
		return false
	}
	if approx > l.re2Limit {
		l.diags.Warnf(ro.doc.Pos(path...), "regex-complexity", "%s: %q compiles to about %d instructions; Envoy refuses more than %d %s", ro.doc.ID(), pattern, approx, l.re2Limit, by)
	}
	return true
}

func quote(s string) string { return `"` + s + `"` }

// overlaps warns about the routes of a virtual host that never match. Two
// Gateway API routes may match the same requests: the spec's precedence
// gives them to one (the older route, or the earlier rule), which is its
// conflict handling and no error; edgectl says which route loses.
//
// A virtual host served on several listeners (HTTP and HTTPS) usually
// holds the same routes on each: it is checked once.
func (l *lowerer) overlaps(vh *ir.VirtualHost) {
	var key strings.Builder
	key.WriteString(vh.Name)
	for _, r := range vh.Routes {
		key.WriteByte(0)
		key.WriteString(r.Name)
	}
	if l.checked[key.String()] {
		return
	}
	l.checked[key.String()] = true
	for _, o := range lower.Overlaps(vh.Routes) {
		a, b := o.Earlier, o.Later
		why := "matches every request it does"
		if o.Same {
			why = "has the same match"
		}
		l.diags.Warnf(b.Origin, "shadowed-route", "route %s never matches on %s: route %s %s (%s) and comes first by the Gateway API's precedence%s",
			b.Name, vh.Name, a.Name, why, lower.DescribeMatch(&a.Match), tieBreak(a, b, o.Same)).
			Note(a.Origin, "route %s, which takes its requests", a.Name)
	}
}

// tieBreak says how the spec chose between two routes with one match.
func tieBreak(a, b *ir.Route, same bool) string {
	if !same {
		return ""
	}
	ra, rb := routeOf(a.Name), routeOf(b.Name)
	if ra == rb {
		return " (the earlier rule or match of one route)"
	}
	return " (the older route, then namespace/name)"
}

// routeOf is the "kind/namespace/name" part of an IR route name.
func routeOf(name string) string {
	n := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			n++
			if n == 3 {
				return name[:i]
			}
		}
	}
	return name
}
