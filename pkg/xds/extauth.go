package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/edgectl/edgectl/pkg/ir"
)

// extAuthz is the ext_authz filter asking one AuthService. Failure is
// closed unless the service says otherwise: a request the service could
// not judge is refused.
func extAuthz(s *ir.AuthService) *extauthzv3.ExtAuthz {
	out := &extauthzv3.ExtAuthz{
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    s.FailOpen,
		StatPrefix:          s.Name,
		AllowedHeaders:      exactHeaders(s.RequestHeaders),
	}
	if b := s.Body; b != nil {
		out.WithRequestBody = &extauthzv3.BufferSettings{MaxRequestBytes: b.MaxBytes, AllowPartialMessage: b.AllowPartial}
	}
	if s.GRPC {
		out.Services = &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: s.Cluster}},
			Timeout:         dur(s.Timeout),
		}}
		return out
	}
	hs := &extauthzv3.HttpService{
		// The URI's host is only what the check request carries as its
		// authority; the cluster decides where it goes. The service's name
		// is a host name, which a cluster's name need not be.
		ServerUri: &corev3.HttpUri{
			Uri:              "http://" + s.Name,
			HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: s.Cluster},
			Timeout:          dur(s.Timeout),
		},
		PathPrefix: s.PathPrefix,
	}
	if len(s.UpstreamHeaders) > 0 || len(s.ClientHeaders) > 0 {
		hs.AuthorizationResponse = &extauthzv3.AuthorizationResponse{
			AllowedUpstreamHeaders: exactHeaders(s.UpstreamHeaders),
			AllowedClientHeaders:   exactHeaders(s.ClientHeaders),
		}
	}
	out.Services = &extauthzv3.ExtAuthz_HttpService{HttpService: hs}
	return out
}

// exactHeaders matches header names exactly, case aside (Envoy compares
// header names lowercased).
func exactHeaders(names []string) *matcherv3.ListStringMatcher {
	if len(names) == 0 {
		return nil
	}
	out := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		out.Patterns = append(out.Patterns, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}, IgnoreCase: true})
	}
	return out
}

// extAuthzPerRoute enables the check for a virtual host or route, with the
// context extensions the rule sends the service.
func extAuthzPerRoute(r *ir.ExtAuthRule) *extauthzv3.ExtAuthzPerRoute {
	cs := &extauthzv3.CheckSettings{}
	if len(r.Context) > 0 {
		cs.ContextExtensions = map[string]string{}
		for _, h := range r.Context {
			cs.ContextExtensions[h.Name] = h.Value
		}
	}
	return &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: cs}}
}

// basicAuthFilter is the basic_auth filter; the users file of each virtual
// host or route is in its per-route configuration, so one filter serves
// any number of files.
func basicAuthFilter() *basicauthv3.BasicAuth { return &basicauthv3.BasicAuth{} }

func basicAuthPerRoute(r *ir.BasicAuthRule) *basicauthv3.BasicAuthPerRoute {
	return &basicauthv3.BasicAuthPerRoute{Users: fileSource(r.UsersFile)}
}
