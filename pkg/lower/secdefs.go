package lower

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// DefaultAuthTimeout is how long Envoy waits for an authorization service
// that sets no timeout: Envoy's own default for ext_authz over gRPC.
const DefaultAuthTimeout = 200 * time.Millisecond

// The shared security definitions: AuthProviders, AuthServices and
// RateLimitServices. Each is declared once for the repository and may be
// named by the security blocks of any gateway; it lands in a gateway's IR,
// with the cluster of its backend, only when that gateway uses it (see
// finish).

func (l *lowerer) lowerSecurityDefs() {
	l.jwtProviders = map[string]*ir.JWTProvider{}
	for _, name := range keys(l.authProviders) {
		if p := l.authProvider(l.authProviders[name]); p != nil {
			l.jwtProviders[name] = p
		}
	}
	l.authSvcs = map[string]*ir.AuthService{}
	for _, name := range keys(l.authServices) {
		if s := l.authService(l.authServices[name]); s != nil {
			l.authSvcs[name] = s
		}
	}
	l.rlSvcs = map[string]*ir.RateLimitService{}
	for _, name := range keys(l.rateLimitServices) {
		if s := l.rateLimitService(l.rateLimitServices[name]); s != nil {
			l.rlSvcs[name] = s
		}
	}
}

func (l *lowerer) authProvider(ap *intent.AuthProvider) *ir.JWTProvider {
	d, s := ap.Doc, ap.Spec
	before := len(l.diags)
	p := &ir.JWTProvider{Name: d.Name, Issuer: s.Issuer, Audiences: sortedSet(s.Audiences), Forward: s.Forward,
		FromParams: slices.Clone(s.QueryParams), FromCookies: slices.Clone(s.Cookies), Origin: d.Pos("metadata", "name")}
	if l.oneOf(d, []any{"spec", "jwks"}, false, []string{"remote", "file"}, []bool{s.JWKS.Remote != nil, s.JWKS.File != ""}) {
		if r := s.JWKS.Remote; r != nil {
			at := []any{"spec", "jwks", "remote"}
			p.RemoteJWKS = &ir.RemoteJWKS{URI: r.URI, Cluster: r.Backend,
				Timeout:       l.positive(d, r.Timeout, append(slices.Clone(at), "timeout")...),
				CacheDuration: l.positive(d, r.CacheDuration, append(slices.Clone(at), "cacheDuration")...)}
			u, err := url.Parse(r.URI)
			switch {
			case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
				l.diags.Errorf(d.Pos(append(slices.Clone(at), "uri")...), "invalid-value", "spec.jwks.remote.uri: %q is not an http or https URL", r.URI)
			case l.backendRef(d, r.Backend, append(slices.Clone(at), "backend")...):
				if c := l.clusters[r.Backend]; c != nil && u.Scheme == "https" && c.TLS == nil {
					l.diags.Errorf(d.Pos(append(slices.Clone(at), "uri")...), "tls", "spec.jwks.remote.uri: %q is https, but backend %q has no spec.tls, so Envoy would fetch the keys in plain text", r.URI, r.Backend).
						Note(l.backends[r.Backend].Doc.Pos("spec"), "backend %q is declared here", r.Backend)
				}
			}
		} else {
			p.LocalJWKSFile = s.JWKS.File
		}
	}
	for _, h := range s.Headers {
		p.FromHeaders = append(p.FromHeaders, ir.TokenHeader{Name: strings.ToLower(h.Name), Prefix: h.Prefix})
	}
	seen := map[string]int{}
	for i, c := range s.ClaimsToHeaders {
		h := strings.ToLower(c.Header)
		if j, dup := seen[h]; dup {
			l.diags.Errorf(d.Pos("spec", "claimsToHeaders", i, "header"), "invalid-value", "spec.claimsToHeaders[%d].header: header %q is already set from a claim", i, c.Header).
				Note(d.Pos("spec", "claimsToHeaders", j, "header"), "first set here")
			continue
		}
		seen[h] = i
		p.ClaimHeaders = append(p.ClaimHeaders, ir.ClaimHeader{Claim: c.Claim, Header: h})
	}
	p.ClockSkew = l.duration(d, s.ClockSkew, "spec", "clockSkew")
	if len(l.diags) > before && l.diags[before:].HasErrors() {
		return nil
	}
	return p
}

func (l *lowerer) authService(as *intent.AuthService) *ir.AuthService {
	d, s := as.Doc, as.Spec
	before := len(l.diags)
	a := &ir.AuthService{Name: d.Name, Timeout: DefaultAuthTimeout, FailOpen: s.FailOpen, Origin: d.Pos("metadata", "name")}
	if l.oneOf(d, []any{"spec"}, false, []string{"http", "grpc"}, []bool{s.HTTP != nil, s.GRPC != nil}) {
		if s.HTTP != nil {
			a.Cluster, a.PathPrefix = s.HTTP.Backend, s.HTTP.PathPrefix
			l.backendRef(d, a.Cluster, "spec", "http", "backend")
		} else {
			a.Cluster, a.GRPC = s.GRPC.Backend, true
			l.grpcBackend(d, a.Cluster, "spec", "grpc", "backend")
		}
	}
	if t := l.positive(d, s.Timeout, "spec", "timeout"); t != nil {
		a.Timeout = *t
	}
	if h := s.Headers; h != nil {
		a.RequestHeaders, a.UpstreamHeaders, a.ClientHeaders = lowerNames(h.ToService), lowerNames(h.ToBackend), lowerNames(h.ToClient)
		if a.GRPC && len(h.ToService) > 0 {
			l.diags.Errorf(d.KeyPos("spec", "headers", "toService"), "invalid-value", "spec.headers.toService: a gRPC authorization service receives every request header; toService applies to http services")
		}
	}
	if b := s.Body; b != nil {
		a.Body = &ir.AuthBody{MaxBytes: uint32(b.MaxBytes), AllowPartial: b.AllowPartial}
	}
	if s.FailOpen {
		l.diags.Warnf(d.Pos("spec", "failOpen"), "auth-fail-open", "authorization service %q fails open: when it cannot be reached, every request it guards is let through unchecked", d.Name)
	}
	if len(l.diags) > before && l.diags[before:].HasErrors() {
		return nil
	}
	return a
}

func (l *lowerer) rateLimitService(rs *intent.RateLimitService) *ir.RateLimitService {
	d, s := rs.Doc, rs.Spec
	before := len(l.diags)
	r := &ir.RateLimitService{Name: d.Name, Cluster: s.Backend, Domain: s.Domain, FailOpen: s.FailOpen, Origin: d.Pos("metadata", "name"),
		Timeout: l.positive(d, s.Timeout, "spec", "timeout")}
	l.grpcBackend(d, s.Backend, "spec", "backend")
	if len(l.diags) > before && l.diags[before:].HasErrors() {
		return nil
	}
	return r
}

// grpcBackend resolves the backend of a gRPC service, which must speak
// HTTP/2.
func (l *lowerer) grpcBackend(d *intent.Doc, name string, path ...any) {
	if !l.backendRef(d, name, path...) {
		return
	}
	if c := l.clusters[name]; c != nil && !c.HTTP2 {
		l.diags.Errorf(d.Pos(path...), "service-protocol", "%s: %s speaks gRPC, so its backend must speak HTTP/2, but backend %q has protocol %s; set its protocol to GRPC",
			intent.Path(path...), d.ID(), name, protocolOf(l.backends[name])).
			Note(l.backends[name].Doc.Pos("spec"), "backend %q is declared here", name)
	}
}

func protocolOf(b *intent.Backend) string {
	if b.Spec.Protocol == "" {
		return "HTTP1 (the default)"
	}
	return b.Spec.Protocol
}

// positive parses a duration that must be greater than zero.
func (l *lowerer) positive(d *intent.Doc, s string, path ...any) *time.Duration {
	v := l.duration(d, s, path...)
	if v != nil && *v <= 0 {
		l.diags.Errorf(d.Pos(path...), "invalid-value", "%s: must be greater than 0", intent.Path(path...))
		return nil
	}
	return v
}

func lowerNames(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, strings.ToLower(s))
	}
	return sortedSet(out)
}

func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(in)))
}

// useSecurityDefs puts into a gateway's IR the providers and services its
// security rules name, and marks the clusters of their backends used.
func (l *lowerer) useSecurityDefs(g *ir.Gateway, clusters map[string]bool) {
	providers, authz, limits := map[string]bool{}, map[string]bool{}, map[string]bool{}
	use := func(s *ir.Security) {
		if s == nil {
			return
		}
		if r := s.JWT; r != nil {
			for _, p := range r.Providers {
				providers[p] = true
			}
		}
		if r := s.ExtAuth; r != nil && r.Service != "" {
			authz[r.Service] = true
		}
		if r := s.RateLimit; r != nil && r.Service != "" {
			limits[r.Service] = true
		}
	}
	seen := map[*ir.VirtualHost]bool{}
	visit := func(vhs []*ir.VirtualHost) {
		for _, vh := range vhs {
			if seen[vh] {
				continue
			}
			seen[vh] = true
			use(vh.Security)
			for _, r := range vh.Routes {
				use(r.Security)
			}
		}
	}
	for _, li := range g.Listeners {
		if li.Routes != nil {
			visit(li.Routes.VirtualHosts)
		}
		for _, c := range li.Chains {
			if c.Routes != nil {
				visit(c.Routes.VirtualHosts)
			}
		}
	}
	for _, name := range keys(providers) {
		if p := l.jwtProviders[name]; p != nil {
			g.JWTProviders = append(g.JWTProviders, p)
			if p.RemoteJWKS != nil {
				clusters[p.RemoteJWKS.Cluster] = true
			}
		}
	}
	for _, name := range keys(authz) {
		if a := l.authSvcs[name]; a != nil {
			g.AuthServices = append(g.AuthServices, a)
			clusters[a.Cluster] = true
		}
	}
	for _, name := range keys(limits) {
		if r := l.rlSvcs[name]; r != nil {
			g.RateLimitServices = append(g.RateLimitServices, r)
			clusters[r.Cluster] = true
		}
	}
}
