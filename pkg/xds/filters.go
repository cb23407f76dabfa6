package xds

import (
	"maps"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// The HTTP filters of a connection manager, in the one order they run:
//
//	rbac (IP allow/deny) → cors → jwt_authn → basic_auth → ext_authz →
//	local_ratelimit → ratelimit → compressor (brotli, zstd, gzip) →
//	grpc_web → fault → router
//
// Cheap refusals by address come first; CORS answers preflights before
// anything asks them for credentials; authentication happens before
// authorization, and both before rate limits, so a flood of unauthenticated
// requests does not eat the quota of the authenticated ones. The HTTP
// features come after security, so nothing they do (an injected fault, a
// translated gRPC-Web call) reaches a request the security filters refuse.
// Responses pass the filters in reverse: the router's answer, or a fault's
// abort, is encoded for gRPC-Web before the compressor sees the final body.
//
// Every security filter is in the chain disabled (HttpFilter.disabled), and
// only when some virtual host or route of the connection manager's route
// configuration uses it. A virtual host or route that uses it enables it
// with the filter's own per-route configuration in typed_per_filter_config
// (a filter disabled by default runs where a per-route configuration is
// given for it); a route that switches off what its virtual host set gets a
// route.v3.FilterConfig with disabled. Envoy takes the most specific entry,
// route over virtual host, filter by filter: exactly the inheritance
// ir.Security describes, and a route whose effective rule is nil or
// disabled never meets the filter. (The per-route configuration goes in
// bare, not wrapped in a FilterConfig: Envoy reads both the same, and one
// Any fewer per entry keeps large route tables cheap to encode.)
const (
	filterRBAC           = "envoy.filters.http.rbac"
	filterCORS           = "envoy.filters.http.cors"
	filterJWT            = "envoy.filters.http.jwt_authn"
	filterBasicAuth      = "envoy.filters.http.basic_auth"
	filterExtAuthz       = "envoy.filters.http.ext_authz"
	filterLocalRateLimit = "envoy.filters.http.local_ratelimit"
	filterRateLimit      = "envoy.filters.http.ratelimit"
)

// extAuthzFilter is the filter asking one AuthService: one instance per
// service, since the service is in the filter's configuration, not the
// route's.
func extAuthzFilter(service string) string { return filterExtAuthz + "/" + service }

// rateLimitFilter is the filter counting at one RateLimitService.
func rateLimitFilter(service string) string { return filterRateLimit + "/" + service }

// filterUse is what the rules of one route table need of its connection
// manager.
type filterUse struct {
	ip, cors, basicAuth, localRateLimit bool
	jwt                                 map[string]*ir.JWTRule // by requirement name
	extAuth                             map[string]bool        // AuthService names
	rateLimit                           map[string]bool        // RateLimitService names
}

func (u *filterUse) add(s *ir.Security) {
	if s == nil {
		return
	}
	if r := s.IP; r != nil && !r.Disabled {
		u.ip = true
	}
	if r := s.CORS; r != nil && !r.Disabled {
		u.cors = true
	}
	if r := s.BasicAuth; r != nil && !r.Disabled {
		u.basicAuth = true
	}
	if r := s.LocalRateLimit; r != nil && !r.Disabled {
		u.localRateLimit = true
	}
	if r := s.JWT; r != nil && !r.Disabled {
		if u.jwt == nil {
			u.jwt = map[string]*ir.JWTRule{}
		}
		u.jwt[jwtRequirementName(r)] = r
	}
	if r := s.ExtAuth; r != nil && !r.Disabled {
		if u.extAuth == nil {
			u.extAuth = map[string]bool{}
		}
		u.extAuth[r.Service] = true
	}
	if r := s.RateLimit; r != nil && !r.Disabled {
		if u.rateLimit == nil {
			u.rateLimit = map[string]bool{}
		}
		u.rateLimit[r.Service] = true
	}
}

func usedFilters(t *ir.RouteTable) *filterUse {
	u := &filterUse{}
	for _, vh := range t.VirtualHosts {
		u.add(vh.Security)
		for _, r := range vh.Routes {
			u.add(r.Security)
		}
	}
	return u
}

// disabledFilter is an HTTP filter in the chain, switched off until a
// virtual host or route enables it through typed_per_filter_config.
func disabledFilter(name string, config proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       name,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: toAny(config)},
		Disabled:   true,
	}
}

// httpFilters is the filter chain of the connection manager serving t.
func (t translator) httpFilters(table *ir.RouteTable) []*hcmv3.HttpFilter {
	u := usedFilters(table)
	var out []*hcmv3.HttpFilter
	add := func(name string, config proto.Message) { out = append(out, disabledFilter(name, config)) }
	if u.ip {
		add(filterRBAC, rbacFilter())
	}
	if u.cors {
		add(filterCORS, corsFilter())
	}
	if len(u.jwt) > 0 {
		add(filterJWT, t.jwtFilter(u.jwt))
	}
	if u.basicAuth {
		add(filterBasicAuth, basicAuthFilter())
	}
	for _, s := range t.g.AuthServices { // sorted by name
		if u.extAuth[s.Name] {
			add(extAuthzFilter(s.Name), extAuthz(s))
		}
	}
	if u.localRateLimit {
		add(filterLocalRateLimit, localRateLimitFilter())
	}
	for _, s := range t.g.RateLimitServices { // sorted by name
		if u.rateLimit[s.Name] {
			add(rateLimitFilter(s.Name), rateLimitFilterConfig(s))
		}
	}
	out = append(out, httpFeatureFilters(table)...)
	return append(out, &hcmv3.HttpFilter{
		Name:       wellknown.Router,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: toAny(&routerv3.Router{})},
	})
}

// enabled is the typed_per_filter_config entry that switches a filter on
// for a virtual host or route: its per-route configuration.
func enabled(config proto.Message) *anypb.Any { return toAny(config) }

// disabledAny switches a filter off for a route. Every such entry is the
// same, so it is packed once.
var disabledAny = toAny(&routev3.FilterConfig{Disabled: true})

func disabled() *anypb.Any { return proto.Clone(disabledAny).(*anypb.Any) }

// vhostFilterConfigs enables, for a virtual host, the filters of its
// effective rules.
func vhostFilterConfigs(vh *ir.VirtualHost) map[string]*anypb.Any {
	s := vh.Security
	if s.Empty() {
		return nil
	}
	out := map[string]*anypb.Any{}
	if r := s.IP; on(r, ipOff) {
		out[filterRBAC] = enabled(rbacPerRoute(r))
	}
	if r := s.CORS; on(r, corsOff) {
		out[filterCORS] = enabled(corsPolicy(r))
	}
	if r := s.JWT; on(r, jwtOff) {
		out[filterJWT] = enabled(jwtPerRoute(r))
	}
	if r := s.BasicAuth; on(r, basicOff) {
		out[filterBasicAuth] = enabled(basicAuthPerRoute(r))
	}
	if r := s.ExtAuth; on(r, extOff) {
		out[extAuthzFilter(r.Service)] = enabled(extAuthzPerRoute(r))
	}
	if r := s.LocalRateLimit; on(r, localOff) {
		out[filterLocalRateLimit] = enabled(localRateLimitPerRoute(r))
	}
	if r := s.RateLimit; on(r, rateOff) {
		out[rateLimitFilter(r.Service)] = enabled(rateLimitPerRoute(rateLimitSpecs(vh, nil, r)))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// routeFilterConfigs holds what a route sets itself: a rule of its own
// enables its filter, a disabled one switches off the virtual host's. Where
// a family has one filter per service, a route that changes the service
// also switches off the virtual host's. A route that sets nothing inherits
// the virtual host's entries.
func routeFilterConfigs(vh *ir.VirtualHost, r *ir.Route) map[string]*anypb.Any {
	own := r.Security
	if own.Empty() && (vh.Security == nil || vh.Security.RateLimit == nil || r.Team == vh.Team) {
		return nil // the common case, kept free of allocations
	}
	var base ir.Security
	if vh.Security != nil {
		base = *vh.Security
	}
	out := map[string]*anypb.Any{}
	set := func(name string, inherited, wanted bool, config func() proto.Message) {
		switch {
		case wanted:
			out[name] = enabled(config())
		case inherited:
			out[name] = disabled()
		}
	}
	if own != nil {
		if r2 := own.IP; r2 != nil {
			set(filterRBAC, on(base.IP, ipOff), on(r2, ipOff), func() proto.Message { return rbacPerRoute(r2) })
		}
		if r2 := own.CORS; r2 != nil {
			set(filterCORS, on(base.CORS, corsOff), on(r2, corsOff), func() proto.Message { return corsPolicy(r2) })
		}
		if r2 := own.JWT; r2 != nil {
			set(filterJWT, on(base.JWT, jwtOff), on(r2, jwtOff), func() proto.Message { return jwtPerRoute(r2) })
		}
		if r2 := own.BasicAuth; r2 != nil {
			set(filterBasicAuth, on(base.BasicAuth, basicOff), on(r2, basicOff), func() proto.Message { return basicAuthPerRoute(r2) })
		}
		if r2 := own.ExtAuth; r2 != nil {
			if b := base.ExtAuth; on(b, extOff) && (r2.Disabled || b.Service != r2.Service) {
				out[extAuthzFilter(b.Service)] = disabled()
			}
			if on(r2, extOff) {
				out[extAuthzFilter(r2.Service)] = enabled(extAuthzPerRoute(r2))
			}
		}
		if r2 := own.LocalRateLimit; r2 != nil {
			set(filterLocalRateLimit, on(base.LocalRateLimit, localOff), on(r2, localOff), func() proto.Message { return localRateLimitPerRoute(r2) })
		}
		if r2 := own.RateLimit; r2 != nil {
			if b := base.RateLimit; on(b, rateOff) && (r2.Disabled || b.Service != r2.Service) {
				out[rateLimitFilter(b.Service)] = disabled()
			}
		}
	}
	// A global limit counted by team counts the route's team: a route
	// inheriting such a rule from a virtual host of another team needs an
	// entry of its own (routeRateLimit).
	if rule := routeRateLimit(vh, r); rule != nil {
		out[rateLimitFilter(rule.Service)] = enabled(rateLimitPerRoute(rateLimitSpecs(vh, r, rule)))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// on reports whether a rule is set and not disabled.
func on[T any](r *T, off func(*T) bool) bool { return r != nil && !off(r) }

func ipOff(r *ir.IPRule) bool                { return r.Disabled }
func corsOff(r *ir.CORSRule) bool            { return r.Disabled }
func jwtOff(r *ir.JWTRule) bool              { return r.Disabled }
func basicOff(r *ir.BasicAuthRule) bool      { return r.Disabled }
func extOff(r *ir.ExtAuthRule) bool          { return r.Disabled }
func localOff(r *ir.LocalRateLimitRule) bool { return r.Disabled }
func rateOff(r *ir.RateLimitRule) bool       { return r.Disabled }
func countsByTeam(r *ir.RateLimitRule) bool {
	for _, l := range r.Limits {
		if slices.ContainsFunc(l.By, func(k ir.RateKey) bool { return k.Kind == ir.KeyTeam }) {
			return true
		}
	}
	return false
}

// hoistFilterConfigs moves the entry most virtual hosts of a route
// configuration share for a filter up to the route configuration, the
// least specific level, and switches the filter off where a virtual host
// had no entry for it. Envoy then finds for every route what it found
// before, and a gateway's defaults, which every virtual host inherits, are
// written once instead of once per virtual host.
func hoistFilterConfigs(rc *routev3.RouteConfiguration) {
	type count struct {
		n     int
		entry *anypb.Any
	}
	counts := map[string]map[string]*count{} // filter → entry bytes → count
	for _, vh := range rc.VirtualHosts {
		for name, a := range vh.TypedPerFilterConfig {
			if counts[name] == nil {
				counts[name] = map[string]*count{}
			}
			key := a.TypeUrl + "\x00" + string(a.Value)
			c := counts[name][key]
			if c == nil {
				c = &count{entry: a}
				counts[name][key] = c
			}
			c.n++
		}
	}
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		var best string
		for _, key := range slices.Sorted(maps.Keys(counts[name])) {
			if best == "" || counts[name][key].n > counts[name][best].n {
				best = key
			}
		}
		without := 0
		for _, vh := range rc.VirtualHosts {
			if _, ok := vh.TypedPerFilterConfig[name]; !ok {
				without++
			}
		}
		// Worth it when it removes more entries than it adds.
		if counts[name][best].n-1 <= without {
			continue
		}
		if rc.TypedPerFilterConfig == nil {
			rc.TypedPerFilterConfig = map[string]*anypb.Any{}
		}
		rc.TypedPerFilterConfig[name] = counts[name][best].entry
		for _, vh := range rc.VirtualHosts {
			a, ok := vh.TypedPerFilterConfig[name]
			switch {
			case !ok:
				if vh.TypedPerFilterConfig == nil {
					vh.TypedPerFilterConfig = map[string]*anypb.Any{}
				}
				vh.TypedPerFilterConfig[name] = disabled()
			case a.TypeUrl+"\x00"+string(a.Value) == best:
				delete(vh.TypedPerFilterConfig, name)
			}
		}
	}
	for _, vh := range rc.VirtualHosts {
		if len(vh.TypedPerFilterConfig) == 0 {
			vh.TypedPerFilterConfig = nil
		}
	}
}
