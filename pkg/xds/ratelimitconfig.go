package xds

import (
	"slices"
	"strings"

	rlsconfv3 "github.com/envoyproxy/go-control-plane/ratelimit/config/ratelimit/v3"

	"github.com/edgectl/edgectl/pkg/ir"
)

// RateLimitConfigs are the configurations of the rate-limit services the
// gateway's rules use, in the form of Envoy's reference ratelimit service
// (one per service, Name the service's, sorted by it): for every limit a
// virtual host or route applies, the descriptors its actions generate and
// the limit at their end. They are built from the same rules as the
// filters' actions, so the two cannot drift apart.
func RateLimitConfigs(g *ir.Gateway) []*rlsconfv3.RateLimitConfig {
	specs := map[string][]limitSpec{}
	seen := map[*ir.RouteTable]bool{}
	for _, t := range routeTables(g) {
		if seen[t] {
			continue
		}
		seen[t] = true
		for _, vh := range t.VirtualHosts {
			if s := vh.Security; s != nil && on(s.RateLimit, rateOff) {
				specs[s.RateLimit.Service] = append(specs[s.RateLimit.Service], rateLimitSpecs(vh, nil, s.RateLimit)...)
			}
			for _, r := range vh.Routes {
				if rule := routeRateLimit(vh, r); rule != nil {
					specs[rule.Service] = append(specs[rule.Service], rateLimitSpecs(vh, r, rule)...)
				}
			}
		}
	}
	var out []*rlsconfv3.RateLimitConfig
	for _, s := range g.RateLimitServices {
		if len(specs[s.Name]) == 0 {
			continue
		}
		c := &rlsconfv3.RateLimitConfig{Name: s.Name, Domain: rateLimitDomain(s)}
		for _, sp := range specs[s.Name] {
			c.Descriptors = insertLimit(c.Descriptors, sp)
		}
		sortDescriptors(c.Descriptors)
		out = append(out, c)
	}
	return out
}

// routeRateLimit is the rule a route has an entry of its own for (see
// routeFilterConfigs), or nil.
func routeRateLimit(vh *ir.VirtualHost, r *ir.Route) *ir.RateLimitRule {
	if s := r.Security; s != nil && s.RateLimit != nil {
		if on(s.RateLimit, rateOff) {
			return s.RateLimit
		}
		return nil
	}
	if vh.Security == nil {
		return nil
	}
	if b := vh.Security.RateLimit; on(b, rateOff) && r.Team != vh.Team && countsByTeam(b) {
		return b
	}
	return nil
}

func routeTables(g *ir.Gateway) []*ir.RouteTable {
	var out []*ir.RouteTable
	for _, l := range g.Listeners {
		if l.Routes != nil {
			out = append(out, l.Routes)
		}
		for _, fc := range l.Chains {
			if fc.Routes != nil {
				out = append(out, fc.Routes)
			}
		}
	}
	return out
}

// insertLimit adds the descriptor path of one limit: its id, then one
// level per key (no value where the request decides it, so each value
// counts on its own), the limit on the last.
func insertLimit(ds []*rlsconfv3.RateLimitDescriptor, s limitSpec) []*rlsconfv3.RateLimitDescriptor {
	type entry struct{ key, value string }
	path := []entry{{limitKey, s.id}}
	for _, k := range s.limit.By {
		_, key := rateKeyAction(k, s.team)
		path = append(path, entry{key, fixedValue(k, s.team)})
	}
	level := &ds
	for i, e := range path {
		j := slices.IndexFunc(*level, func(d *rlsconfv3.RateLimitDescriptor) bool { return d.Key == e.key && d.Value == e.value })
		if j < 0 {
			*level = append(*level, &rlsconfv3.RateLimitDescriptor{Key: e.key, Value: e.value})
			j = len(*level) - 1
		}
		d := (*level)[j]
		if i == len(path)-1 {
			d.RateLimit = &rlsconfv3.RateLimitPolicy{Unit: rateUnit(s.limit.Unit), RequestsPerUnit: s.limit.Requests}
		}
		level = &d.Descriptors
	}
	return ds
}

func rateUnit(u string) rlsconfv3.RateLimitUnit {
	return rlsconfv3.RateLimitUnit(rlsconfv3.RateLimitUnit_value[strings.ToUpper(u)])
}

func sortDescriptors(ds []*rlsconfv3.RateLimitDescriptor) {
	slices.SortFunc(ds, func(a, b *rlsconfv3.RateLimitDescriptor) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	for _, d := range ds {
		sortDescriptors(d.Descriptors)
	}
}
