package xds

import (
	"fmt"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rlsconfv3 "github.com/envoyproxy/go-control-plane/ratelimit/config/ratelimit/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// descriptor is what Envoy sends the rate-limit service for one rate_limits
// entry of a request: the entries its actions generate. Values a request
// decides are stood in for by sample.
func descriptor(t *testing.T, rl *routev3.RateLimit, sample string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, a := range rl.Actions {
		switch a := a.ActionSpecifier.(type) {
		case *routev3.RateLimit_Action_GenericKey_:
			out = append(out, [2]string{a.GenericKey.DescriptorKey, a.GenericKey.DescriptorValue})
		case *routev3.RateLimit_Action_RemoteAddress_:
			out = append(out, [2]string{"remote_address", sample})
		case *routev3.RateLimit_Action_RequestHeaders_:
			out = append(out, [2]string{a.RequestHeaders.DescriptorKey, sample})
		default:
			t.Fatalf("unexpected action %T", a)
		}
	}
	return out
}

// limitFor finds the limit the reference service applies to a descriptor:
// at each level an entry with the key and the value, else one with the key
// and no value (each value counted apart); the limit is the last level's.
func limitFor(ds []*rlsconfv3.RateLimitDescriptor, entries [][2]string) *rlsconfv3.RateLimitPolicy {
	var node *rlsconfv3.RateLimitDescriptor
	for _, e := range entries {
		var exact, wild *rlsconfv3.RateLimitDescriptor
		for _, d := range ds {
			switch {
			case d.Key == e[0] && d.Value == e[1]:
				exact = d
			case d.Key == e[0] && d.Value == "":
				wild = d
			}
		}
		node = exact
		if node == nil {
			node = wild
		}
		if node == nil {
			return nil
		}
		ds = node.Descriptors
	}
	return node.GetRateLimit()
}

func TestRateLimitConfigs(t *testing.T) {
	t.Parallel()
	include := &ir.RateLimitRule{Service: "rls", From: ir.Origin{Level: ir.LevelInclude, Name: "payments"}, Limits: []ir.RateLimit{
		{Requests: 50, Unit: "second", By: []ir.RateKey{{Kind: ir.KeyGeneric, Value: "payments"}, {Kind: ir.KeyPath}}},
	}}
	g := secGateway(&ir.Security{RateLimit: &ir.RateLimitRule{Service: "rls", From: ir.Origin{Level: ir.LevelVirtualHost, Name: "www"}, Limits: []ir.RateLimit{
		{Requests: 1000, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}},
		{Requests: 100000, Unit: "day", By: []ir.RateKey{{Kind: ir.KeyTeam}}},
	}}},
		secRoute("pay", "payments", &ir.Security{RateLimit: include}),
		secRoute("refund", "payments", &ir.Security{RateLimit: include}),
		secRoute("search", "search", nil), // inherits, counted by its own team
		secRoute("login", "web", &ir.Security{RateLimit: &ir.RateLimitRule{Service: "rls-open", Limits: []ir.RateLimit{
			{Requests: 5, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}, {Kind: ir.KeyHeader, Header: "X-User"}}},
		}}}),
		secRoute("health", "web", &ir.Security{RateLimit: &ir.RateLimitRule{Disabled: true}}),
	)
	checkAllModes(t, g)
	configs := RateLimitConfigs(g)
	if len(configs) != 2 || configs[0].Name != "rls" || configs[0].Domain != "edge" || configs[1].Name != "rls-open" || configs[1].Domain != "rls-open" {
		t.Fatalf("configurations for %v", configs)
	}
	// Every rate_limits entry any virtual host or route sends a service has
	// the limit it was declared with in that service's configuration.
	byService := map[string]*rlsconfv3.RateLimitConfig{}
	for _, c := range configs {
		byService[c.Name] = c
	}
	vh := Translate(g, Files)[0].Routes[0].VirtualHosts[0]
	type hit struct {
		where, service string
		rl             *routev3.RateLimit
	}
	var hits []hit
	gather := func(where string, tpfc map[string]*ratelimitv3.RateLimitPerRoute) {
		for name, per := range tpfc {
			for _, rl := range per.RateLimits {
				hits = append(hits, hit{where: where, service: strings.TrimPrefix(name, filterRateLimit+"/"), rl: rl})
			}
		}
	}
	perOf := func(m map[string]*anypb.Any) map[string]*ratelimitv3.RateLimitPerRoute {
		out := map[string]*ratelimitv3.RateLimitPerRoute{}
		for name := range m {
			if !strings.HasPrefix(name, filterRateLimit+"/") {
				continue
			}
			per := &ratelimitv3.RateLimitPerRoute{}
			if ok, off := perFilter(t, m, name, per); ok && !off {
				out[name] = per
			}
		}
		return out
	}
	gather("virtual host", perOf(vh.TypedPerFilterConfig))
	for _, r := range vh.Routes {
		gather("route "+r.Name, perOf(r.TypedPerFilterConfig))
	}
	if len(hits) != 2+1+1+2+1 { // vhost 2, pay 1, refund 1, search 2 (team), login 1
		t.Errorf("%d rate_limits entries, want 7", len(hits))
	}
	want := map[string]string{ // what each entry's first value says about its limit
		"virtualHost:www/0":      "1000/MINUTE",
		"virtualHost:www/1":      "100000/DAY",
		"include:www/payments/0": "50/SECOND",
		"route:www/login/0":      "5/MINUTE",
	}
	for _, h := range hits {
		d := descriptor(t, h.rl, "198.51.100.7")
		p := limitFor(byService[h.service].Descriptors, d)
		if p == nil {
			t.Errorf("%s: descriptor %v of service %s has no limit", h.where, d, h.service)
			continue
		}
		if got := fmt.Sprintf("%d/%s", p.RequestsPerUnit, p.Unit); got != want[d[0][1]] {
			t.Errorf("%s: descriptor %v limited to %s, want %s", h.where, d, got, want[d[0][1]])
		}
	}
	// The team limit counts each team apart: the virtual host's and the
	// route of another team.
	for _, team := range []string{"web", "search"} {
		if p := limitFor(configs[0].Descriptors, [][2]string{{"edgectl_limit", "virtualHost:www/1"}, {"team", team}}); p == nil {
			t.Errorf("no team limit for %s", team)
		}
	}
	// The configuration round-trips through the reference types' JSON,
	// which the bundle's YAML is.
	for _, c := range configs {
		js, err := protojson.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back := &rlsconfv3.RateLimitConfig{}
		if err := protojson.Unmarshal(js, back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, back, protocmp.Transform()); diff != "" {
			t.Errorf("round trip (-before +after):\n%s", diff)
		}
	}
	// Deterministic: the same rules give the same configuration.
	if diff := cmp.Diff(configs, RateLimitConfigs(g), protocmp.Transform()); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
}

func TestRateLimitConfigsUnused(t *testing.T) {
	t.Parallel()
	for _, s := range []*ir.Security{nil, {RateLimit: &ir.RateLimitRule{Disabled: true}}, {LocalRateLimit: &ir.LocalRateLimitRule{Requests: 1, Per: time.Second}}} {
		if got := RateLimitConfigs(secGateway(s)); len(got) != 0 {
			t.Errorf("%+v: configurations %v, want none", s, got)
		}
	}
}
