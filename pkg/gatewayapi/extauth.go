package gatewayapi

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
)

// extAuth lowers a rule's ExternalAuth filter (experimental channel) onto
// an AuthService of the gateway, asked by Envoy's ext_authz filter, and a
// per-route rule enabling it. Failure is closed, as the spec asks: a
// request the service could not judge is refused.
func (l *lowerer) extAuth(ro *routeObj, ru *ruleObj, path []any, f *gwv1.HTTPExternalAuthFilter) {
	at := append(slices.Clone(path), "externalAuth")
	s := &ir.AuthService{Timeout: lower.DefaultAuthTimeout, Origin: ro.doc.origin(ru.index, 0)}
	switch f.ExternalAuthProtocol {
	case gwv1.HTTPRouteExternalAuthGRPCProtocol:
		s.GRPC = true
		if f.HTTPAuthConfig != nil {
			l.unsupported(ro, append(slices.Clone(at), "http"), "a GRPC external auth takes grpc settings, not http")
		}
		if g := f.GRPCAuthConfig; g != nil {
			s.RequestHeaders = lowerSet(g.AllowedRequestHeaders)
		}
	case gwv1.HTTPRouteExternalAuthHTTPProtocol:
		if f.GRPCAuthConfig != nil {
			l.unsupported(ro, append(slices.Clone(at), "grpc"), "an HTTP external auth takes http settings, not grpc")
		}
		if h := f.HTTPAuthConfig; h != nil {
			s.PathPrefix = h.Path
			if s.PathPrefix != "" && !strings.HasPrefix(s.PathPrefix, "/") {
				l.unsupported(ro, append(slices.Clone(at), "http", "path"), "path %q must start with /", h.Path)
			}
			s.RequestHeaders = lowerSet(h.AllowedRequestHeaders)
			s.UpstreamHeaders = lowerSet(h.AllowedResponseHeaders)
		}
	default:
		l.unsupported(ro, append(slices.Clone(at), "protocol"), "protocol %q is not one of GRPC, HTTP", f.ExternalAuthProtocol)
		return
	}
	if b := f.ForwardBody; b != nil && b.MaxSize > 0 {
		s.Body = &ir.AuthBody{MaxBytes: uint32(b.MaxSize)}
	}
	c := l.backend(ro, f.BackendRef, append(slices.Clone(at), "backendRef"), s.GRPC)
	if c == nil {
		return
	}
	s.Cluster = c.Name
	// One AuthService for each distinct configuration, named after its
	// cluster and a digest of the rest, so the name is stable and two
	// routes with the same settings share one ext_authz filter.
	key := strings.Join([]string{c.Name, boolString(s.GRPC), s.PathPrefix, strings.Join(s.RequestHeaders, ","), strings.Join(s.UpstreamHeaders, ","), bodyString(s.Body)}, "\x00")
	sum := sha256.Sum256([]byte(key))
	s.Name = c.Name + "-" + hex.EncodeToString(sum[:4])
	if prev := l.authServices[s.Name]; prev != nil {
		s = prev
	} else {
		l.authServices[s.Name] = s
	}
	sec := ru.security()
	sec.ExtAuth = &ir.ExtAuthRule{Service: s.Name,
		From: ir.Origin{Level: ir.LevelRoute, Name: ro.doc.Namespace + "/" + ro.doc.Name, Pos: ro.doc.origin(ru.index, 0), Team: ro.teamName}}
}

// security returns the rule's security rules, creating them.
func (ru *ruleObj) security() *ir.Security {
	if ru.action.Security == nil {
		ru.action.Security = &ir.Security{}
	}
	return ru.action.Security
}

func lowerSet(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return sortedSet(out)
}

func boolString(b bool) string { return ternary(b, "grpc", "http") }

func bodyString(b *ir.AuthBody) string {
	if b == nil {
		return ""
	}
	return strconv.FormatUint(uint64(b.MaxBytes), 10)
}
