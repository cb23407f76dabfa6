package routetest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/edgectl/edgectl/pkg/routesim"
)

// check compares what Envoy does with a test's request with what the test
// expects, one field at a time, in the order the fields are documented.
type check struct {
	f        *File
	t        *Test
	res      *routesim.Result
	outcome  string
	failures []*failure
}

type failure struct {
	Failure
	path []any // of the expectation, from the test
}

func (c *check) fail(field, want, got string, path ...any) {
	c.failures = append(c.failures, &failure{Failure: Failure{Field: field, Want: want, Got: got}, path: append([]any{"expect"}, path...)})
}

func (c *check) run() {
	e, res := c.t.Expect, c.res
	routed := res.Action != routesim.NoRoute && res.Action != routesim.NoListener
	forwarded := res.Action == routesim.Forward
	if e.NoRoute != nil && *e.NoRoute == routed {
		want := "no route"
		if !*e.NoRoute {
			want = "a route"
		}
		c.fail("noRoute", want, c.outcome, "noRoute")
	}
	if e.VirtualHost != "" && res.VirtualHost != e.VirtualHost {
		got := "virtual host " + res.VirtualHost
		if res.VirtualHost == "" {
			got = c.outcome
		}
		c.fail("virtualHost", e.VirtualHost, got, "virtualHost")
	}
	if e.Route != "" && res.Route != e.Route {
		got := "route " + res.Route
		switch {
		case res.RouteIndex < 0:
			got = c.outcome
		case res.Route == "":
			got = "an unnamed route"
		}
		c.fail("route", e.Route, got, "route")
	}
	if e.Backend != "" {
		shares := sharesOf(res)
		switch {
		case !forwarded:
			c.fail("backend", e.Backend, c.outcome, "backend")
		case len(shares) > 1:
			c.fail("backend", e.Backend, "a split between "+describeShares(shares)+" (expect weights instead)", "backend")
		case len(shares) == 1 && shares[0].name != e.Backend:
			c.fail("backend", e.Backend, shares[0].name, "backend")
		}
	}
	if e.Weights != nil {
		var want []share
		total := 0.0
		for _, w := range e.Weights {
			total += w
		}
		for _, name := range sortedKeys(e.Weights) {
			if w := e.Weights[name]; w > 0 {
				want = append(want, share{name, w / total * 100})
			}
		}
		switch got := sharesOf(res); {
		case !forwarded:
			c.fail("weights", describeShares(want), c.outcome, "weights")
		case total == 0 || !sameShares(want, got):
			c.fail("weights", describeShares(want), describeShares(got), "weights")
		}
	}
	if r := e.Redirect; r != nil {
		switch {
		case res.Action != routesim.Redirect:
			want := "a redirect"
			if r.Location != "" {
				want += " to " + r.Location
			}
			if r.Code != 0 {
				want += fmt.Sprintf(" (%d)", r.Code)
			}
			c.fail("redirect", want, c.outcome, "redirect")
		default:
			if r.Location != "" && res.Location != r.Location {
				c.fail("redirect.location", r.Location, res.Location, "redirect", "location")
			}
			if r.Code != 0 && res.Status != r.Code {
				c.fail("redirect.code", strconv.Itoa(r.Code), strconv.Itoa(res.Status), "redirect", "code")
			}
		}
	}
	if r := e.Respond; r != nil {
		switch {
		case res.Action != routesim.DirectResponse:
			want := "a direct response"
			if r.Status != 0 {
				want += fmt.Sprintf(" %d", r.Status)
			}
			c.fail("respond", want, c.outcome, "respond")
		default:
			if r.Status != 0 && res.Status != r.Status {
				c.fail("respond.status", strconv.Itoa(r.Status), strconv.Itoa(res.Status), "respond", "status")
			}
			if r.Body != nil && res.Body != *r.Body {
				c.fail("respond.body", strconv.Quote(*r.Body), strconv.Quote(res.Body), "respond", "body")
			}
		}
	}
	upstream := func(field, want, got string) {
		switch {
		case want == "":
		case !forwarded:
			c.fail(field, want, c.outcome, field)
		case got != want:
			c.fail(field, want, got, field)
		}
	}
	upstream("path", e.Path, res.Path)
	upstream("host", e.Host, res.Host)
	c.headers("requestHeaders", e.RequestHeaders, res.RequestHeaders, res.RequestHeadersRemoved)
	c.headers("responseHeaders", e.ResponseHeaders, res.ResponseHeaders, res.ResponseHeadersRemoved)
}

// headers checks expected header changes: a value must be among those the
// route configuration adds under that name (names compare without case),
// and null means the header is removed.
func (c *check) headers(field string, want map[string]*string, added []routesim.Header, removed []string) {
	for _, name := range sortedKeys(want) {
		v := want[name]
		if v == nil {
			if !slices.ContainsFunc(removed, func(r string) bool { return strings.EqualFold(r, name) }) {
				c.fail(field+"."+name, "removed", "not removed", field, name)
			}
			continue
		}
		var values []string
		for _, h := range added {
			if strings.EqualFold(h.Name, name) {
				values = append(values, strconv.Quote(h.Value))
			}
		}
		switch {
		case slices.Contains(values, strconv.Quote(*v)):
		case len(values) == 0:
			c.fail(field+"."+name, strconv.Quote(*v), "not added", field, name)
		default:
			c.fail(field+"."+name, strconv.Quote(*v), strings.Join(values, ", "), field, name)
		}
	}
}

// share is a backend's part of the requests, in percent.
type share struct {
	name    string
	percent float64
}

// sharesOf returns the backends a forwarded request may go to, by name,
// with their shares; backends of weight 0 are left out.
func sharesOf(res *routesim.Result) []share {
	if len(res.Weights) == 0 {
		if res.Cluster == "" {
			return nil
		}
		return []share{{res.Cluster, 100}}
	}
	total := 0.0
	for _, w := range res.Weights {
		total += float64(w.Weight)
	}
	byName := map[string]float64{}
	for _, w := range res.Weights {
		if w.Weight > 0 {
			byName[w.Cluster] += float64(w.Weight) / total * 100
		}
	}
	var out []share
	for _, name := range sortedKeys(byName) {
		out = append(out, share{name, byName[name]})
	}
	return out
}

func sameShares(a, b []share) bool {
	return slices.EqualFunc(a, b, func(x, y share) bool {
		return x.name == y.name && math.Abs(x.percent-y.percent) < 1e-9
	})
}

func describeShares(s []share) string {
	if len(s) == 0 {
		return "no backend"
	}
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("%s %s%%", x.name, strconv.FormatFloat(math.Round(x.percent*100)/100, 'f', -1, 64))
	}
	return strings.Join(parts, ", ")
}

// outcome says in words what Envoy does with a request.
func outcome(req *routesim.Request, res *routesim.Result) string {
	host, _ := splitAuthority(req.Authority)
	switch res.Action {
	case routesim.NoListener:
		if res.Listener == "" {
			return fmt.Sprintf("no listener on port %d", req.Port)
		}
		return fmt.Sprintf("no filter chain of listener %s for server name %q", res.Listener, req.SNI)
	case routesim.NoRoute:
		if res.VirtualHost == "" {
			return fmt.Sprintf("no route: no virtual host of listener %s answers %s (404)", res.Listener, host)
		}
		return fmt.Sprintf("no route of virtual host %s matches (404)", res.VirtualHost)
	case routesim.Forward:
		s := sharesOf(res)
		if len(s) == 1 {
			return "forwarded to " + s[0].name
		}
		return "forwarded to a split between " + describeShares(s)
	case routesim.Redirect:
		return fmt.Sprintf("a redirect (%d) to %s", res.Status, res.Location)
	case routesim.DirectResponse:
		return fmt.Sprintf("a direct response %d", res.Status)
	}
	return res.Action.String()
}
