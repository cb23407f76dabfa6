package gatewayapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
)

// attachRoute attaches a route to the listeners its parentRefs select and
// admit, under the hostnames listener and route share, and records the
// route's status for each parent.
func (l *lowerer) attachRoute(ro *routeObj) {
	d := ro.doc
	rs := RouteStatus{Kind: ro.kind, Namespace: d.Namespace, Name: d.Name, Parents: []ParentStatus{}}
	if len(ro.parents) == 0 {
		l.diags.Warnf(d.Pos("spec"), "NoMatchingParent", "%s names no parentRefs, so it attaches to nothing", d.ID())
	}
	for i, pr := range ro.parents {
		path := []any{"spec", "parentRefs", i}
		group, kind := Group, "Gateway"
		if pr.Group != nil {
			group = string(*pr.Group)
		}
		if pr.Kind != nil {
			kind = string(*pr.Kind)
		}
		if group != Group || kind != "Gateway" {
			// A parent of another kind (a Service, for a mesh) is another
			// controller's to program.
			continue
		}
		ns := d.Namespace
		if pr.Namespace != nil {
			ns = string(*pr.Namespace)
		}
		ps := ParentStatus{Gateway: ns + "/" + string(pr.Name)}
		if pr.SectionName != nil {
			ps.SectionName = string(*pr.SectionName)
		}
		if pr.Port != nil {
			ps.Port = int32(*pr.Port)
		}
		accepted, reason, msg := l.parent(ro, pr, ns, path)
		if !ro.accepted {
			accepted, reason, msg = false, ro.acceptedReason, ro.acceptedMsg
		}
		ps.Conditions = []Condition{
			cond("Accepted", accepted, reason, "%s", msg),
			cond("ResolvedRefs", ro.resolved, ro.resolvedReason, "%s", ro.resMsg),
		}
		rs.Parents = append(rs.Parents, ps)
	}
	l.status.Routes = append(l.status.Routes, rs)
}

// parent attaches a route to one parent, if it can, and says how that went
// in the terms of the Accepted condition.
func (l *lowerer) parent(ro *routeObj, pr gwv1.ParentReference, ns string, path []any) (bool, string, string) {
	d := ro.doc
	fail := func(at []any, reason, format string, args ...any) (bool, string, string) {
		msg := fmt.Sprintf(format, args...)
		l.diags.Errorf(d.Pos(append(slices.Clone(path), at...)...), reason, "%s: %s", d.ID(), msg)
		return false, reason, msg
	}
	gb := l.byName[nsName{ns, string(pr.Name)}]
	if gb == nil {
		return fail([]any{"name"}, "NoMatchingParent", "Gateway %s/%s is not among the manifests", ns, pr.Name)
	}
	var candidates []*listenerBuilder
	for _, lb := range gb.listeners {
		if (pr.SectionName == nil || string(*pr.SectionName) == string(lb.spec.Name)) && (pr.Port == nil || *pr.Port == lb.spec.Port) {
			candidates = append(candidates, lb)
		}
	}
	if len(candidates) == 0 {
		at := []any{"sectionName"}
		if pr.SectionName == nil {
			at = []any{"port"}
		}
		return fail(at, "NoMatchingParent", "Gateway %s/%s has no listener%s", ns, pr.Name, selector(pr))
	}
	var allowed []*listenerBuilder
	for _, lb := range candidates {
		if lb.ok && gb.valid && l.allows(gb, lb, ro.kind, d.Namespace) {
			allowed = append(allowed, lb)
		}
	}
	if len(allowed) == 0 {
		names := make([]string, len(candidates))
		for i, lb := range candidates {
			names[i] = string(lb.spec.Name)
		}
		return fail(nil, "NotAllowedByListeners", "no listener of Gateway %s/%s it names (%s) admits %ss from namespace %q", ns, pr.Name, strings.Join(names, ", "), ro.kind, d.Namespace)
	}
	type attachment struct {
		lb    *listenerBuilder
		hosts []string
	}
	var attachments []attachment
	for _, lb := range allowed {
		if ro.kind == "TCPRoute" {
			attachments = append(attachments, attachment{lb, nil})
		} else if hosts := intersect(hostnameOf(lb.spec.Hostname), ro.hostnames); len(hosts) > 0 {
			attachments = append(attachments, attachment{lb, hosts})
		}
	}
	if ro.kind == "TLSRoute" && slices.ContainsFunc(attachments, func(a attachment) bool { return slices.Contains(a.hosts, "*") }) {
		return fail(nil, "UnsupportedValue", "neither the route nor the listener of Gateway %s/%s has a hostname; a Passthrough listener tells connections apart by server name only", ns, pr.Name)
	}
	if len(attachments) == 0 {
		l.diags.Errorf(d.Pos("spec", "hostnames"), "NoMatchingListenerHostname", "%s: no hostname of the route matches a listener of Gateway %s/%s it may attach to", d.ID(), ns, pr.Name).
			Note(gb.src.Doc.Pos("spec", "listeners", allowed[0].index, "hostname"), "listener %q serves %q", allowed[0].spec.Name, hostnameOf(allowed[0].spec.Hostname))
		return false, "NoMatchingListenerHostname", "no hostname of the route matches a listener"
	}
	if !ro.accepted {
		return false, ro.acceptedReason, ro.acceptedMsg
	}
	for _, a := range attachments {
		if ro.kind == "TCPRoute" {
			break // a TCP listener serves no hostname
		}
		for _, h := range a.hosts {
			l.own.checkHost(ro.team, h, func() diag.Pos { return hostPos(ro, h, path) }, d.ID(), &l.diags)
		}
	}
	for _, a := range attachments {
		a.lb.attached[ro] = true
		if l4(ro.kind) {
			a.lb.l4 = append(a.lb.l4, l4Attachment{ro: ro, hosts: a.hosts, parent: path})
			continue
		}
		for _, h := range a.hosts {
			vb := a.lb.vhosts[h]
			if vb == nil {
				vb = &vhostBuilder{hostname: h}
				a.lb.vhosts[h] = vb
			}
			for _, ru := range ro.rules {
				for i := range ru.matches {
					vb.entries = append(vb.entries, &entry{ro: ro, rule: ru, match: &ru.matches[i]})
				}
			}
		}
	}
	return true, "Accepted", ""
}

// hostPos is where a route comes to serve a hostname: the route's own
// hostname that is or covers it, else the parentRef whose listener gives
// it.
func hostPos(ro *routeObj, h string, parent []any) diag.Pos {
	for i, rh := range ro.hostnames {
		if string(rh) == h || covers(string(rh), h) {
			return ro.doc.Pos("spec", "hostnames", i)
		}
	}
	return ro.doc.Pos(parent...)
}

func selector(pr gwv1.ParentReference) string {
	var parts []string
	if pr.SectionName != nil {
		parts = append(parts, fmt.Sprintf(" named %q", *pr.SectionName))
	}
	if pr.Port != nil {
		parts = append(parts, fmt.Sprintf(" on port %d", *pr.Port))
	}
	return strings.Join(parts, " and")
}

// intersect returns the hostnames a route is served under on a listener:
// those of the route the listener's hostname admits, or the listener's
// when it is the more specific. Both empty: every hostname ("*").
func intersect(listener string, route []gwv1.Hostname) []string {
	if len(route) == 0 {
		if listener == "" {
			return []string{"*"}
		}
		return []string{listener}
	}
	var out []string
	for _, rh := range route {
		r := string(rh)
		switch {
		case listener == "" || listener == r:
			out = append(out, r)
		case covers(listener, r):
			out = append(out, r)
		case covers(r, listener):
			out = append(out, listener)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// covers reports whether wildcard hostname w ("*.example.com") matches h,
// which may itself be a narrower wildcard. The wildcard stands for one or
// more labels.
func covers(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	if !ok {
		return false
	}
	rest, ok := strings.CutSuffix(h, suffix)
	return ok && rest != ""
}

// finish assembles the gateway's IR: one Envoy listener per port, its
// Gateway listeners merged (HTTP) or one filter chain each (HTTPS).
func (gb *gatewayBuilder) finish(l *lowerer) *ir.Gateway {
	g := gb.g
	for _, lb := range gb.listeners {
		gb.status.Listeners = append(gb.status.Listeners, ListenerStatus{Name: string(lb.spec.Name), SupportedKinds: append([]string{}, lb.kinds...), AttachedRoutes: len(lb.attached), Conditions: lb.conds})
	}
	l.status.Gateways = append(l.status.Gateways, *gb.status)
	var ports []int32
	byPort := map[int32][]*listenerBuilder{}
	for _, lb := range gb.listeners {
		if !lb.ok {
			continue
		}
		p := int32(lb.spec.Port)
		if byPort[p] == nil {
			ports = append(ports, p)
		}
		byPort[p] = append(byPort[p], lb)
	}
	clusters := map[string]bool{}
	for _, p := range ports {
		lbs := byPort[p]
		first := lbs[0]
		li := &ir.Listener{Name: string(first.spec.Name), Address: "0.0.0.0", Port: uint32(p), Protocol: first.proto}
		switch {
		case first.proto == ir.TCP:
			if li.TCP = gb.tcpProxy(l, first, clusters); li.TCP == nil {
				l.diags.Warnf(gb.src.Doc.Pos("spec", "listeners", first.index, "name"), "empty-listener", "TCP listener %q forwards to no route, so it is left out of the bundle", first.spec.Name)
				continue
			}
			g.Listeners = append(g.Listeners, li)
			continue
		}
		if first.proto == ir.HTTP {
			merged := map[string]*vhostBuilder{}
			for _, lb := range lbs {
				for h, vb := range lb.vhosts {
					if m := merged[h]; m != nil {
						m.entries = append(m.entries, vb.entries...)
					} else {
						merged[h] = &vhostBuilder{hostname: h, entries: slices.Clone(vb.entries)}
					}
				}
			}
			li.Routes = &ir.RouteTable{Name: li.Name, VirtualHosts: gb.vhosts(l, merged, clusters)}
			g.Listeners = append(g.Listeners, li)
			continue
		}
		li.TLS = &ir.ListenerTLS{MinVersion: lower.DefaultMinTLS}
		if slices.ContainsFunc(lbs, func(lb *listenerBuilder) bool { return !lb.passthrough }) {
			li.TLS.ALPN = slices.Clone(lower.DefaultALPN)
		}
		claimed := map[string]bool{}
		for _, lb := range lbs {
			if h := hostnameOf(lb.spec.Hostname); h != "" {
				claimed[h] = true
			}
		}
		var passLBs []*listenerBuilder
		for _, lb := range lbs {
			if lb.passthrough {
				passLBs = append(passLBs, lb)
				continue
			}
			if len(lb.vhosts) == 0 {
				continue
			}
			chain := &ir.FilterChain{Name: string(lb.spec.Name), Certificate: *lb.cert}
			if h := hostnameOf(lb.spec.Hostname); h != "" {
				chain.ServerNames = []string{h}
			} else {
				for h := range lb.vhosts {
					if h == "*" {
						l.diags.Errorf(gb.src.Doc.Pos("spec", "listeners", lb.index, "name"), "UnsupportedValue",
							"listener %q: an HTTPS listener without a hostname serves a route without hostnames; edgectl picks a listener's certificate by SNI, so give the listener or the route a hostname", lb.spec.Name)
						continue
					}
					if !claimed[h] {
						chain.ServerNames = append(chain.ServerNames, h)
					}
				}
				slices.Sort(chain.ServerNames)
				if len(chain.ServerNames) == 0 {
					continue
				}
			}
			chain.Routes = &ir.RouteTable{Name: li.Name + "." + chain.Name, VirtualHosts: gb.vhosts(l, lb.vhosts, clusters)}
			li.Chains = append(li.Chains, chain)
		}
		if len(passLBs) > 0 {
			terminated := map[string]string{}
			for _, c := range li.Chains {
				for _, sn := range c.ServerNames {
					terminated[sn] = c.Name
				}
			}
			li.Chains = append(li.Chains, gb.passthroughChains(l, passLBs, terminated, clusters)...)
		}
		if len(li.Chains) == 0 {
			what := "HTTPS listener %q serves no route"
			if first.passthrough {
				what = "TLS listener %q passes no route through"
			}
			l.diags.Warnf(gb.src.Doc.Pos("spec", "listeners", first.index, "name"), "empty-listener", what+", so it is left out of the bundle", first.spec.Name)
			continue
		}
		slices.SortFunc(li.Chains, func(a, b *ir.FilterChain) int { return strings.Compare(a.Name, b.Name) })
		g.Listeners = append(g.Listeners, li)
	}
	slices.SortFunc(g.Listeners, func(a, b *ir.Listener) int { return strings.Compare(a.Name, b.Name) })
	for _, name := range slices.Sorted(maps.Keys(gb.auth)) {
		g.AuthServices = append(g.AuthServices, l.authServices[name])
	}
	for _, name := range slices.Sorted(maps.Keys(clusters)) {
		c := l.clusters[name]
		g.Clusters = append(g.Clusters, c)
		if c.TLS != nil && c.TLS.CA != nil && !c.TLS.CA.SDS && len(g.Secrets) == 0 {
			g.Secrets = []*ir.Secret{{Name: systemCA, CA: SystemCAFile}}
		}
	}
	return g
}

// vhosts builds the virtual hosts of one route table, each with its
// routes in precedence order, and notes the clusters they use.
func (gb *gatewayBuilder) vhosts(l *lowerer, byHost map[string]*vhostBuilder, clusters map[string]bool) []*ir.VirtualHost {
	var out []*ir.VirtualHost
	for _, h := range slices.Sorted(maps.Keys(byHost)) {
		vb := byHost[h]
		entries := slices.Clone(vb.entries)
		slices.SortStableFunc(entries, less)
		entries = slices.CompactFunc(entries, func(a, b *entry) bool { return a.ro == b.ro && a.rule == b.rule && a.match == b.match })
		vh := &ir.VirtualHost{Name: h, Domains: []string{h}}
		for _, e := range entries {
			r := e.route()
			for _, w := range r.Forward {
				clusters[w.Cluster] = true
			}
			if r.Mirror != nil {
				clusters[r.Mirror.Cluster] = true
			}
			if r.Security != nil && r.Security.ExtAuth != nil {
				clusters[l.authServices[r.Security.ExtAuth.Service].Cluster] = true
				gb.auth[r.Security.ExtAuth.Service] = true
			}
			vh.Routes = append(vh.Routes, r)
		}
		l.overlaps(vh)
		out = append(out, vh)
	}
	return out
}

// route is the IR route of one entry: the rule's action under the match.
func (e *entry) route() *ir.Route {
	r := e.rule.action // a copy; slices are shared and never written
	r.Match = e.match.match
	r.Name = fmt.Sprintf("%s/%s/%s/%d/%d", strings.ToLower(e.ro.kind), e.ro.doc.Namespace, e.ro.doc.Name, e.rule.index, e.match.index)
	r.Origin = e.match.origin
	r.Team = e.ro.teamName
	// Replacing a prefix with one ending in "/" (often just "/") must not
	// leave a double slash: /api/v1 with /api → / gives /v1, not //v1.
	if p := r.PrefixRewrite; p != nil && r.Match.PathKind == ir.PathSegment && strings.HasSuffix(*p, "/") {
		r.PrefixRewrite = nil
		r.RegexRewrite = &ir.RegexRewrite{Pattern: "^" + regexp.QuoteMeta(r.Match.Path) + "/*", Substitution: *p}
	}
	// Below the root prefix every path keeps its leading slash: / with /x
	// gives /x/foo for /foo, not /xfoo.
	if p := r.PrefixRewrite; p != nil && r.Match.PathKind == ir.PathPrefix && r.Match.Path == "/" {
		r.PrefixRewrite = nil
		r.RegexRewrite = &ir.RegexRewrite{Pattern: "^/", Substitution: strings.TrimSuffix(*p, "/") + "/"}
	}
	return &r
}
