package diff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/ir"
)

// SecurityChange is one change to what protects requests, in a reviewer's
// words, with whether it loosens or tightens the protection.
//
// A change is loosening when some request is let through, or let in from
// a browser, that was not before: authentication removed, disabled or made
// optional, a provider added, a CIDR added to an allow list or dropped from
// a deny list, an origin, method or header added to CORS, a rate limit
// raised or removed, client certificates made optional or no longer asked
// for, a service made to fail open. A change whose effect edgectl cannot
// judge (another authorization service, another CA, another key to count
// by) is counted as loosening too: it needs the reviewer's look. Every
// other change tightens.
type SecurityChange struct {
	VirtualHost string   `json:"virtualHost,omitempty"`
	Hostnames   []string `json:"hostnames,omitempty"`
	// Route names the one route the change is about; empty when it is
	// about every route of the host that inherits the host's rule.
	Route string `json:"route,omitempty"`
	// Routes is how many routes the change reaches.
	Routes    int    `json:"routes"`
	Loosening bool   `json:"loosening"`
	Change    string `json:"change"`
	// Where is the host and route as the text output prints them.
	Where string `json:"where"`
}

// compareSecurity compares the rules each route of both versions meets.
// A rule set on a virtual host (or the gateway's defaults, folded into it)
// that changes is one change for all the routes that inherit it, not one
// per route. Loosening changes come first; otherwise the order is the
// hosts' and then the routes' order in the new version.
func compareSecurity(base, head *ir.Gateway) []SecurityChange {
	if base == nil || head == nil {
		return nil
	}
	var out []SecurityChange
	bh, hh := hosts(base), hosts(head)
	names := make([]string, 0, len(hh))
	for n := range hh {
		if bh[n] != nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		out = append(out, hostSecurity(bh[n].vh, hh[n].vh)...)
	}
	out = append(out, chainSecurity(base, head)...)
	out = append(out, serviceSecurity(base, head)...)
	slices.SortStableFunc(out, func(a, b SecurityChange) int {
		switch {
		case a.Loosening == b.Loosening:
			return 0
		case a.Loosening:
			return -1
		}
		return 1
	})
	return out
}

// feature is one rule of Security, as a diff reads it.
type feature struct {
	get     func(*ir.Security) any // the rule, or nil (as an untyped nil) when unset
	compare func(b, h any) []change
}

type change struct {
	text      string
	loosening bool
}

var features = []feature{
	{func(s *ir.Security) any { return ruleOrNil(s.JWT) }, compareJWT},
	{func(s *ir.Security) any { return ruleOrNil(s.ExtAuth) }, compareExtAuth},
	{func(s *ir.Security) any { return ruleOrNil(s.BasicAuth) }, compareBasicAuth},
	{func(s *ir.Security) any { return ruleOrNil(s.IP) }, compareIP},
	{func(s *ir.Security) any { return ruleOrNil(s.CORS) }, compareCORS},
	{func(s *ir.Security) any { return ruleOrNil(s.LocalRateLimit) }, compareLocalRateLimit},
	{func(s *ir.Security) any { return ruleOrNil(s.RateLimit) }, compareRateLimit},
}

// ruleOrNil keeps a nil rule an untyped nil, so a comparison can test it.
func ruleOrNil[T any](r *T) any {
	if r == nil {
		return nil
	}
	return r
}

func get(s *ir.Security, f feature) any {
	if s == nil {
		return nil
	}
	return f.get(s)
}

func hostSecurity(b, h *ir.VirtualHost) []SecurityChange {
	var out []SecurityChange
	host := strings.Join(h.Domains, ", ")
	add := func(route string, routes int, cs []change) {
		where := host + " " + route
		if route == "" {
			where = routesOf(routes, len(h.Routes), host)
		}
		for _, c := range cs {
			out = append(out, SecurityChange{VirtualHost: h.Name, Hostnames: h.Domains, Route: route, Routes: routes,
				Loosening: c.loosening, Change: c.text, Where: where})
		}
	}
	bRoutes := map[string]*ir.Route{}
	for _, r := range b.Routes {
		if _, dup := bRoutes[identity(r)]; !dup {
			bRoutes[identity(r)] = r
		}
	}
	// was[i] is the base's version of the new version's route i; nil for
	// a new route, and for a second route of the same identity.
	was := make([]*ir.Route, len(h.Routes))
	seen := map[string]bool{}
	for i, r := range h.Routes {
		if id := identity(r); !seen[id] {
			seen[id] = true
			was[i] = bRoutes[id]
		}
	}
	for _, f := range features {
		// Routes that set the rule on neither side meet the host's rule
		// on both: one change for all of them.
		inheriting := 0
		for i, r := range h.Routes {
			if get(r.Security, f) == nil && (was[i] == nil || get(was[i].Security, f) == nil) {
				inheriting++
			}
		}
		if inheriting > 0 {
			add("", inheriting, f.compare(get(b.Security, f), get(h.Security, f)))
		}
	}
	for i, r := range h.Routes {
		br := was[i]
		if br == nil {
			// A new route is listed with the host's routes; what it sets
			// of its own is compared with what it would have inherited,
			// so a new route cannot switch protection off unseen.
			var cs []change
			for _, f := range features {
				if own := get(r.Security, f); own != nil {
					cs = append(cs, f.compare(get(h.Security, f), own)...)
				}
			}
			add(routeWords(r)+" (new route, against the host's rules)", 1, cs)
			continue
		}
		var cs []change
		for _, f := range features {
			own, old := get(r.Security, f), get(br.Security, f)
			if own == nil && old == nil {
				continue
			}
			bEff, hEff := old, own
			if bEff == nil {
				bEff = get(b.Security, f)
			}
			if hEff == nil {
				hEff = get(h.Security, f)
			}
			cs = append(cs, f.compare(bEff, hEff)...)
		}
		add(routeWords(r), 1, cs)
	}
	return out
}

// routesOf says which routes of a host a host-wide change reaches.
func routesOf(n, all int, host string) string {
	switch {
	case n == all && n == 1:
		return "the one route of " + host
	case n == all:
		return "all " + thousands(n) + " routes of " + host
	}
	return fmt.Sprintf("%s %s of %s that %s the host's rule", thousands(n), plural(n, "route", "routes"), host, plural(n, "inherits", "inherit"))
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// routeWords names a route for a security line: its path, its methods,
// and its name if it has one.
func routeWords(r *ir.Route) string {
	s := r.Match.Path
	if r.Match.PathKind == ir.PathRegex {
		s = "regex " + s
	}
	if len(r.Match.Methods) > 0 {
		s += " " + strings.Join(r.Match.Methods, "|")
	}
	if r.Name != "" {
		s += " (route " + r.Name + ")"
	}
	return s
}

func loosen(format string, args ...any) change {
	return change{text: fmt.Sprintf(format, args...), loosening: true}
}

func tighten(format string, args ...any) change {
	return change{text: fmt.Sprintf(format, args...)}
}

// listChanges reports what was added to and removed from a list, with
// whether adding loosens.
func listChanges(b, h []string, addLoosens bool, added, removed string) []change {
	var out []change
	for _, x := range h {
		if !slices.Contains(b, x) {
			out = append(out, change{text: fmt.Sprintf(added, x), loosening: addLoosens})
		}
	}
	for _, x := range b {
		if !slices.Contains(h, x) {
			out = append(out, change{text: fmt.Sprintf(removed, x), loosening: !addLoosens})
		}
	}
	return out
}

func jwtState(r *ir.JWTRule) string {
	switch {
	case r == nil:
		return "off"
	case r.Disabled:
		return "disabled"
	case r.Optional:
		return "optional"
	}
	return "required"
}

func compareJWT(bv, hv any) []change {
	b, _ := bv.(*ir.JWTRule)
	h, _ := hv.(*ir.JWTRule)
	bs, hs := jwtState(b), jwtState(h)
	rank := map[string]int{"off": 0, "disabled": 0, "optional": 1, "required": 2}
	switch {
	case rank[hs] < rank[bs] && hs == "off":
		return []change{loosen("JWT removed (was %s)", bs)}
	case rank[hs] < rank[bs]:
		return []change{loosen("JWT now %s (was %s)", hs, bs)}
	case rank[hs] > rank[bs]:
		return []change{tighten("JWT now %s (was %s)", hs, bs)}
	case rank[hs] == 0:
		return nil
	}
	return listChanges(b.Providers, h.Providers, true, "JWT now accepts tokens of provider %s", "JWT no longer accepts tokens of provider %s")
}

func compareExtAuth(bv, hv any) []change {
	b, _ := bv.(*ir.ExtAuthRule)
	h, _ := hv.(*ir.ExtAuthRule)
	bOn, hOn := b != nil && !b.Disabled, h != nil && !h.Disabled
	switch {
	case bOn && !hOn && h == nil:
		return []change{loosen("ext_authz removed (was service %s)", b.Service)}
	case bOn && !hOn:
		return []change{loosen("ext_authz disabled (was service %s)", b.Service)}
	case !bOn && hOn:
		return []change{tighten("ext_authz added (service %s)", h.Service)}
	case !bOn:
		return nil
	}
	var out []change
	if b.Service != h.Service {
		out = append(out, loosen("ext_authz asks service %s (was %s)", h.Service, b.Service))
	}
	if headers(b.Context) != headers(h.Context) {
		out = append(out, loosen("ext_authz context %s (was %s)", headers(h.Context), headers(b.Context)))
	}
	return out
}

func headers(hs []ir.Header) string {
	if len(hs) == 0 {
		return "none"
	}
	var parts []string
	for _, h := range hs {
		parts = append(parts, fmt.Sprintf("%s=%q", h.Name, h.Value))
	}
	return strings.Join(parts, ", ")
}

func compareBasicAuth(bv, hv any) []change {
	b, _ := bv.(*ir.BasicAuthRule)
	h, _ := hv.(*ir.BasicAuthRule)
	bOn, hOn := b != nil && !b.Disabled, h != nil && !h.Disabled
	switch {
	case bOn && !hOn && h == nil:
		return []change{loosen("basic auth removed (was users from %s)", b.UsersFile)}
	case bOn && !hOn:
		return []change{loosen("basic auth disabled (was users from %s)", b.UsersFile)}
	case !bOn && hOn:
		return []change{tighten("basic auth added (users from %s)", h.UsersFile)}
	case bOn && b.UsersFile != h.UsersFile:
		return []change{loosen("basic auth users from %s (was %s)", h.UsersFile, b.UsersFile)}
	}
	return nil
}

func compareIP(bv, hv any) []change {
	b, _ := bv.(*ir.IPRule)
	h, _ := hv.(*ir.IPRule)
	var bAllow, hAllow, bDeny, hDeny []string
	if b != nil && !b.Disabled {
		bAllow, bDeny = b.Allow, b.Deny
	}
	if h != nil && !h.Disabled {
		hAllow, hDeny = h.Allow, h.Deny
	}
	var out []change
	// An empty allow list lets every address through.
	switch {
	case len(bAllow) > 0 && len(hAllow) == 0:
		out = append(out, loosen("IP allow list removed: every address may connect (was %s)", strings.Join(bAllow, ", ")))
	case len(bAllow) == 0 && len(hAllow) > 0:
		out = append(out, tighten("IP allow list now only %s (was every address)", strings.Join(hAllow, ", ")))
	default:
		out = append(out, listChanges(bAllow, hAllow, true, "IP allow list now includes %s", "IP allow list no longer includes %s")...)
	}
	out = append(out, listChanges(bDeny, hDeny, false, "IP deny list now includes %s", "IP deny list no longer includes %s")...)
	return out
}

// origin renders a CORS origin match the way a reviewer reads it.
func origin(m ir.StringMatch) string {
	switch m.Kind {
	case ir.MatchExact:
		return m.Value
	case ir.MatchSuffix:
		return "*" + m.Value
	case ir.MatchPrefix:
		return m.Value + "*"
	case ir.MatchRegex:
		return "regex " + m.Value
	}
	return string(m.Kind) + " " + m.Value
}

func compareCORS(bv, hv any) []change {
	b, _ := bv.(*ir.CORSRule)
	h, _ := hv.(*ir.CORSRule)
	if b != nil && b.Disabled {
		b = nil
	}
	if h != nil && h.Disabled {
		h = nil
	}
	origins := func(r *ir.CORSRule) []string {
		if r == nil {
			return nil
		}
		var out []string
		for _, o := range r.Origins {
			out = append(out, origin(o))
		}
		return out
	}
	switch {
	case b == nil && h == nil:
		return nil
	case h == nil:
		return []change{tighten("CORS removed (allowed %s)", strings.Join(origins(b), ", "))}
	}
	var out []change
	out = append(out, listChanges(origins(b), origins(h), true, "CORS now allows %s", "CORS no longer allows %s")...)
	if b == nil {
		b = &ir.CORSRule{}
	}
	out = append(out, listChanges(b.Methods, h.Methods, true, "CORS now allows method %s", "CORS no longer allows method %s")...)
	out = append(out, listChanges(b.Headers, h.Headers, true, "CORS now allows request header %s", "CORS no longer allows request header %s")...)
	out = append(out, listChanges(b.ExposeHeaders, h.ExposeHeaders, true, "CORS now exposes response header %s", "CORS no longer exposes response header %s")...)
	switch {
	case !b.Credentials && h.Credentials:
		out = append(out, loosen("CORS now allows credentials"))
	case b.Credentials && !h.Credentials:
		out = append(out, tighten("CORS no longer allows credentials"))
	}
	if bm, hm := maxAge(b.MaxAge), maxAge(h.MaxAge); bm != hm {
		c := change{text: fmt.Sprintf("CORS preflight cached %s (was %s)", hm, bm)}
		c.loosening = h.MaxAge != nil && (b.MaxAge == nil || *h.MaxAge > *b.MaxAge)
		out = append(out, c)
	}
	return out
}

func maxAge(d *time.Duration) string {
	if d == nil {
		return "Envoy's default"
	}
	return d.String()
}

// rate renders requests per period: "100/min", or "100 per 10s".
func rate(n uint32, per time.Duration) string {
	switch per {
	case time.Second:
		return fmt.Sprintf("%d/s", n)
	case time.Minute:
		return fmt.Sprintf("%d/min", n)
	case time.Hour:
		return fmt.Sprintf("%d/h", n)
	case 24 * time.Hour:
		return fmt.Sprintf("%d/day", n)
	}
	return fmt.Sprintf("%d per %s", n, per)
}

func perSecond(n uint32, per time.Duration) float64 {
	if per <= 0 {
		return float64(n)
	}
	return float64(n) / per.Seconds()
}

func key(k *ir.RateKey) string {
	if k == nil {
		return "all clients together"
	}
	switch k.Kind {
	case ir.KeyHeader:
		return "header " + k.Header
	case ir.KeyGeneric:
		return "key " + k.Value
	}
	return string(k.Kind)
}

func compareLocalRateLimit(bv, hv any) []change {
	b, _ := bv.(*ir.LocalRateLimitRule)
	h, _ := hv.(*ir.LocalRateLimitRule)
	bOn, hOn := b != nil && !b.Disabled, h != nil && !h.Disabled
	switch {
	case bOn && !hOn && h == nil:
		return []change{loosen("local rate limit removed (was %s)", rate(b.Requests, b.Per))}
	case bOn && !hOn:
		return []change{loosen("local rate limit disabled (was %s)", rate(b.Requests, b.Per))}
	case !bOn && hOn:
		return []change{tighten("local rate limit added: %s per %s", rate(h.Requests, h.Per), key(h.By))}
	case !bOn:
		return nil
	}
	var out []change
	br, hr := perSecond(b.Requests, b.Per), perSecond(h.Requests, h.Per)
	switch {
	case hr > br:
		out = append(out, loosen("local rate limit raised %s", fromTo(b.Requests, b.Per, h.Requests, h.Per)))
	case hr < br:
		out = append(out, tighten("local rate limit lowered %s", fromTo(b.Requests, b.Per, h.Requests, h.Per)))
	}
	if kb, kh := key(b.By), key(h.By); kb != kh {
		out = append(out, loosen("local rate limit counted per %s (was per %s)", kh, kb))
	}
	return out
}

// fromTo renders a rate change: "100 → 1000/min", or "100/min → 10/s"
// when the period changes too.
func fromTo(bn uint32, bp time.Duration, hn uint32, hp time.Duration) string {
	if bp == hp {
		r := rate(hn, hp)
		return fmt.Sprintf("%d → %s", bn, r)
	}
	return rate(bn, bp) + " → " + rate(hn, hp)
}

func limitKey(l ir.RateLimit) string {
	if len(l.By) == 0 {
		return "all requests"
	}
	var parts []string
	for _, k := range l.By {
		parts = append(parts, key(&k))
	}
	return "per " + strings.Join(parts, ", ")
}

func compareRateLimit(bv, hv any) []change {
	b, _ := bv.(*ir.RateLimitRule)
	h, _ := hv.(*ir.RateLimitRule)
	bOn, hOn := b != nil && !b.Disabled && len(b.Limits) > 0, h != nil && !h.Disabled && len(h.Limits) > 0
	switch {
	case bOn && !hOn && h != nil && h.Disabled:
		return []change{loosen("rate limit disabled (was service %s)", b.Service)}
	case bOn && !hOn:
		return []change{loosen("rate limit removed (was service %s)", b.Service)}
	case !bOn && hOn:
		return []change{tighten("rate limit added (service %s): %s", h.Service, limits(h.Limits))}
	case !bOn:
		return nil
	}
	var out []change
	if b.Service != h.Service {
		out = append(out, loosen("rate limit counted by service %s (was %s)", h.Service, b.Service))
	}
	units := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	bl := map[string]ir.RateLimit{}
	for _, l := range b.Limits {
		bl[limitKey(l)] = l
	}
	hl := map[string]bool{}
	for _, l := range h.Limits {
		k := limitKey(l)
		hl[k] = true
		old, ok := bl[k]
		if !ok {
			out = append(out, tighten("rate limit added: %s %s", rate(l.Requests, units[l.Unit]), k))
			continue
		}
		br, hr := perSecond(old.Requests, units[old.Unit]), perSecond(l.Requests, units[l.Unit])
		switch {
		case hr > br:
			out = append(out, loosen("rate limit %s raised %s", k, fromTo(old.Requests, units[old.Unit], l.Requests, units[l.Unit])))
		case hr < br:
			out = append(out, tighten("rate limit %s lowered %s", k, fromTo(old.Requests, units[old.Unit], l.Requests, units[l.Unit])))
		}
	}
	for _, l := range b.Limits {
		if k := limitKey(l); !hl[k] {
			out = append(out, loosen("rate limit removed: %s %s", rate(l.Requests, units[l.Unit]), k))
		}
	}
	return out
}

func limits(ls []ir.RateLimit) string {
	units := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	var parts []string
	for _, l := range ls {
		parts = append(parts, rate(l.Requests, units[l.Unit])+" "+limitKey(l))
	}
	return strings.Join(parts, "; ")
}

// chainSecurity compares the client certificates each filter chain asks
// for; a chain serves every host of its certificate.
func chainSecurity(base, head *ir.Gateway) []SecurityChange {
	type chainAt struct {
		listener string
		fc       *ir.FilterChain
	}
	chains := func(g *ir.Gateway) map[string]chainAt {
		out := map[string]chainAt{}
		for _, l := range g.Listeners {
			for _, fc := range l.Chains {
				out[l.Name+"/"+fc.Name] = chainAt{l.Name, fc}
			}
		}
		return out
	}
	bc, hc := chains(base), chains(head)
	var keys []string
	for k := range hc {
		if _, ok := bc[k]; ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []SecurityChange
	for _, k := range keys {
		h := hc[k]
		for _, c := range compareClientCerts(bc[k].fc.ClientCertificates, h.fc.ClientCertificates) {
			out = append(out, SecurityChange{Hostnames: h.fc.ServerNames, Routes: chainRoutes(h.fc), Loosening: c.loosening, Change: c.text,
				Where: fmt.Sprintf("%s (listener %s, certificate %s)", strings.Join(h.fc.ServerNames, ", "), h.listener, h.fc.Name)})
		}
	}
	return out
}

func chainRoutes(fc *ir.FilterChain) int {
	n := 0
	if fc.Routes != nil {
		for _, vh := range fc.Routes.VirtualHosts {
			n += len(vh.Routes)
		}
	}
	return n
}

func compareClientCerts(b, h *ir.ClientCertificates) []change {
	state := func(c *ir.ClientCertificates) string {
		switch {
		case c == nil:
			return "not asked for"
		case c.Optional:
			return "optional"
		}
		return "required"
	}
	bs, hs := state(b), state(h)
	rank := map[string]int{"not asked for": 0, "optional": 1, "required": 2}
	switch {
	case rank[hs] < rank[bs]:
		return []change{loosen("client certificates now %s (was %s)", hs, bs)}
	case rank[hs] > rank[bs]:
		return []change{tighten("client certificates now %s (was %s)", hs, bs)}
	case h == nil:
		return nil
	}
	var out []change
	if b.CA != h.CA {
		out = append(out, loosen("client certificates verified by CA %s (was %s)", caName(h.CA), caName(b.CA)))
	}
	sans := func(c *ir.ClientCertificates) []string {
		var out []string
		for _, s := range c.SubjectAltNames {
			out = append(out, fmt.Sprintf("%s %s %s", s.Type, s.Kind, s.Value))
		}
		return out
	}
	bsan, hsan := sans(b), sans(h)
	switch {
	case len(bsan) > 0 && len(hsan) == 0:
		out = append(out, loosen("client certificates: any subject alternative name accepted (was %s)", strings.Join(bsan, "; ")))
	case len(bsan) == 0 && len(hsan) > 0:
		out = append(out, tighten("client certificates: only subject alternative names %s (was any)", strings.Join(hsan, "; ")))
	default:
		out = append(out, listChanges(bsan, hsan, true, "client certificates: subject alternative name %s now accepted", "client certificates: subject alternative name %s no longer accepted")...)
	}
	switch {
	case b.CRLFile != "" && h.CRLFile == "":
		out = append(out, loosen("client certificates: revocation list %s no longer checked", b.CRLFile))
	case b.CRLFile == "" && h.CRLFile != "":
		out = append(out, tighten("client certificates: revocation list %s now checked", h.CRLFile))
	case b.CRLFile != h.CRLFile:
		out = append(out, loosen("client certificates: revocation list %s (was %s)", h.CRLFile, b.CRLFile))
	}
	return out
}

func caName(c ir.CertRef) string {
	if c.SDS {
		return c.Name + " (SDS " + c.SDSName + ")"
	}
	return c.Name
}

// serviceSecurity compares what the gateway's services do when they fail.
func serviceSecurity(base, head *ir.Gateway) []SecurityChange {
	var out []SecurityChange
	failOpen := func(kind, name string, b, h bool) {
		switch {
		case !b && h:
			out = append(out, SecurityChange{Loosening: true, Change: "now fails open: requests pass unchecked while it is unreachable", Where: kind + " " + name})
		case b && !h:
			out = append(out, SecurityChange{Change: "now fails closed (was open)", Where: kind + " " + name})
		}
	}
	bAuth := map[string]*ir.AuthService{}
	for _, s := range base.AuthServices {
		bAuth[s.Name] = s
	}
	for _, s := range head.AuthServices {
		if b := bAuth[s.Name]; b != nil {
			failOpen("auth service", s.Name, b.FailOpen, s.FailOpen)
		}
	}
	bRL := map[string]*ir.RateLimitService{}
	for _, s := range base.RateLimitServices {
		bRL[s.Name] = s
	}
	for _, s := range head.RateLimitServices {
		if b := bRL[s.Name]; b != nil {
			failOpen("rate-limit service", s.Name, b.FailOpen, s.FailOpen)
		}
	}
	bJWT := map[string]*ir.JWTProvider{}
	for _, p := range base.JWTProviders {
		bJWT[p.Name] = p
	}
	for _, p := range head.JWTProviders {
		b := bJWT[p.Name]
		if b == nil {
			continue
		}
		where := "JWT provider " + p.Name
		if b.Issuer != p.Issuer {
			out = append(out, SecurityChange{Loosening: true, Change: fmt.Sprintf("issuer %s (was %s)", p.Issuer, b.Issuer), Where: where})
		}
		for _, c := range listChanges(b.Audiences, p.Audiences, true, "now accepts audience %s", "no longer accepts audience %s") {
			out = append(out, SecurityChange{Loosening: c.loosening, Change: c.text, Where: where})
		}
		if jwks(b) != jwks(p) {
			out = append(out, SecurityChange{Loosening: true, Change: fmt.Sprintf("keys from %s (was %s)", jwks(p), jwks(b)), Where: where})
		}
	}
	return out
}

func jwks(p *ir.JWTProvider) string {
	if p.RemoteJWKS != nil {
		return p.RemoteJWKS.URI
	}
	return p.LocalJWKSFile
}
