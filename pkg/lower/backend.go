package lower

import (
	"net"
	"slices"
	"time"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

func (l *lowerer) lowerCertificates() {
	l.secrets = map[string]*certInfo{}
	for _, name := range keys(l.certificates) {
		c := l.certificates[name]
		s := c.Spec
		if !l.oneOf(c.Doc, []any{"spec"}, false, []string{"files", "ca", "sds"}, []bool{s.Files != nil, s.CA != nil, s.SDS != nil}) {
			continue
		}
		switch {
		case s.Files != nil:
			l.secrets[name] = &certInfo{kind: certKeyPair, secret: &ir.Secret{Name: name, Chain: s.Files.CertificateChain, Key: s.Files.PrivateKey}}
		case s.CA != nil:
			l.secrets[name] = &certInfo{kind: certCA, secret: &ir.Secret{Name: name, CA: s.CA.File}}
		default:
			l.secrets[name] = &certInfo{kind: certSDS, sdsName: s.SDS.Name}
		}
	}
}

// certRef resolves a reference to a certificate used as a key pair
// (wantCA false) or as a CA bundle (wantCA true).
func (l *lowerer) certRef(d *intent.Doc, name string, wantCA bool, path ...any) (*ir.CertRef, bool) {
	c, ok := l.certificates[name]
	if !ok {
		l.unknown(d.Pos(path...), "certificate", name, keys(l.certificates))
		return nil, false
	}
	l.usedCert[name] = true
	info := l.secrets[name]
	if info == nil {
		return nil, false // its own findings are reported already
	}
	want, got := "a key pair (files or sds)", "a CA bundle"
	if wantCA {
		want, got = "a CA bundle (ca or sds)", "a key pair"
	}
	if info.kind != certSDS && (info.kind == certCA) != wantCA {
		l.diags.Errorf(d.Pos(path...), "certificate-type", "%s: certificate %q is %s, but %s is needed here", intent.Path(path...), name, got, want).
			Note(c.Doc.Pos("spec"), "certificate %q is declared here", name)
		return nil, false
	}
	return &ir.CertRef{Name: name, SDS: info.kind == certSDS, SDSName: info.sdsName}, true
}

func (l *lowerer) lowerBackends() {
	l.clusters = map[string]*ir.Cluster{}
	for _, name := range keys(l.backends) {
		if c := l.backend(l.backends[name]); c != nil {
			l.clusters[name] = c
		}
	}
}

func (l *lowerer) backend(b *intent.Backend) *ir.Cluster {
	d, s := b.Doc, b.Spec
	before := len(l.diags)
	c := &ir.Cluster{
		Name:           d.Name,
		Discovery:      ir.Static,
		HTTP2:          s.Protocol == "HTTP2" || s.Protocol == "GRPC",
		ConnectTimeout: DefaultConnectTimeout,
		LB:             ir.RoundRobin,
	}
	if s.LoadBalancing != "" {
		c.LB = ir.LBPolicy(s.LoadBalancing)
	}
	if t := l.duration(d, s.ConnectTimeout, "spec", "connectTimeout"); t != nil {
		if *t <= 0 {
			l.diags.Errorf(d.Pos("spec", "connectTimeout"), "invalid-value", "spec.connectTimeout: must be greater than 0")
		}
		c.ConnectTimeout = *t
	}
	if !l.oneOf(d, []any{"spec"}, false, []string{"endpoints", "kubernetes"}, []bool{s.Endpoints != nil, s.Kubernetes != nil}) {
		return nil
	}
	if k := s.Kubernetes; k != nil {
		c.Discovery = ir.Kubernetes
		c.Service = &ir.Service{Namespace: k.Namespace, Name: k.Service, Port: k.Port.String()}
	} else if len(s.Endpoints) == 0 {
		l.diags.Errorf(d.KeyPos("spec", "endpoints"), "invalid-value", "spec.endpoints: a backend needs at least one endpoint")
	}
	for i, ep := range s.Endpoints {
		if !validHost(ep.Address) {
			l.diags.Errorf(d.Pos("spec", "endpoints", i, "address"), "invalid-value", "spec.endpoints[%d].address: %q is neither an IP address nor a DNS name", i, ep.Address)
			continue
		}
		if net.ParseIP(ep.Address) == nil {
			c.Discovery = ir.StrictDNS
		}
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: ep.Address, Port: uint32(ep.Port), Weight: uint32(ep.Weight)})
	}
	if t := s.TLS; t != nil {
		c.TLS = &ir.UpstreamTLS{SNI: t.SNI, SubjectAltNames: slices.Clone(t.SubjectAltNames), MinVersion: t.MinVersion, MaxVersion: t.MaxVersion}
		c.TLS.Origin = d.KeyPos("spec", "tls")
		if t.MinVersion != "" {
			c.TLS.Origin = d.Pos("spec", "tls", "minVersion")
		}
		c.TLS.CipherSuites = l.cipherSuites(d, []any{"spec", "tls", "cipherSuites"}, t.CipherSuites)
		if t.MaxVersion != "" && t.MinVersion != "" && t.MaxVersion < t.MinVersion {
			l.diags.Errorf(d.Pos("spec", "tls", "maxVersion"), "tls", "spec.tls: maxVersion %s is below minVersion %s", t.MaxVersion, t.MinVersion)
		}
		if t.CA != "" {
			c.TLS.CA, _ = l.certRef(d, t.CA, true, "spec", "tls", "ca")
		}
		if t.ClientCertificate != "" {
			c.TLS.ClientCertificate, _ = l.certRef(d, t.ClientCertificate, false, "spec", "tls", "clientCertificate")
		}
		if t.CA == "" && len(t.SubjectAltNames) > 0 {
			l.diags.Errorf(d.Pos("spec", "tls", "subjectAltNames"), "tls", "spec.tls.subjectAltNames: checking names needs a CA to verify the certificate against; set spec.tls.ca")
		}
	}
	if h := s.HealthCheck; h != nil {
		c.HealthCheck = l.healthCheck(d, h, c.HTTP2)
	}
	if cb := s.CircuitBreaker; cb != nil {
		c.CircuitBreaker = &ir.CircuitBreaker{MaxConnections: u32(cb.MaxConnections), MaxPendingRequests: u32(cb.MaxPendingRequests),
			MaxRequests: u32(cb.MaxRequests), MaxRetries: u32(cb.MaxRetries)}
	}
	if o := s.OutlierDetection; o != nil {
		c.Outlier = &ir.Outlier{Consecutive5xx: u32(o.Consecutive5xx), ConsecutiveGatewayErrors: u32(o.ConsecutiveGatewayErrors),
			Interval: l.duration(d, o.Interval, "spec", "outlierDetection", "interval"), BaseEjectionTime: l.duration(d, o.BaseEjectionTime, "spec", "outlierDetection", "baseEjectionTime"),
			MaxEjectionPercent: u32(o.MaxEjectionPercent)}
	}
	l.upstream(d, s, c)
	if len(l.diags) > before {
		return nil
	}
	return c
}

// Health check defaults, chosen to notice a dead endpoint within half a
// minute without flooding a healthy one.
const (
	defaultHCInterval  = 10 * time.Second
	defaultHCTimeout   = 2 * time.Second
	defaultHCHealthy   = 2
	defaultHCUnhealthy = 3
)

func (l *lowerer) healthCheck(d *intent.Doc, h *intent.HealthCheck, http2 bool) *ir.HealthCheck {
	path := []any{"spec", "healthCheck"}
	if !l.oneOf(d, path, false, []string{"http", "tcp", "grpc"}, []bool{h.HTTP != nil, h.TCP != nil, h.GRPC != nil}) {
		return nil
	}
	hc := &ir.HealthCheck{Interval: defaultHCInterval, Timeout: defaultHCTimeout, HealthyThreshold: defaultHCHealthy, UnhealthyThreshold: defaultHCUnhealthy}
	switch {
	case h.HTTP != nil:
		hc.Kind, hc.Path, hc.Host = ir.HealthHTTP, h.HTTP.Path, h.HTTP.Host
		for _, s := range h.HTTP.ExpectedStatuses {
			hc.ExpectedStatuses = append(hc.ExpectedStatuses, uint32(s))
		}
	case h.TCP != nil:
		hc.Kind = ir.HealthTCP
	default:
		hc.Kind, hc.Service = ir.HealthGRPC, h.GRPC.Service
		if !http2 {
			l.diags.Errorf(d.KeyPos("spec", "healthCheck", "grpc"), "health-check", "spec.healthCheck.grpc: gRPC health checks need protocol HTTP2 or GRPC on the backend")
		}
	}
	if v := l.duration(d, h.Interval, "spec", "healthCheck", "interval"); v != nil {
		hc.Interval = *v
	}
	if v := l.duration(d, h.Timeout, "spec", "healthCheck", "timeout"); v != nil {
		hc.Timeout = *v
	}
	for _, v := range []time.Duration{hc.Interval, hc.Timeout} {
		if v <= 0 {
			l.diags.Errorf(d.Pos(path...), "health-check", "spec.healthCheck: interval and timeout must be greater than 0")
			break
		}
	}
	if h.HealthyThreshold > 0 {
		hc.HealthyThreshold = uint32(h.HealthyThreshold)
	}
	if h.UnhealthyThreshold > 0 {
		hc.UnhealthyThreshold = uint32(h.UnhealthyThreshold)
	}
	return hc
}
