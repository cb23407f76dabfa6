package gatewayapi

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/ir"
)

// l4Attachment is a TLSRoute or TCPRoute attached to one listener, with
// the hostnames it is served under there.
type l4Attachment struct {
	ro    *routeObj
	hosts []string
	// parent is the parentRef that attached it, for positions.
	parent []any
}

// l4 reports whether a route kind forwards connections rather than
// requests.
func l4(kind string) bool { return kind == "TLSRoute" || kind == "TCPRoute" }

func (l *lowerer) tlsRoute(r *TLSRoute) *routeObj {
	spec := r.Obj.Spec
	ro := l.newRouteObj(r.Doc, "TLSRoute", r.Obj.ObjectMeta, spec.CommonRouteSpec, spec.Hostnames)
	for i, h := range spec.Hostnames {
		// An IP address is no server name: clients send none for it.
		if strings.Trim(string(h), "0123456789.") == "" || strings.Contains(string(h), ":") {
			l.unsupported(ro, []any{"spec", "hostnames", i}, "hostname %q is not a DNS name; TLS clients send none for an address", h)
		}
	}
	var refs [][]gwv1.BackendRef
	for _, rule := range spec.Rules {
		refs = append(refs, rule.BackendRefs)
	}
	l.l4Rules(ro, refs)
	return ro
}

func (l *lowerer) tcpRoute(r *TCPRoute) *routeObj {
	spec := r.Obj.Spec
	ro := l.newRouteObj(r.Doc, "TCPRoute", r.Obj.ObjectMeta, spec.CommonRouteSpec, nil)
	var refs [][]gwv1.BackendRef
	for _, rule := range spec.Rules {
		refs = append(refs, rule.BackendRefs)
	}
	l.l4Rules(ro, refs)
	return ro
}

// l4Rules resolves the backends of a TLSRoute's or TCPRoute's one rule
// into the weighted clusters its connections go to. Without a backend
// left the route forwards nothing, and its connections are refused, as
// the spec asks.
func (l *lowerer) l4Rules(ro *routeObj, rules [][]gwv1.BackendRef) {
	if len(rules) > 1 {
		l.unsupported(ro, []any{"spec", "rules", 1}, "a %s has one rule; edgectl does not pick between rules", ro.kind)
	}
	if len(rules) == 0 {
		l.unsupported(ro, []any{"spec"}, "a %s needs a rule with backendRefs", ro.kind)
		return
	}
	proxy := &ir.TCPProxy{}
	for j, b := range rules[0] {
		path := []any{"spec", "rules", 0, "backendRefs", j}
		weight := int32(1)
		if b.Weight != nil {
			weight = *b.Weight
		}
		c := l.backend(ro, b.BackendObjectReference, path, false)
		if c != nil && c.TLS != nil && ro.kind == "TLSRoute" {
			// The client's TLS goes through untouched: Envoy cannot wrap
			// it in a second session of its own.
			ns := ro.doc.Namespace
			if b.Namespace != nil {
				ns = string(*b.Namespace)
			}
			l.unsupported(ro, path, "Service %s/%s has a BackendTLSPolicy, but a TLSRoute passes the client's TLS through, so Envoy originates none", ns, b.Name)
			continue
		}
		if c == nil || weight <= 0 {
			continue
		}
		if i := slices.IndexFunc(proxy.Clusters, func(w ir.WeightedCluster) bool { return w.Cluster == c.Name }); i >= 0 {
			proxy.Clusters[i].Weight += uint32(weight)
			continue
		}
		proxy.Clusters = append(proxy.Clusters, ir.WeightedCluster{Cluster: c.Name, Weight: uint32(weight)})
	}
	if len(proxy.Clusters) > 0 {
		ro.proxy = proxy
	}
}

// older orders attachments oldest route first, as the spec resolves
// conflicts (see compareAge).
func older(a, b l4Attachment) int { return compareAge(a.ro, b.ro) }

// passthroughChains builds the chains of the Passthrough listeners of one
// port: one per TLSRoute, selected by the server names it was given. A
// server name two routes share goes to the older route; the newer is
// warned about. A server name an HTTPS listener of the port terminates
// (terminated: server name to chain) stays with it.
func (gb *gatewayBuilder) passthroughChains(l *lowerer, lbs []*listenerBuilder, terminated map[string]string, clusters map[string]bool) []*ir.FilterChain {
	var all []l4Attachment
	for _, lb := range lbs {
		all = append(all, lb.l4...)
	}
	slices.SortStableFunc(all, older)
	claimed := map[string]*routeObj{}
	byRoute := map[*routeObj]*ir.FilterChain{}
	var chains []*ir.FilterChain
	for _, a := range all {
		if a.ro.proxy == nil {
			continue
		}
		for _, h := range a.hosts {
			if h == "*" {
				continue // refused when it attached
			}
			if listener, ok := terminated[h]; ok {
				l.diags.Warnf(hostPos(a.ro, h, a.parent), "Conflicted", "%s: server name %q is terminated by HTTPS listener %q on the same port, which keeps it; this route gets no connections for it", a.ro.doc.ID(), h, listener)
				continue
			}
			if winner := claimed[h]; winner != nil {
				if winner != a.ro {
					l.diags.Warnf(hostPos(a.ro, h, a.parent), "Conflicted", "%s: server name %q is already routed by the older %s, which wins; this route gets no connections for it", a.ro.doc.ID(), h, winner.doc.ID())
				}
				continue
			}
			claimed[h] = a.ro
			chain := byRoute[a.ro]
			if chain == nil {
				chain = &ir.FilterChain{Name: strings.ToLower(a.ro.kind) + "/" + a.ro.doc.Namespace + "/" + a.ro.doc.Name, Passthrough: a.ro.proxy, PassthroughHost: h, Team: a.ro.teamName}
				byRoute[a.ro] = chain
				chains = append(chains, chain)
				for _, w := range a.ro.proxy.Clusters {
					clusters[w.Cluster] = true
				}
			}
			chain.ServerNames = append(chain.ServerNames, h)
		}
	}
	for _, c := range chains {
		slices.Sort(c.ServerNames)
		c.PassthroughHost = c.ServerNames[0]
	}
	slices.SortFunc(chains, func(a, b *ir.FilterChain) int { return strings.Compare(a.Name, b.Name) })
	return chains
}

// tcpProxy picks the TCPRoute a TCP listener forwards to: the oldest, as
// the spec resolves conflicts; the others are warned about.
func (gb *gatewayBuilder) tcpProxy(l *lowerer, lb *listenerBuilder, clusters map[string]bool) *ir.TCPProxy {
	all := slices.Clone(lb.l4)
	slices.SortStableFunc(all, older)
	var winner *routeObj
	for _, a := range all {
		if a.ro.proxy == nil {
			continue
		}
		if winner != nil {
			if winner != a.ro {
				l.diags.Warnf(a.ro.doc.Pos(a.parent...), "Conflicted", "%s: listener %q already forwards to the older %s, which wins; a TCP listener forwards to one route", a.ro.doc.ID(), lb.spec.Name, winner.doc.ID())
			}
			continue
		}
		winner = a.ro
	}
	if winner == nil {
		return nil
	}
	for _, w := range winner.proxy.Clusters {
		clusters[w.Cluster] = true
	}
	return winner.proxy
}
