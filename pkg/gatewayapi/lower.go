package gatewayapi

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
)

// Result is what a set of manifests lowers to: one IR gateway per Gateway
// (sorted by bundle name) and the status each object would get.
type Result struct {
	Gateways []*ir.Gateway
	Status   *Status
}

// DefaultSDSPipe is where Envoy fetches the certificates a Gateway's
// listeners name (Secrets, which never live in the repository), unless the
// Gateway's annotation SDSAnnotation names another SDS server.
const DefaultSDSPipe = "/var/run/edgectl/sds.sock"

// SDSAnnotation on a Gateway names its SDS server: "unix:PATH" or
// "HOST:PORT".
const SDSAnnotation = "edgectl.dev/sds"

type nsName struct{ ns, name string }

func (n nsName) String() string { return n.ns + "/" + n.name }

type lowerer struct {
	set      *Set
	diags    diag.List
	services map[nsName]*Service
	slices   map[nsName][]*EndpointSlice // by the Service they belong to
	nsLabels map[string]map[string]string
	clusters map[string]*ir.Cluster
	// tlsTargets is the upstream TLS of Services, from BackendTLSPolicies.
	tlsTargets map[nsName][]tlsTarget
	gateways   []*gatewayBuilder
	byName     map[nsName]*gatewayBuilder
	status     *Status
	own        *owners
	re2Limit   int
	re2Raised  bool // by edgectl.yaml
	// authServices are the AuthServices of ExternalAuth filters, by name.
	authServices map[string]*ir.AuthService
	// checked holds the virtual hosts whose routes were checked for
	// overlaps: hostname and route names.
	checked map[string]bool
}

// Lower lowers a set of manifests. User problems are diagnostics; each
// condition a conformant controller would set to False is an error whose
// rule is the condition's reason. proj, the edgectl.yaml beside the
// manifests (nil without one), may map namespaces to teams, whose
// hostnames, certificates and backends then bind the objects of those
// namespaces.
func Lower(set *Set, proj *intent.Project) (*Result, diag.List) {
	l := &lowerer{set: set, own: newOwners(proj), authServices: map[string]*ir.AuthService{}, checked: map[string]bool{}, services: map[nsName]*Service{}, slices: map[nsName][]*EndpointSlice{},
		nsLabels: map[string]map[string]string{}, clusters: map[string]*ir.Cluster{}, byName: map[nsName]*gatewayBuilder{},
		status: &Status{Gateways: []GatewayStatus{}, Routes: []RouteStatus{}}}
	l.re2Limit, l.re2Raised = re2Limit(proj)
	for _, s := range set.Services {
		l.services[nsName{s.Doc.Namespace, s.Doc.Name}] = s
	}
	for _, es := range set.EndpointSlices {
		if svc := es.Obj.Labels[discoveryServiceLabel]; svc != "" {
			k := nsName{es.Doc.Namespace, svc}
			l.slices[k] = append(l.slices[k], es)
		}
	}
	for _, ns := range set.Namespaces {
		l.nsLabels[ns.Doc.Name] = ns.Obj.Labels
	}
	l.lowerGateways()
	l.lowerTLSPolicies()
	l.lowerRoutes()
	res := &Result{Status: l.status}
	for _, gb := range l.gateways {
		if g := gb.finish(l); g != nil {
			res.Gateways = append(res.Gateways, g)
		}
	}
	slices.SortFunc(res.Gateways, func(a, b *ir.Gateway) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(l.status.Gateways, func(a, b GatewayStatus) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	slices.SortFunc(l.status.Policies, func(a, b PolicyStatus) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	slices.SortFunc(l.status.Routes, func(a, b RouteStatus) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return res, l.diags
}

const discoveryServiceLabel = "kubernetes.io/service-name"

// gatewayBuilder collects one Gateway's IR while routes attach to it.
type gatewayBuilder struct {
	src       *Gateway
	team      int             // index into the project's teams, -1 for none
	auth      map[string]bool // AuthServices its routes use
	g         *ir.Gateway
	listeners []*listenerBuilder
	status    *GatewayStatus
	valid     bool // accepted: routes may attach
}

type listenerBuilder struct {
	spec  gwv1.Listener
	index int
	ok    bool // accepted, resolved and not conflicted
	proto ir.Protocol
	// passthrough: a TLS listener in Passthrough mode, whose TLSRoutes
	// become SNI-selected chains that forward the connection untouched.
	passthrough bool
	// l4 are the TLSRoutes or TCPRoutes attached, with the hostnames each
	// is served under (none for a TCPRoute).
	l4       []l4Attachment
	cert     *ir.CertRef
	kinds    []string // route kinds allowed
	attached map[*routeObj]bool
	conds    []Condition
	vhosts   map[string]*vhostBuilder
}

type vhostBuilder struct {
	hostname string
	entries  []*entry
}

func (l *lowerer) lowerGateways() {
	gws := slices.Clone(l.set.Gateways)
	slices.SortFunc(gws, func(a, b *Gateway) int {
		return cmp.Or(strings.Compare(a.Doc.Namespace, b.Doc.Namespace), strings.Compare(a.Doc.Name, b.Doc.Name), cmp.Compare(a.Doc.Order, b.Doc.Order))
	})
	names := map[string]int{}
	for _, gw := range gws {
		names[gw.Doc.Name]++
	}
	classes := map[string]bool{}
	for _, c := range l.set.Classes {
		classes[c.Doc.Name] = true
	}
	for i, gw := range gws {
		d := gw.Doc
		key := nsName{d.Namespace, d.Name}
		if i > 0 && gws[i-1].Doc.Namespace == d.Namespace && gws[i-1].Doc.Name == d.Name {
			l.diags.Errorf(d.Pos("metadata", "name"), "duplicate-name", "%s is declared twice", d.ID()).
				Note(gws[i-1].Doc.Pos("metadata", "name"), "first declared here")
			continue
		}
		name := d.Name
		if names[d.Name] > 1 {
			name = d.Namespace + "." + d.Name
		}
		if t := l.own.team(d.Namespace, d, &l.diags); t >= 0 && !l.own.teams[t].Platform {
			l.diags.Errorf(d.Pos("kind"), "ownership", "%s: team %q may not declare gateways; only a platform team may", d.ID(), l.own.teams[t].Name).
				Note(l.own.proj.KeyPos("spec", "teams", t, "name"), "team %q is declared here; platform: true makes it a platform team", l.own.teams[t].Name)
		}
		if cls := string(gw.Obj.Spec.GatewayClassName); len(classes) > 0 && !classes[cls] {
			l.diags.Errorf(d.Pos("spec", "gatewayClassName"), "unknown-reference", "GatewayClass %q is not among the manifests (%s)", cls, strings.Join(slices.Sorted(maps.Keys(classes)), ", "))
		}
		g := &ir.Gateway{Name: name, NodeID: name, NodeCluster: name, XDSDir: lower.DefaultXDSDir, SDS: &ir.SDSServer{Pipe: DefaultSDSPipe}}
		if l.re2Raised {
			g.RE2MaxProgramSize = uint32(l.re2Limit)
		}
		if v, ok := gw.Obj.Annotations[SDSAnnotation]; ok {
			if sds, err := parseSDS(v); err != nil {
				l.diags.Errorf(d.Pos("metadata", "annotations", SDSAnnotation), "invalid-value", "annotation %s: %v", SDSAnnotation, err)
			} else {
				g.SDS = sds
			}
		}
		gb := &gatewayBuilder{src: gw, g: g, auth: map[string]bool{}, team: l.own.team(d.Namespace, d, &l.diags), status: &GatewayStatus{Namespace: d.Namespace, Name: d.Name, Bundle: name}}
		l.listeners(gb)
		l.gateways = append(l.gateways, gb)
		l.byName[key] = gb
	}
}

func keysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func parseSDS(v string) (*ir.SDSServer, error) {
	if p, ok := strings.CutPrefix(v, "unix:"); ok && p != "" {
		return &ir.SDSServer{Pipe: p}, nil
	}
	i := strings.LastIndexByte(v, ':')
	if i <= 0 {
		return nil, fmt.Errorf("%q is neither unix:PATH nor HOST:PORT", v)
	}
	port, err := strconv.ParseUint(v[i+1:], 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("%q has no valid port", v)
	}
	return &ir.SDSServer{Address: strings.Trim(v[:i], "[]"), Port: uint32(port)}, nil
}

func (l *lowerer) listeners(gb *gatewayBuilder) {
	d, spec := gb.src.Doc, gb.src.Obj.Spec
	gateErr := func(path []any, reason, format string, args ...any) {
		l.diags.Errorf(d.Pos(path...), reason, format, args...)
	}
	addrOK := true
	if len(spec.Addresses) > 0 {
		addrOK = false
		gateErr([]any{"spec", "addresses"}, "UnsupportedAddress", "spec.addresses: edgectl compiles for Envoy processes that bind every address; a Gateway cannot ask for one")
	}
	for i, ls := range spec.Listeners {
		path := []any{"spec", "listeners", i}
		lb := &listenerBuilder{spec: ls, index: i, ok: true, vhosts: map[string]*vhostBuilder{}, attached: map[*routeObj]bool{}}
		accepted, acceptedReason, acceptedMsg := true, "Accepted", ""
		resolved, resolvedReason, resolvedMsg := true, "ResolvedRefs", ""
		fail := func(accept bool, reason string, at []any, format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			gateErr(append(slices.Clone(path), at...), reason, "listener %q: %s", ls.Name, msg)
			if accept {
				accepted, acceptedReason, acceptedMsg = false, reason, msg
			} else {
				resolved, resolvedReason, resolvedMsg = false, reason, msg
			}
		}
		switch ls.Protocol {
		case gwv1.HTTPProtocolType:
			lb.proto = ir.HTTP
			if ls.TLS != nil {
				fail(true, "UnsupportedValue", []any{"tls"}, "an HTTP listener takes no tls")
			}
		case gwv1.HTTPSProtocolType:
			lb.proto = ir.HTTPS
			l.listenerCert(gb, lb, path, fail)
		case gwv1.TLSProtocolType:
			switch {
			case ls.TLS == nil || ls.TLS.Mode == nil || *ls.TLS.Mode != gwv1.TLSModePassthrough:
				fail(true, "UnsupportedValue", []any{"tls"}, "a TLS listener needs tls.mode Passthrough; edgectl terminates TLS on HTTPS listeners only")
			case len(ls.TLS.CertificateRefs) > 0:
				fail(true, "UnsupportedValue", []any{"tls", "certificateRefs"}, "a Passthrough listener takes no certificateRefs")
			default:
				lb.proto, lb.passthrough = ir.HTTPS, true
			}
		case gwv1.TCPProtocolType:
			lb.proto = ir.TCP
			if ls.TLS != nil {
				fail(true, "UnsupportedValue", []any{"tls"}, "a TCP listener takes no tls")
			}
		default:
			fail(true, "UnsupportedProtocol", []any{"protocol"}, "protocol %s is not supported by edgectl (HTTP, HTTPS, TLS with Passthrough and TCP are)", ls.Protocol)
		}
		lb.kinds = l.routeKinds(lb, path, fail)
		if ar := ls.AllowedRoutes; ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil && *ar.Namespaces.From == gwv1.NamespacesFromSelector {
			if ar.Namespaces.Selector == nil {
				fail(true, "UnsupportedValue", []any{"allowedRoutes"}, "allowedRoutes.namespaces.from Selector needs a selector")
			} else if _, err := metav1.LabelSelectorAsSelector(ar.Namespaces.Selector); err != nil {
				fail(true, "UnsupportedValue", []any{"allowedRoutes"}, "allowedRoutes.namespaces.selector: %v", err)
			}
		}
		// Conflicts with earlier listeners on the same port.
		conflicted, conflictReason := false, "NoConflicts"
		for _, other := range gb.listeners {
			if other.spec.Port != ls.Port {
				continue
			}
			switch {
			case other.spec.Protocol != ls.Protocol && !(tlsFamily(other.spec.Protocol) && tlsFamily(ls.Protocol)) || ls.Protocol == gwv1.TCPProtocolType:
				// A TCP listener has no hostname to tell connections
				// apart by: its port is its own.
				conflicted, conflictReason = true, "ProtocolConflict"
				other.conflict(conflictReason)
				l.diags.Errorf(d.Pos(append(slices.Clone(path), "protocol")...), "ProtocolConflict", "listener %q: port %d is already %s on listener %q", ls.Name, ls.Port, other.spec.Protocol, other.spec.Name).
					Note(d.Pos("spec", "listeners", other.index, "protocol"), "listener %q is declared here", other.spec.Name)
			case hostnameOf(other.spec.Hostname) == hostnameOf(ls.Hostname):
				conflicted, conflictReason = true, "HostnameConflict"
				other.conflict(conflictReason)
				l.diags.Errorf(d.Pos(append(slices.Clone(path), "port")...), "HostnameConflict", "listener %q: port %d with hostname %q is already served by listener %q", ls.Name, ls.Port, cmp.Or(hostnameOf(ls.Hostname), "*"), other.spec.Name).
					Note(d.Pos("spec", "listeners", other.index, "name"), "listener %q is declared here", other.spec.Name)
			}
		}
		if conflicted {
			accepted, acceptedReason = false, conflictReason
		}
		lb.ok = accepted && resolved && addrOK
		lb.conds = []Condition{
			cond("Accepted", accepted, acceptedReason, "%s", acceptedMsg),
			cond("Conflicted", !conflicted, conflictReason, ""),
			cond("Programmed", lb.ok, ternary(lb.ok, "Programmed", "Invalid"), ""),
			cond("ResolvedRefs", resolved, resolvedReason, "%s", resolvedMsg),
		}
		// Conflicted is the one condition whose good value is False.
		lb.conds[1].Status = ternary(conflicted, "True", "False")
		gb.listeners = append(gb.listeners, lb)
	}
	valid := slices.ContainsFunc(gb.listeners, func(lb *listenerBuilder) bool { return lb.ok })
	gb.valid = valid && addrOK
	switch {
	case !addrOK:
		gb.status.Conditions = append(gb.status.Conditions, cond("Accepted", false, "UnsupportedAddress", "spec.addresses is not supported"))
	case !valid:
		gb.status.Conditions = append(gb.status.Conditions, cond("Accepted", false, "ListenersNotValid", "no listener is valid"))
	default:
		gb.status.Conditions = append(gb.status.Conditions, cond("Accepted", true, "Accepted", ""))
	}
	gb.status.Conditions = append(gb.status.Conditions, cond("Programmed", gb.valid, ternary(gb.valid, "Programmed", "Invalid"), ""))
}

// tlsFamily reports whether listeners of a protocol select connections by
// SNI: HTTPS and TLS listeners share a port as chains of one Envoy
// listener.
func tlsFamily(p gwv1.ProtocolType) bool {
	return p == gwv1.HTTPSProtocolType || p == gwv1.TLSProtocolType
}

// conflict marks an earlier listener as conflicting with a later one: both
// are conflicted, though the finding is reported at the later.
func (lb *listenerBuilder) conflict(reason string) {
	lb.ok = false
	if lb.conds[0].Status == "True" {
		lb.conds[0] = cond("Accepted", false, reason, "")
	}
	if lb.conds[1].Status == "False" {
		lb.conds[1] = Condition{Type: "Conflicted", Status: "True", Reason: reason}
	}
	lb.conds[2] = cond("Programmed", false, "Invalid", "")
}

func ternary[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

func hostnameOf(h *gwv1.Hostname) string {
	if h == nil {
		return ""
	}
	return string(*h)
}

// listenerCert resolves an HTTPS listener's certificate: a Secret, which
// the gateway's SDS server holds under the name namespace/name.
func (l *lowerer) listenerCert(gb *gatewayBuilder, lb *listenerBuilder, path []any, fail func(bool, string, []any, string, ...any)) {
	d, ls := gb.src.Doc, lb.spec
	if ls.TLS == nil {
		fail(false, "InvalidCertificateRef", []any{"protocol"}, "an HTTPS listener needs tls.certificateRefs")
		return
	}
	if ls.TLS.Mode != nil && *ls.TLS.Mode != gwv1.TLSModeTerminate {
		fail(true, "UnsupportedValue", []any{"tls"}, "tls.mode %s: an HTTPS listener terminates TLS", *ls.TLS.Mode)
		return
	}
	if len(ls.TLS.CertificateRefs) == 0 {
		fail(false, "InvalidCertificateRef", []any{"tls"}, "an HTTPS listener needs tls.certificateRefs")
		return
	}
	for j, ref := range ls.TLS.CertificateRefs {
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		ns := d.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		refPath := append(slices.Clone(path), "tls", "certificateRefs", j)
		switch {
		case (group != "" && group != "core") || kind != "Secret":
			fail(false, "InvalidCertificateRef", refPath[len(path):], "certificateRefs[%d] is a %s, but edgectl serves certificates from Secrets only", j, groupKind(group, kind))
			return
		case ns != d.Namespace && !l.granted(Group, "Gateway", d.Namespace, "", "Secret", ns, string(ref.Name)):
			fail(false, "RefNotPermitted", refPath[len(path):], "Secret %s/%s is in another namespace, and no ReferenceGrant there lets Gateways of namespace %q refer to it", ns, ref.Name, d.Namespace)
			return
		}
		l.own.allowed(gb.team, "certificates", ns, string(ref.Name), func() diag.Pos { return d.Pos(refPath...) }, d.ID(), "certificate Secret", &l.diags)
		if j == 0 {
			name := ns + "/" + string(ref.Name)
			lb.cert = &ir.CertRef{Name: name, SDS: true, SDSName: name}
		} else {
			l.diags.Warnf(d.Pos(refPath...), "UnsupportedValue", "listener %q: only the first certificateRef is served; edgectl serves one certificate per listener", ls.Name)
		}
	}
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// routeKinds returns the route kinds a listener admits, reporting the ones
// it names but cannot admit.
func (l *lowerer) routeKinds(lb *listenerBuilder, path []any, fail func(bool, string, []any, string, ...any)) []string {
	if lb.proto == "" {
		return nil
	}
	admits := []string{"GRPCRoute", "HTTPRoute"}
	switch {
	case lb.passthrough:
		admits = []string{"TLSRoute"}
	case lb.proto == ir.TCP:
		admits = []string{"TCPRoute"}
	}
	if lb.spec.AllowedRoutes == nil || len(lb.spec.AllowedRoutes.Kinds) == 0 {
		return admits
	}
	var out []string
	for i, k := range lb.spec.AllowedRoutes.Kinds {
		group := Group
		if k.Group != nil {
			group = string(*k.Group)
		}
		if group == Group && slices.Contains(admits, string(k.Kind)) {
			out = append(out, string(k.Kind))
			continue
		}
		fail(false, "InvalidRouteKinds", []any{"allowedRoutes", "kinds", i}, "allowedRoutes.kinds: %s cannot attach to %s %s listener", groupKind(group, string(k.Kind)), ternary(lb.proto == ir.HTTP || lb.proto == ir.HTTPS && !lb.passthrough, "an", "a"), lb.spec.Protocol)
	}
	return out
}

// granted reports whether a ReferenceGrant in toNS lets objects of a kind
// in fromNS refer to the named object.
func (l *lowerer) granted(fromGroup, fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	for _, g := range l.set.Grants {
		if g.Doc.Namespace != toNS {
			continue
		}
		from := slices.ContainsFunc(g.Obj.Spec.From, func(f gwv1.ReferenceGrantFrom) bool {
			return string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNS
		})
		to := slices.ContainsFunc(g.Obj.Spec.To, func(t gwv1.ReferenceGrantTo) bool {
			tg := string(t.Group)
			if tg == "core" {
				tg = ""
			}
			return tg == toGroup && string(t.Kind) == toKind && (t.Name == nil || string(*t.Name) == toName)
		})
		if from && to {
			return true
		}
	}
	return false
}

// allows reports whether a listener admits routes of a kind from a
// namespace.
func (l *lowerer) allows(gb *gatewayBuilder, lb *listenerBuilder, kind, ns string) bool {
	if !slices.Contains(lb.kinds, kind) {
		return false
	}
	from := gwv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := lb.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSelector:
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil || sel == nil {
			return false
		}
		lbls := map[string]string{"kubernetes.io/metadata.name": ns}
		for k, v := range l.nsLabels[ns] {
			lbls[k] = v
		}
		return s.Matches(labels.Set(lbls))
	default:
		return ns == gb.src.Doc.Namespace
	}
}
