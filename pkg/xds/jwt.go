package xds

import (
	"math"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// jwksTimeout bounds a fetch of a remote key set whose provider sets no
// timeout (Envoy requires one).
const jwksTimeout = 5 * time.Second

// jwtRequirementName names the requirement a rule asks for in the filter's
// requirement_map: the providers, and whether a missing token passes. Rules
// asking the same share it.
func jwtRequirementName(r *ir.JWTRule) string {
	name := strings.Join(r.Providers, "|")
	if r.Optional {
		name += "|allow-missing"
	}
	return name
}

// jwtFilter is the jwt_authn filter of one connection manager: the
// providers its requirements name and one requirement per distinct rule.
// Routes pick theirs by name (PerRouteConfig.requirement_name).
func (t translator) jwtFilter(rules map[string]*ir.JWTRule) *jwtv3.JwtAuthentication {
	out := &jwtv3.JwtAuthentication{
		Providers:      map[string]*jwtv3.JwtProvider{},
		RequirementMap: map[string]*jwtv3.JwtRequirement{},
	}
	used := map[string]bool{}
	for name, r := range rules {
		out.RequirementMap[name] = jwtRequirement(r)
		for _, p := range r.Providers {
			used[p] = true
		}
	}
	for _, p := range t.g.JWTProviders {
		if used[p.Name] {
			out.Providers[p.Name] = jwtProvider(p)
		}
	}
	return out
}

// jwtRequirement: a token of one of the providers; with Optional, a
// request without any token passes too, but a token that is there and does
// not verify still fails (allow_missing, not allow_missing_or_failed).
func jwtRequirement(r *ir.JWTRule) *jwtv3.JwtRequirement {
	var any []*jwtv3.JwtRequirement
	for _, p := range r.Providers {
		any = append(any, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: p}})
	}
	if r.Optional {
		any = append(any, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}})
	}
	if len(any) == 1 {
		return any[0]
	}
	return &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: any}}}
}

func jwtPerRoute(r *ir.JWTRule) *jwtv3.PerRouteConfig {
	return &jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: jwtRequirementName(r)}}
}

func jwtProvider(p *ir.JWTProvider) *jwtv3.JwtProvider {
	out := &jwtv3.JwtProvider{
		Issuer:      p.Issuer,
		Audiences:   p.Audiences,
		Forward:     p.Forward,
		FromParams:  p.FromParams,
		FromCookies: p.FromCookies,
	}
	for _, h := range p.FromHeaders {
		out.FromHeaders = append(out.FromHeaders, &jwtv3.JwtHeader{Name: h.Name, ValuePrefix: h.Prefix})
	}
	for _, c := range p.ClaimHeaders {
		out.ClaimToHeaders = append(out.ClaimToHeaders, &jwtv3.JwtClaimToHeader{HeaderName: c.Header, ClaimName: c.Claim})
	}
	if p.ClockSkew != nil {
		out.ClockSkewSeconds = uint32(min(math.Ceil(p.ClockSkew.Seconds()), math.MaxUint32))
	}
	if rj := p.RemoteJWKS; rj != nil {
		timeout := jwksTimeout
		if rj.Timeout != nil {
			timeout = *rj.Timeout
		}
		out.JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{
			HttpUri: &corev3.HttpUri{
				Uri:              rj.URI,
				HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: rj.Cluster},
				Timeout:          dur(timeout),
			},
			CacheDuration: durp(rj.CacheDuration),
		}}
	} else {
		out.JwksSourceSpecifier = &jwtv3.JwtProvider_LocalJwks{LocalJwks: fileSource(p.LocalJWKSFile)}
	}
	return out
}
