package gatewayapi

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
)

type backendRef struct {
	ref  gwv1.BackendRef
	path []any
}

// forward sets a rule's weighted backends. A weight of 0 sends no traffic;
// when no backend is left (none named, all weighted 0, or none valid) the
// rule answers 500, as the spec asks. An invalid backend is an error
// (BackendNotFound, RefNotPermitted, InvalidKind), so a bundle never
// carries its share.
func (l *lowerer) forward(ro *routeObj, ru *ruleObj, path []any, refs []backendRef, grpc bool) {
	if ru.action.Redirect != nil {
		if len(refs) > 0 {
			l.unsupported(ro, append(slices.Clone(path), "backendRefs"), "a rule that redirects sends nothing to backendRefs")
		}
		return
	}
	for _, r := range refs {
		weight := int32(1)
		if r.ref.Weight != nil {
			weight = *r.ref.Weight
		}
		c := l.backend(ro, r.ref.BackendObjectReference, r.path, grpc)
		if c == nil || weight <= 0 {
			continue
		}
		if i := slices.IndexFunc(ru.action.Forward, func(w ir.WeightedCluster) bool { return w.Cluster == c.Name }); i >= 0 {
			ru.action.Forward[i].Weight += uint32(weight)
			continue
		}
		ru.action.Forward = append(ru.action.Forward, ir.WeightedCluster{Cluster: c.Name, Weight: uint32(weight)})
	}
	if len(ru.action.Forward) == 0 {
		ru.action.Respond = &ir.Respond{Status: 500}
	}
}

func (l *lowerer) mirror(ro *routeObj, ru *ruleObj, path []any, m *gwv1.HTTPRequestMirrorFilter) {
	c := l.backend(ro, m.BackendRef, append(slices.Clone(path), "requestMirror", "backendRef"), false)
	if c == nil {
		return
	}
	percent := 100.0
	switch {
	case m.Percent != nil:
		percent = float64(*m.Percent)
	case m.Fraction != nil:
		den := int32(100)
		if m.Fraction.Denominator != nil {
			den = *m.Fraction.Denominator
		}
		if den <= 0 || m.Fraction.Numerator < 0 || m.Fraction.Numerator > den {
			l.unsupported(ro, append(slices.Clone(path), "requestMirror", "fraction"), "a fraction needs 0 <= numerator <= denominator and a denominator above 0")
			return
		}
		percent = 100 * float64(m.Fraction.Numerator) / float64(den)
	}
	if percent < 0 || percent > 100 {
		l.unsupported(ro, append(slices.Clone(path), "requestMirror", "percent"), "percent %v is not between 0 and 100", percent)
		return
	}
	ru.action.Mirror = &ir.Mirror{Cluster: c.Name, Percent: percent}
}

// backend resolves a reference to a Service port into its cluster, or
// reports why it cannot.
func (l *lowerer) backend(ro *routeObj, ref gwv1.BackendObjectReference, path []any, grpc bool) *ir.Cluster {
	group, kind := "", "Service"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if (group != "" && group != "core") || kind != "Service" {
		l.unresolved(ro, path, "InvalidKind", "backend %s %q: edgectl routes to Services only", groupKind(group, kind), ref.Name)
		return nil
	}
	ns := ro.doc.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if ns != ro.doc.Namespace && !l.granted(Group, ro.kind, ro.doc.Namespace, "", "Service", ns, string(ref.Name)) {
		l.unresolved(ro, path, "RefNotPermitted", "Service %s/%s is in another namespace, and no ReferenceGrant there lets %ss of namespace %q refer to it", ns, ref.Name, ro.kind, ro.doc.Namespace)
		return nil
	}
	l.own.allowed(ro.team, "backends", ns, string(ref.Name), func() diag.Pos { return ro.doc.Pos(append(slices.Clone(path), "name")...) }, ro.doc.ID(), "Service", &l.diags)
	if ref.Port == nil {
		l.unresolved(ro, path, "UnsupportedValue", "a backendRef to a Service needs a port")
		return nil
	}
	svc := l.services[nsName{ns, string(ref.Name)}]
	if svc == nil {
		l.unresolved(ro, append(slices.Clone(path), "name"), "BackendNotFound", "Service %s/%s is not among the manifests", ns, ref.Name)
		return nil
	}
	var port *corev1.ServicePort
	for i := range svc.Obj.Spec.Ports {
		if svc.Obj.Spec.Ports[i].Port == int32(*ref.Port) {
			port = &svc.Obj.Spec.Ports[i]
		}
	}
	if port == nil {
		l.unresolved(ro, append(slices.Clone(path), "port"), "BackendNotFound", "Service %s/%s has no port %d", ns, ref.Name, *ref.Port)
		return nil
	}
	if svc.Obj.Spec.Type == corev1.ServiceTypeExternalName {
		l.unresolved(ro, append(slices.Clone(path), "name"), "UnsupportedValue", "Service %s/%s is of type ExternalName, which edgectl does not route to", ns, ref.Name)
		return nil
	}
	name := fmt.Sprintf("%s.%s.%d", ns, ref.Name, *ref.Port)
	c := l.clusters[name]
	if c == nil {
		c = &ir.Cluster{Name: name, ConnectTimeout: lower.DefaultConnectTimeout, LB: ir.RoundRobin}
		if eps := l.endpoints(nsName{ns, string(ref.Name)}, port); len(eps) > 0 {
			c.Discovery, c.Endpoints = ir.Static, eps
		} else {
			c.Discovery = ir.Kubernetes
			c.Service = &ir.Service{Namespace: ns, Name: string(ref.Name), Port: strconv.Itoa(int(port.Port))}
		}
		if ap := port.AppProtocol; ap != nil && (*ap == "kubernetes.io/h2c" || *ap == "grpc") {
			c.HTTP2 = true
		}
		c.TLS = l.upstreamTLS(nsName{ns, string(ref.Name)}, port.Name)
		l.clusters[name] = c
	}
	if grpc {
		c.HTTP2 = true
	}
	return c
}

// endpoints lists the ready addresses the EndpointSlices of a Service give
// one of its ports, sorted; none when the manifests hold no slice for it.
func (l *lowerer) endpoints(svc nsName, port *corev1.ServicePort) []ir.Endpoint {
	var out []ir.Endpoint
	for _, es := range l.slices[svc] {
		var target int32
		for _, p := range es.Obj.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			if name == port.Name && p.Port != nil {
				target = *p.Port
			}
		}
		if target == 0 {
			continue
		}
		for _, ep := range es.Obj.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if net.ParseIP(a) != nil {
					out = append(out, ir.Endpoint{Address: a, Port: uint32(target)})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b ir.Endpoint) int {
		if a.Address != b.Address {
			if a.Address < b.Address {
				return -1
			}
			return 1
		}
		return int(a.Port) - int(b.Port)
	})
	return slices.Compact(out)
}
