package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/gobwas/glob"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// The security built-ins judge what a request meets, and a route inherits
// most of its rules from its virtual host, its includes and the gateway's
// defaults. Over the documents, as the Rego built-ins see them, a route
// that sets nothing looks unprotected and one that disables JWT while its
// virtual host adds ext_authz looks open; so these run in Go over the
// lowered gateways, where VirtualHost.Effective has done the inheritance.

// Rule ids of the security built-ins, shaped like the Rego built-ins'.
const (
	RuleAuthRequired      = "edgectl.builtin.auth_required.violation"
	RuleRateLimitRequired = "edgectl.builtin.rate_limit_required.violation"
	RuleCORSOrigins       = "edgectl.builtin.cors_origins.violation"
	RuleIPAllowlist       = "edgectl.builtin.ip_allowlist.violation"
	RuleExtAuthFailOpen   = "edgectl.builtin.ext_auth_fail_open.violation"
)

// securityPolicy is one switched-on security built-in, its parameters
// compiled.
type securityPolicy struct {
	yaml  string // its name in edgectl.yaml
	rule  string
	sev   diag.Severity
	at    diag.Pos // where edgectl.yaml switches it on; may be unknown
	hosts []*glob.Pattern
	paths []string
	// corsOrigins
	origins []originPattern
	// ipAllowlist
	cidrs []netip.Prefix
	// tlsFloor
	min string
}

type originPattern struct {
	text string
	g    *glob.Pattern
}

// Security evaluates the security built-ins edgectl.yaml switches on over
// the lowered gateways. Parameters that do not compile were reported by
// CheckParams and are skipped here. Findings come in a deterministic order:
// by gateway, then as the gateway's virtual hosts and routes are ordered.
func Security(proj *intent.Project, gws []*ir.Gateway) diag.List {
	ps := securityPolicies(proj)
	if len(ps) == 0 {
		return nil
	}
	var diags diag.List
	seenBackends := map[string]bool{} // a backend serves several gateways; report it once
	for _, g := range gws {
		for _, p := range ps {
			switch p.yaml {
			case "authRequired":
				coverage(&diags, p, g, authenticates, "no authentication", "authentication", "set jwt, extAuth or basicAuth")
			case "rateLimitRequired":
				coverage(&diags, p, g, limitsRate, "no rate limit", "a rate limit", "set rateLimit or localRateLimit")
			case "corsOrigins":
				corsOrigins(&diags, p, g)
			case "ipAllowlist":
				ipAllowlist(&diags, p, g)
			case "extAuthFailOpen":
				extAuthFailOpen(&diags, p, g)
			case "tlsFloor":
				tlsFloor(&diags, p, g, seenBackends)
			}
		}
	}
	return diags
}

// RuleAuthFailOpenWarning is lowering's warning about an authorization
// service that fails open; extAuthFailOpen reports the same as its own
// finding.
const RuleAuthFailOpenWarning = "auth-fail-open"

// Superseded drops the findings a switched-on security built-in reports
// in its own words: with extAuthFailOpen on, a service that fails open is
// the built-in's finding (an error by default), not lowering's warning.
func Superseded(proj *intent.Project, diags diag.List) diag.List {
	if proj == nil || proj.Spec.Policies == nil || proj.Spec.Policies.Builtin.ExtAuthFailOpen == nil {
		return diags
	}
	return slices.DeleteFunc(diags, func(d diag.Diagnostic) bool {
		return d.Rule == RuleAuthFailOpenWarning && d.Severity == diag.Warning
	})
}

func securityPolicies(proj *intent.Project) []*securityPolicy {
	if proj == nil || proj.Spec.Policies == nil {
		return nil
	}
	b := proj.Spec.Policies.Builtin
	var out []*securityPolicy
	for _, e := range []struct {
		yaml, rule string
		p          *intent.BuiltinParams
	}{
		{"authRequired", RuleAuthRequired, b.AuthRequired},
		{"rateLimitRequired", RuleRateLimitRequired, b.RateLimitRequired},
		{"corsOrigins", RuleCORSOrigins, b.CORSOrigins},
		{"ipAllowlist", RuleIPAllowlist, b.IPAllowlist},
		{"extAuthFailOpen", RuleExtAuthFailOpen, b.ExtAuthFailOpen},
		{"tlsFloor", RuleTLSFloor, b.TLSFloor},
	} {
		if e.p == nil {
			continue
		}
		sp := &securityPolicy{yaml: e.yaml, rule: e.rule, sev: diag.Error}
		if e.p.Severity == "warning" {
			sp.sev = diag.Warning
		}
		if proj.Doc != nil {
			sp.at = proj.Doc.KeyPos("spec", "policies", "builtin", e.yaml)
		}
		for _, h := range e.p.Hosts {
			if g, err := glob.Compile(h, '.'); err == nil {
				sp.hosts = append(sp.hosts, g)
			}
		}
		sp.paths = e.p.Paths
		sp.min = e.p.Min
		switch e.yaml {
		case "corsOrigins":
			for _, o := range e.p.Allowed {
				if g, err := glob.Compile(strings.ToLower(o), '.'); err == nil {
					sp.origins = append(sp.origins, originPattern{text: strings.ToLower(o), g: g})
				}
			}
		case "ipAllowlist":
			for _, c := range e.p.Allowed {
				if pfx, err := netip.ParsePrefix(c); err == nil {
					sp.cidrs = append(sp.cidrs, pfx.Masked())
				}
			}
		}
		out = append(out, sp)
	}
	return out
}

// report adds a finding of p, with a note where edgectl.yaml switches p on.
func (p *securityPolicy) report(diags *diag.List, pos diag.Pos, format string, args ...any) {
	d := diag.Diagnostic{Pos: pos, Severity: p.sev, Rule: p.rule, Message: fmt.Sprintf(format, args...)}
	if p.at.File != "" {
		d.Related = append(d.Related, diag.Related{Pos: p.at, Message: "the " + p.yaml + " policy is switched on here"})
	}
	diags.Add(d)
}

// servedHosts are the virtual hosts of a gateway where they serve traffic,
// each once: on HTTPS when they have a certificate, and on plain HTTP,
// where a host with a certificate may only redirect.
func servedHosts(g *ir.Gateway) []*ir.VirtualHost {
	var out []*ir.VirtualHost
	seen := map[*ir.VirtualHost]bool{}
	add := func(t *ir.RouteTable) {
		if t == nil {
			return
		}
		for _, vh := range t.VirtualHosts {
			if !seen[vh] {
				seen[vh] = true
				out = append(out, vh)
			}
		}
	}
	for _, l := range g.Listeners {
		for _, fc := range l.Chains {
			add(fc.Routes)
		}
	}
	for _, l := range g.Listeners {
		add(l.Routes)
	}
	return out
}

// coveredHost reports whether one of a virtual host's hostnames matches
// the policy's hosts; no hosts means every host.
func (p *securityPolicy) coveredHost(vh *ir.VirtualHost) bool {
	if len(p.hosts) == 0 {
		return true
	}
	for _, d := range vh.Domains {
		for _, g := range p.hosts {
			if g.Match(d) {
				return true
			}
		}
	}
	return false
}

// coveredRoute reports whether a route can serve a request whose path
// starts with one of the policy's path prefixes; no paths means every
// route. A redirect passes nothing to a backend and is never covered.
func (p *securityPolicy) coveredRoute(r *ir.Route, lits map[string]string) bool {
	if r.Redirect != nil {
		return false
	}
	if len(p.paths) == 0 {
		return true
	}
	for _, q := range p.paths {
		if overlaps(r.Match, q, lits) {
			return true
		}
	}
	return false
}

// overlaps reports whether a route's path match accepts some path that
// starts with prefix q. A regex is judged by its literal prefix: every path
// it accepts starts with it.
func overlaps(m ir.Match, q string, lits map[string]string) bool {
	switch m.PathKind {
	case ir.PathExact:
		return strings.HasPrefix(m.Path, q)
	case ir.PathSegment:
		// "/pay" accepts "/pay" and "/pay/...", not "/payments".
		seg := strings.TrimSuffix(m.Path, "/")
		return strings.HasPrefix(m.Path, q) || strings.HasPrefix(q, seg+"/") || q == seg
	case ir.PathRegex:
		lit, ok := lits[m.Path]
		if !ok {
			lit = literalPrefix(m.Path)
			lits[m.Path] = lit
		}
		return strings.HasPrefix(lit, q) || strings.HasPrefix(q, lit)
	default:
		return strings.HasPrefix(m.Path, q) || strings.HasPrefix(q, m.Path)
	}
}

func literalPrefix(pattern string) string {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return ""
	}
	lit, _ := re.LiteralPrefix()
	return lit
}

// A gap is why a route lacks what a policy requires: the rule that
// switches it off (disabled, or a JWT that lets requests without a token
// through), or nothing at all when rule is nil.
type gap struct {
	rule string // "jwt", "extAuth", ...
	how  string // "disabled", "optional"
	from ir.Origin
}

// authenticates says whether a request meets an authentication that is on
// and required, and otherwise what turned it off.
func authenticates(s ir.Security) (bool, *gap) {
	var g *gap
	if j := s.JWT; j != nil {
		switch {
		case !j.Disabled && !j.Optional:
			return true, nil
		case j.Disabled:
			g = &gap{"jwt", "disabled", j.From}
		default:
			g = &gap{"jwt", "optional", j.From}
		}
	}
	if a := s.ExtAuth; a != nil {
		if !a.Disabled {
			return true, nil
		}
		g = cmpGap(g, &gap{"extAuth", "disabled", a.From})
	}
	if b := s.BasicAuth; b != nil {
		if !b.Disabled {
			return true, nil
		}
		g = cmpGap(g, &gap{"basicAuth", "disabled", b.From})
	}
	return false, g
}

// limitsRate says whether a request meets a rate limit, and otherwise what
// turned it off. A global rule with no limits counts nothing.
func limitsRate(s ir.Security) (bool, *gap) {
	var g *gap
	if l := s.LocalRateLimit; l != nil {
		if !l.Disabled {
			return true, nil
		}
		g = &gap{"localRateLimit", "disabled", l.From}
	}
	if r := s.RateLimit; r != nil {
		switch {
		case !r.Disabled && len(r.Limits) > 0:
			return true, nil
		case r.Disabled:
			g = cmpGap(g, &gap{"rateLimit", "disabled", r.From})
		}
	}
	return false, g
}

// cmpGap keeps the gap set closest to the route: that is where it is fixed.
func cmpGap(a, b *gap) *gap {
	if a == nil || level(b.from.Level) > level(a.from.Level) {
		return b
	}
	return a
}

func level(l ir.SettingLevel) int {
	switch l {
	case ir.LevelGateway:
		return 1
	case ir.LevelVirtualHost:
		return 2
	case ir.LevelInclude:
		return 3
	case ir.LevelRoute:
		return 4
	}
	return 0
}

// coverage reports the covered routes of a gateway that do not meet what
// ok checks. Routes that lack it for the same reason (the same rule
// switching it off, or nothing set on their virtual host) are one finding:
// a virtual host of 3,000 unprotected routes is one thing to fix.
func coverage(diags *diag.List, p *securityPolicy, g *ir.Gateway, ok func(ir.Security) (bool, *gap), lacking, what, fix string) {
	lits := map[string]string{}
	for _, vh := range servedHosts(g) {
		if !p.coveredHost(vh) {
			continue
		}
		type group struct {
			gap    *gap
			first  *ir.Route
			routes int
		}
		var groups []*group
		index := map[string]*group{}
		for _, r := range vh.Routes {
			if !p.coveredRoute(r, lits) {
				continue
			}
			good, gp := ok(vh.Effective(r))
			if good {
				continue
			}
			key := "none"
			if gp != nil {
				key = fmt.Sprintf("%s %s %s %s %s", gp.rule, gp.how, gp.from.Level, gp.from.Name, gp.from.Pos)
			}
			gr := index[key]
			if gr == nil {
				gr = &group{gap: gp, first: r}
				index[key] = gr
				groups = append(groups, gr)
			}
			gr.routes++
		}
		host := hostLabel(vh)
		for _, gr := range groups {
			which := host + " " + routeLabel(gr.first)
			if gr.routes > 1 {
				which = fmt.Sprintf("%d routes of %s, the first %s,", gr.routes, host, routeLabel(gr.first))
			}
			if gr.gap == nil {
				pos := gr.first.Origin
				p.report(diags, pos, "%s %s %s, which the %s policy requires: %s", which, have(gr.routes), lacking, p.yaml, fix)
				continue
			}
			pos := gr.gap.from.Pos
			if pos.File == "" {
				pos = gr.first.Origin
			}
			if gr.gap.how == "optional" {
				p.report(diags, pos, "%s: %s is optional at the %s level, so requests without a token get through, but the %s policy requires %s", strings.TrimSuffix(which, ","), gr.gap.rule, levelWord(gr.gap.from.Level), p.yaml, what)
				continue
			}
			p.report(diags, pos, "%s: %s is disabled at the %s level, but the %s policy requires %s", strings.TrimSuffix(which, ","), gr.gap.rule, levelWord(gr.gap.from.Level), p.yaml, what)
		}
	}
}

func have(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func levelWord(l ir.SettingLevel) string {
	switch l {
	case ir.LevelVirtualHost:
		return "virtual host"
	case "":
		return "unknown"
	}
	return string(l)
}

// hostLabel names a virtual host by its hostnames, as a reviewer knows it.
func hostLabel(vh *ir.VirtualHost) string {
	switch len(vh.Domains) {
	case 0:
		return "virtual host " + vh.Name
	case 1:
		return vh.Domains[0]
	}
	return fmt.Sprintf("%s (and %d more)", vh.Domains[0], len(vh.Domains)-1)
}

// routeLabel names a route by its name, if any, and its path match.
func routeLabel(r *ir.Route) string {
	s := string(r.Match.PathKind) + " " + r.Match.Path
	if r.Name != "" {
		return "route " + r.Name + " (" + s + ")"
	}
	return s
}

// rulesOf calls f once for every distinct rule set on a gateway: on its
// virtual hosts (with the gateway's defaults folded in) and on its routes.
func rulesOf(g *ir.Gateway, f func(vh *ir.VirtualHost, s *ir.Security)) {
	for _, vh := range servedHosts(g) {
		if vh.Security != nil {
			f(vh, vh.Security)
		}
		for _, r := range vh.Routes {
			if r.Security != nil {
				f(vh, r.Security)
			}
		}
	}
}

func corsOrigins(diags *diag.List, p *securityPolicy, g *ir.Gateway) {
	seen := map[*ir.CORSRule]bool{}
	rulesOf(g, func(vh *ir.VirtualHost, s *ir.Security) {
		c := s.CORS
		if c == nil || c.Disabled || seen[c] {
			return
		}
		seen[c] = true
		for _, o := range c.Origins {
			if ok, why := p.originAllowed(o); !ok {
				p.report(diags, c.From.Pos, "CORS lets in %s%s, outside the origins the %s policy allows (%s)", originText(o), why, p.yaml, strings.Join(p.allowedOrigins(), ", "))
			}
		}
	})
}

func (p *securityPolicy) allowedOrigins() []string {
	var out []string
	for _, o := range p.origins {
		out = append(out, o.text)
	}
	return out
}

// originText says which origins a match lets in, in the policy's glob
// words where it can.
func originText(o ir.StringMatch) string {
	switch o.Kind {
	case ir.MatchExact:
		return o.Value
	case ir.MatchSuffix:
		return "any origin ending in " + o.Value
	case ir.MatchPrefix:
		return "any origin starting with " + o.Value
	case ir.MatchContains:
		return "any origin containing " + o.Value
	case ir.MatchRegex:
		return "origins matching the regex " + o.Value
	}
	return string(o.Kind) + " " + o.Value
}

// originAllowed reports whether every origin a match lets in matches one
// of the allowed globs. Glob containment is decided only where it is
// certain: an exact origin is matched; a suffix needs a pattern "**"
// followed by a tail of the suffix, a prefix a pattern of a head of it
// followed by "**"; a regex counts as exact only when it is a plain
// string. Anything else is a finding: the policy fails closed.
func (p *securityPolicy) originAllowed(o ir.StringMatch) (bool, string) {
	v := strings.ToLower(o.Value)
	switch o.Kind {
	case ir.MatchExact:
		return p.originMatches(v), ""
	case ir.MatchRegex:
		lit, ok := plainRegex(o.Value)
		if !ok {
			return false, " (a regex cannot be checked against the allowed list; write exact or suffix origins)"
		}
		return p.originMatches(strings.ToLower(lit)), ""
	}
	for _, a := range p.origins {
		if a.text == "**" {
			return true, ""
		}
		switch o.Kind {
		case ir.MatchSuffix:
			tail, ok := strings.CutPrefix(a.text, "**")
			if ok && !hasMeta(tail) && strings.HasSuffix(v, tail) {
				return true, ""
			}
		case ir.MatchPrefix:
			head, ok := strings.CutSuffix(a.text, "**")
			if ok && !hasMeta(head) && strings.HasPrefix(v, head) {
				return true, ""
			}
		}
	}
	return false, ""
}

func (p *securityPolicy) originMatches(v string) bool {
	return slices.ContainsFunc(p.origins, func(a originPattern) bool { return a.g.Match(v) })
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[]{}\!`) }

// plainRegex returns the string a regex matches when it matches exactly
// one (anchors aside).
func plainRegex(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var lit strings.Builder
	for _, s := range subs {
		switch s.Op {
		case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		case syntax.OpLiteral:
			if s.Flags&syntax.FoldCase != 0 {
				return "", false
			}
			lit.WriteString(string(s.Rune))
		default:
			return "", false
		}
	}
	return lit.String(), true
}

func ipAllowlist(diags *diag.List, p *securityPolicy, g *ir.Gateway) {
	seen := map[*ir.IPRule]bool{}
	allowed := make([]string, len(p.cidrs))
	for i, c := range p.cidrs {
		allowed[i] = c.String()
	}
	rulesOf(g, func(vh *ir.VirtualHost, s *ir.Security) {
		r := s.IP
		if r == nil || r.Disabled || seen[r] {
			return
		}
		seen[r] = true
		for _, c := range r.Allow {
			pfx, err := netip.ParsePrefix(c)
			if err != nil {
				continue // lowering reports it
			}
			if !slices.ContainsFunc(p.cidrs, func(a netip.Prefix) bool { return within(pfx, a) }) {
				p.report(diags, r.From.Pos, "IP allow list admits %s, outside the ranges the %s policy allows (%s)", c, p.yaml, strings.Join(allowed, ", "))
			}
		}
	})
}

// within reports whether every address of p is in a.
func within(p, a netip.Prefix) bool {
	p, a = unmap(p), unmap(a)
	return p.Addr().Is4() == a.Addr().Is4() && a.Bits() <= p.Bits() && a.Contains(p.Addr())
}

// unmap writes an IPv4-mapped IPv6 range as the IPv4 range it is.
func unmap(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

func extAuthFailOpen(diags *diag.List, p *securityPolicy, g *ir.Gateway) {
	for _, s := range g.AuthServices {
		if s.FailOpen {
			p.report(diags, s.Origin, "auth service %s fails open: while it is unreachable, requests pass unchecked; the %s policy requires it to fail closed", s.Name, p.yaml)
		}
	}
}
