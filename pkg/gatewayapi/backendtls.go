package gatewayapi

import (
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/ir"
)

// SystemCAFile is where the Envoy host keeps its trusted CA bundle, used
// for BackendTLSPolicy's wellKnownCACertificates: System.
const SystemCAFile = "/etc/ssl/certs/ca-certificates.crt"

// systemCA names the IR secret of SystemCAFile.
const systemCA = "system-ca"

// tlsTarget is the upstream TLS a BackendTLSPolicy gives one Service, or
// one port of it (by name).
type tlsTarget struct {
	port   string // "": every port
	policy *BackendTLSPolicy
	tls    *ir.UpstreamTLS
}

// lowerTLSPolicies resolves every BackendTLSPolicy into the upstream TLS
// of the Services it targets. Of two policies for one Service port the
// older wins, as the spec's conflict rule says.
func (l *lowerer) lowerTLSPolicies() {
	l.tlsTargets = map[nsName][]tlsTarget{}
	policies := slices.Clone(l.set.TLSPolicies)
	slices.SortStableFunc(policies, func(a, b *BackendTLSPolicy) int {
		return compareAge(&routeObj{doc: a.Doc, created: a.Obj.CreationTimestamp}, &routeObj{doc: b.Doc, created: b.Obj.CreationTimestamp})
	})
	for _, p := range policies {
		d, v := p.Doc, p.Obj.Spec.Validation
		tls := &ir.UpstreamTLS{SNI: string(v.Hostname)}
		ok := true
		accepted := cond("Accepted", true, "Accepted", "")
		resolved := cond("ResolvedRefs", true, "ResolvedRefs", "")
		reject := func(c *Condition, reason, msg string) {
			if c.Status == "True" {
				*c = cond(c.Type, false, reason, "%s", msg)
			}
		}
		switch {
		case len(v.CACertificateRefs) > 0:
			ref := v.CACertificateRefs[0]
			if (ref.Group != "" && ref.Group != "core") || ref.Kind != "ConfigMap" {
				l.diags.Errorf(d.Pos("spec", "validation", "caCertificateRefs", 0), "InvalidKind", "%s: caCertificateRefs[0] is a %s; edgectl takes CA certificates from ConfigMaps", d.ID(), groupKind(string(ref.Group), string(ref.Kind)))
				reject(&resolved, "InvalidKind", "the CA certificate is not a ConfigMap")
				ok = false
			}
			name := d.Namespace + "/" + string(ref.Name)
			tls.CA = &ir.CertRef{Name: name, SDS: true, SDSName: name}
			if len(v.CACertificateRefs) > 1 {
				l.diags.Warnf(d.Pos("spec", "validation", "caCertificateRefs", 1), "UnsupportedValue", "%s: only the first caCertificateRef is used", d.ID())
			}
		case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates == gwv1.WellKnownCACertificatesSystem:
			tls.CA = &ir.CertRef{Name: systemCA}
		default:
			l.diags.Errorf(d.Pos("spec", "validation"), "InvalidCACertificateRef", "%s: validation needs caCertificateRefs or wellKnownCACertificates: System", d.ID())
			reject(&resolved, "InvalidCACertificateRef", "no CA certificate")
			ok = false
		}
		for i, san := range v.SubjectAltNames {
			if san.Type != gwv1.HostnameSubjectAltNameType {
				l.diags.Errorf(d.Pos("spec", "validation", "subjectAltNames", i), "UnsupportedValue", "%s: subjectAltNames of type %s are not supported by edgectl (Hostname is)", d.ID(), san.Type)
				reject(&accepted, "Invalid", "subjectAltNames of type "+string(san.Type)+" are not supported")
				ok = false
				continue
			}
			tls.SubjectAltNames = append(tls.SubjectAltNames, string(san.Hostname))
		}
		if len(tls.SubjectAltNames) == 0 {
			// Without subjectAltNames the certificate must match the
			// hostname.
			tls.SubjectAltNames = []string{string(v.Hostname)}
		}
		l.status.Policies = append(l.status.Policies, PolicyStatus{Kind: "BackendTLSPolicy", Namespace: d.Namespace, Name: d.Name})
		st := &l.status.Policies[len(l.status.Policies)-1]
		if !ok {
			st.Conditions = []Condition{accepted, resolved}
			continue
		}
		for i, t := range p.Obj.Spec.TargetRefs {
			if (t.Group != "" && t.Group != "core") || t.Kind != "Service" {
				l.diags.Errorf(d.Pos("spec", "targetRefs", i), "TargetNotFound", "%s: targetRefs[%d] is a %s; a BackendTLSPolicy applies to Services", d.ID(), i, groupKind(string(t.Group), string(t.Kind)))
				reject(&accepted, "TargetNotFound", "a target is not a Service")
				continue
			}
			key := nsName{d.Namespace, string(t.Name)}
			if l.services[key] == nil {
				l.diags.Errorf(d.Pos("spec", "targetRefs", i, "name"), "TargetNotFound", "%s: Service %s is not among the manifests", d.ID(), key)
				reject(&accepted, "TargetNotFound", "Service "+key.String()+" is not among the manifests")
				continue
			}
			port := ""
			if t.SectionName != nil {
				port = string(*t.SectionName)
			}
			if slices.ContainsFunc(l.tlsTargets[key], func(o tlsTarget) bool { return o.port == port || o.port == "" || port == "" }) {
				where := ""
				if port != "" {
					where = " port " + port
				}
				l.diags.Errorf(d.Pos("spec", "targetRefs", i), "Conflicted", "%s: an older BackendTLSPolicy already applies to Service %s%s", d.ID(), key, where)
				reject(&accepted, "Conflicted", "an older BackendTLSPolicy applies to Service "+key.String()+where)
				continue
			}
			l.tlsTargets[key] = append(l.tlsTargets[key], tlsTarget{port: port, policy: p, tls: tls})
		}
		st.Conditions = []Condition{accepted, resolved}
	}
}

// upstreamTLS is the TLS a cluster for a Service port uses, if a policy
// gives it any.
func (l *lowerer) upstreamTLS(svc nsName, portName string) *ir.UpstreamTLS {
	for _, t := range l.tlsTargets[svc] {
		if t.port == "" || t.port == portName {
			return t.tls
		}
	}
	return nil
}
