package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// localRateLimitStats is the stat prefix of the local rate limit filter.
const localRateLimitStats = "local_rate_limit"

// maxDynamicDescriptors bounds how many distinct clients or header values
// a local rate limit keeps a bucket for (Envoy's default, 20, is far too
// few for per-client limits at an edge); the least recently seen go first.
const maxDynamicDescriptors = 10000

// localRateLimitFilter is the local_ratelimit filter without a bucket:
// each virtual host or route brings its own in the per-route
// configuration, so the bucket is that virtual host's or route's.
func localRateLimitFilter() *localratelimitv3.LocalRateLimit {
	return &localratelimitv3.LocalRateLimit{StatPrefix: localRateLimitStats}
}

func allOf() *corev3.RuntimeFractionalPercent {
	return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
}

// localRateLimitPerRoute is a token bucket of Requests tokens, all of them
// refilled every Per. Counted by a key, each value of the key gets a
// bucket of its own (a descriptor whose value is left out is a wildcard);
// a request without the key (a header it does not send) falls to the
// shared default bucket of the same size.
func localRateLimitPerRoute(r *ir.LocalRateLimitRule) *localratelimitv3.LocalRateLimit {
	bucket := func() *typev3.TokenBucket {
		return &typev3.TokenBucket{MaxTokens: r.Requests, TokensPerFill: wrapperspb.UInt32(r.Requests), FillInterval: dur(r.Per)}
	}
	out := &localratelimitv3.LocalRateLimit{
		StatPrefix:     localRateLimitStats,
		TokenBucket:    bucket(),
		FilterEnabled:  allOf(),
		FilterEnforced: allOf(),
	}
	if r.Status != 0 {
		out.Status = &typev3.HttpStatus{Code: typev3.StatusCode(r.Status)}
	}
	if r.Headers {
		out.EnableXRatelimitHeaders = commonratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03
	}
	if k := r.By; k != nil {
		action, key := rateKeyAction(*k, "")
		out.RateLimits = []*routev3.RateLimit{{Actions: []*routev3.RateLimit_Action{action}}}
		out.Descriptors = []*commonratelimitv3.LocalRateLimitDescriptor{{
			Entries:     []*commonratelimitv3.RateLimitDescriptor_Entry{{Key: key, Value: fixedValue(*k, "")}},
			TokenBucket: bucket(),
		}}
		out.AlwaysConsumeDefaultTokenBucket = wrapperspb.Bool(false)
		out.MaxDynamicDescriptors = wrapperspb.UInt32(maxDynamicDescriptors)
	}
	return out
}

// Descriptor keys of the actions edgectl generates.
const (
	limitKey   = "edgectl_limit"
	clientKey  = "remote_address" // what Envoy's remote_address action calls it
	pathKey    = "path"
	genericKey = "generic"
	teamKey    = "team"
)

func headerKey(name string) string { return "header:" + strings.ToLower(name) }

// rateKeyAction is the action generating a descriptor entry for k, and
// that entry's key. The client is the address Envoy computes after the
// gateway's trusted hops (see rbacPerRoute); the path is :path as Envoy
// has it, query included.
func rateKeyAction(k ir.RateKey, team string) (*routev3.RateLimit_Action, string) {
	switch k.Kind {
	case ir.KeyClient:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}, clientKey
	case ir.KeyHeader:
		key := headerKey(k.Header)
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
			HeaderName: k.Header, DescriptorKey: key}}}, key
	case ir.KeyPath:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
			HeaderName: ":path", DescriptorKey: pathKey}}}, pathKey
	case ir.KeyTeam:
		return genericAction(teamKey, team), teamKey
	default:
		return genericAction(genericKey, k.Value), genericKey
	}
}

// fixedValue is the value a descriptor entry of k always has, or "" when
// it depends on the request.
func fixedValue(k ir.RateKey, team string) string {
	switch k.Kind {
	case ir.KeyTeam:
		return team
	case ir.KeyGeneric:
		return k.Value
	}
	return ""
}

func genericAction(key, value string) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{
		DescriptorKey: key, DescriptorValue: value}}}
}

// rateLimitFilterConfig is the ratelimit filter asking one service. It
// fails closed unless the service says otherwise.
func rateLimitFilterConfig(s *ir.RateLimitService) *ratelimitv3.RateLimit {
	return &ratelimitv3.RateLimit{
		Domain:          rateLimitDomain(s),
		StatPrefix:      s.Name,
		Timeout:         durp(s.Timeout),
		FailureModeDeny: !s.FailOpen,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: s.Cluster}}},
			TransportApiVersion: corev3.ApiVersion_V3,
		},
	}
}

// rateLimitDomain is the domain the service counts the gateway's requests
// in: the one given, else the service's name (Envoy needs one).
func rateLimitDomain(s *ir.RateLimitService) string {
	if s.Domain != "" {
		return s.Domain
	}
	return s.Name
}

// limitSpec is one global limit as a virtual host or route applies it: the
// id that makes its descriptors its own, the limit, and the team a team key
// counts by.
type limitSpec struct {
	id    string
	limit ir.RateLimit
	team  string
}

// rateLimitSpecs are the limits of rule, applied to a virtual host (r nil)
// or a route. Each limit's descriptors start with an entry naming it, so
// limits of different rules never count together, and the rate-limit
// service's configuration has one entry per limit. The id is the scope
// the rule was set on: a virtual host's rule (its own or the gateway's
// default) counts every request to the virtual host, an include's every
// request to its routes, a route's only that route's.
func rateLimitSpecs(vh *ir.VirtualHost, r *ir.Route, rule *ir.RateLimitRule) []limitSpec {
	scope := "virtualHost:" + vh.Name
	team := vh.Team
	if r != nil {
		team = r.Team
		switch rule.From.Level {
		case ir.LevelInclude:
			scope = "include:" + vh.Name + "/" + rule.From.Name
		case ir.LevelRoute, "":
			scope = "route:" + vh.Name + "/" + r.Name
		}
	}
	out := make([]limitSpec, len(rule.Limits))
	for i, l := range rule.Limits {
		id := scope + "/" + strconv.Itoa(i)
		if strings.HasSuffix(scope, "/") { // a route without a name
			id = scope + contentID(l) + "/" + strconv.Itoa(i)
		}
		out[i] = limitSpec{id: id, limit: l, team: team}
	}
	return out
}

func contentID(l ir.RateLimit) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%+v", l))
	return hex.EncodeToString(h[:6])
}

func rateLimitPerRoute(specs []limitSpec) *ratelimitv3.RateLimitPerRoute {
	out := &ratelimitv3.RateLimitPerRoute{}
	for _, s := range specs {
		out.RateLimits = append(out.RateLimits, &routev3.RateLimit{Actions: limitActions(s)})
	}
	return out
}

func limitActions(s limitSpec) []*routev3.RateLimit_Action {
	actions := []*routev3.RateLimit_Action{genericAction(limitKey, s.id)}
	for _, k := range s.limit.By {
		a, _ := rateKeyAction(k, s.team)
		actions = append(actions, a)
	}
	return actions
}
