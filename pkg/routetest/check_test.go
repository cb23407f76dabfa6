package routetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/routesim"
)

func ptr[T any](v T) *T { return &v }

// TestCheck holds each kind of expectation against what Envoy does: the
// field that fails, what was wanted and what happened.
func TestCheck(t *testing.T) {
	t.Parallel()
	req := &routesim.Request{Scheme: "https", Authority: "www.example.com", Path: "/", Port: 8443, SNI: "www.example.com"}
	forward := &routesim.Result{Listener: "https", VirtualHost: "www", Route: "web", RouteIndex: 3, Action: routesim.Forward,
		Cluster: "web", Path: "/a", Host: "web.internal",
		RequestHeaders: []routesim.Header{{Name: "X-Edge", Value: "1"}}, RequestHeadersRemoved: []string{"x-debug"},
		ResponseHeaders: []routesim.Header{{Name: "x-frame-options", Value: "DENY"}}}
	split := &routesim.Result{Listener: "https", VirtualHost: "www", Route: "api", RouteIndex: 1, Action: routesim.Forward,
		Cluster: "api", Weights: []routesim.Weight{{Cluster: "api", Weight: 90}, {Cluster: "api-v2", Weight: 10}, {Cluster: "old", Weight: 0}}}
	redirect := &routesim.Result{Listener: "https", VirtualHost: "www", Route: "old", RouteIndex: 2, Action: routesim.Redirect,
		Status: 302, Location: "https://www.example.com/new/x"}
	respond := &routesim.Result{Listener: "http", VirtualHost: "search", Route: "health", RouteIndex: 0, Action: routesim.DirectResponse,
		Status: 200, Body: "ok"}
	noRoute := &routesim.Result{Listener: "https", VirtualHost: "www", RouteIndex: -1, Action: routesim.NoRoute, Status: 404}
	noHost := &routesim.Result{Listener: "http", RouteIndex: -1, Action: routesim.NoRoute, Status: 404}
	noListener := &routesim.Result{RouteIndex: -1, Action: routesim.NoListener}

	for _, tc := range []struct {
		name   string
		res    *routesim.Result
		expect Expect
		want   string // one failure a line: field | want | got
	}{
		{"all hold", forward, Expect{NoRoute: ptr(false), VirtualHost: "www", Route: "web", Backend: "web", Weights: map[string]float64{"web": 1},
			Path: "/a", Host: "web.internal", RequestHeaders: map[string]*string{"x-edge": ptr("1"), "X-Debug": nil},
			ResponseHeaders: map[string]*string{"X-Frame-Options": ptr("DENY")}}, ""},
		{"other backend", forward, Expect{Backend: "api"}, "backend | api | web"},
		{"backend of a split", split, Expect{Backend: "api"}, "backend | api | a split between api 90%, api-v2 10% (expect weights instead)"},
		{"weights as shares", split, Expect{Weights: map[string]float64{"api": 9, "api-v2": 1, "old": 0}}, ""},
		{"other weights", split, Expect{Weights: map[string]float64{"api": 95, "api-v2": 5}}, "weights | api 95%, api-v2 5% | api 90%, api-v2 10%"},
		{"weights of one backend", forward, Expect{Weights: map[string]float64{"web": 50, "api": 50}}, "weights | api 50%, web 50% | web 100%"},
		{"weights of a redirect", redirect, Expect{Weights: map[string]float64{"web": 1}}, "weights | web 100% | a redirect (302) to https://www.example.com/new/x"},
		{"redirect holds", redirect, Expect{Route: "old", Redirect: &ExpectRedirect{Location: "https://www.example.com/new/x", Code: 302}}, ""},
		{"redirect differs", redirect, Expect{Redirect: &ExpectRedirect{Location: "https://www.example.com/x", Code: 301}},
			"redirect.location | https://www.example.com/x | https://www.example.com/new/x\nredirect.code | 301 | 302"},
		{"no redirect", forward, Expect{Redirect: &ExpectRedirect{Location: "https://x/", Code: 308}}, "redirect | a redirect to https://x/ (308) | forwarded to web"},
		{"respond holds", respond, Expect{Respond: &ExpectRespond{Status: 200, Body: ptr("ok")}}, ""},
		{"respond differs", respond, Expect{Respond: &ExpectRespond{Status: 204, Body: ptr("")}}, "respond.status | 204 | 200\nrespond.body | \"\" | \"ok\""},
		{"no direct response", split, Expect{Respond: &ExpectRespond{Status: 403}}, "respond | a direct response 403 | forwarded to a split between api 90%, api-v2 10%"},
		{"path and host", forward, Expect{Path: "/b", Host: "web"}, "path | /b | /a\nhost | web | web.internal"},
		{"path of a direct response", respond, Expect{Path: "/"}, "path | / | a direct response 200"},
		{"headers", forward, Expect{RequestHeaders: map[string]*string{"x-edge": ptr("2"), "x-other": ptr("1"), "x-keep": nil},
			ResponseHeaders: map[string]*string{"x-frame-options": ptr("SAMEORIGIN")}},
			"requestHeaders.x-edge | \"2\" | \"1\"\nrequestHeaders.x-keep | removed | not removed\nrequestHeaders.x-other | \"1\" | not added\nresponseHeaders.x-frame-options | \"SAMEORIGIN\" | \"DENY\""},
		{"route and virtual host", forward, Expect{VirtualHost: "api", Route: "api"}, "virtualHost | api | virtual host www\nroute | api | route web"},
		{"no route holds", noRoute, Expect{NoRoute: ptr(true), VirtualHost: "www"}, ""},
		{"no route in a virtual host", noRoute, Expect{Route: "web", Backend: "web"},
			"route | web | no route of virtual host www matches (404)\nbackend | web | no route of virtual host www matches (404)"},
		{"no virtual host", noHost, Expect{NoRoute: ptr(false), VirtualHost: "www"},
			"noRoute | a route | no route: no virtual host of listener http answers www.example.com (404)\nvirtualHost | www | no route: no virtual host of listener http answers www.example.com (404)"},
		{"no listener is no route", noListener, Expect{NoRoute: ptr(true)}, ""},
		{"no listener", noListener, Expect{Backend: "web"}, "backend | web | no listener on port 8443"},
		{"routed, not expected", forward, Expect{NoRoute: ptr(true)}, "noRoute | no route | forwarded to web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &check{t: &Test{Expect: tc.expect}, res: tc.res, outcome: outcome(req, tc.res)}
			c.run()
			var got []string
			for _, f := range c.failures {
				got = append(got, fmt.Sprintf("%s | %s | %s", f.Field, f.Want, f.Got))
			}
			if g := strings.Join(got, "\n"); g != tc.want {
				t.Errorf("failures:\n%s\nwant:\n%s", g, tc.want)
			}
		})
	}
}

// TestOutcome names what Envoy does in words, for the got side of a
// failure.
func TestOutcome(t *testing.T) {
	t.Parallel()
	req := &routesim.Request{Scheme: "https", Authority: "shop.example.com:8443", Port: 8443, SNI: "shop.example.com"}
	for _, tc := range []struct {
		res  *routesim.Result
		want string
	}{
		{&routesim.Result{Action: routesim.NoListener}, "no listener on port 8443"},
		{&routesim.Result{Action: routesim.NoListener, Listener: "https"}, `no filter chain of listener https for server name "shop.example.com"`},
		{&routesim.Result{Action: routesim.NoRoute, Listener: "https"}, "no route: no virtual host of listener https answers shop.example.com (404)"},
		{&routesim.Result{Action: routesim.Forward, Weights: []routesim.Weight{{Cluster: "b", Weight: 1}, {Cluster: "a", Weight: 2}}}, "forwarded to a split between a 66.67%, b 33.33%"},
		{&routesim.Result{Action: routesim.DirectResponse, Status: 503}, "a direct response 503"},
	} {
		if got := outcome(req, tc.res); got != tc.want {
			t.Errorf("outcome(%v) = %q, want %q", tc.res.Action, got, tc.want)
		}
	}
}
