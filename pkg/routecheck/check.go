// Package routecheck runs test files of Envoy's router_check_tool against a
// route configuration, through edgectl's route simulator, with the tool's
// semantics: what each field compares, when a test fails, and how route
// coverage is counted.
package routecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/routesim"
)

// Report is the outcome of running a test file.
type Report struct {
	Results []Result
	config  *routev3.RouteConfiguration
	covered map[routeKey]fieldSet
}

// Result is the outcome of one test: it passed when nothing failed.
type Result struct {
	Name string
	// Failures are the checks that failed, in the words of Envoy's tool:
	// "expected: [a], actual: [b], test type: cluster_name".
	Failures []string
	// Notes are what the simulator could not decide from the
	// configuration alone for this request (a header value with a
	// formatter, auto_host_rewrite), for a human to check.
	Notes []string
}

// Passed reports whether every check of the test held.
func (r Result) Passed() bool { return len(r.Failures) == 0 }

// Failed counts the tests that did not pass.
func (r *Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if !res.Passed() {
			n++
		}
	}
	return n
}

// routeKey names one route of the configuration for coverage; each cluster
// of a weighted route counts as a route of its own (weight is its index,
// -1 for a route without weights), as in Envoy's tool.
type routeKey struct{ vhost, route, weight int }

// fieldSet records which checks have held for a route.
type fieldSet struct {
	direct bool // the route answers itself: a redirect or direct response
	fields uint8
}

const (
	coveredCluster = 1 << iota
	coveredVirtualCluster
	coveredVirtualHost
	coveredPathRewrite
	coveredHostRewrite
	coveredRedirectPath
	coveredRedirectCode

	forwardFields = coveredCluster | coveredVirtualCluster | coveredVirtualHost | coveredPathRewrite | coveredHostRewrite
	directFields  = coveredRedirectPath | coveredRedirectCode
)

// score is the share of a route's checkable fields that tests checked:
// five for a forwarding route, two (redirect path and code) for a route
// that answers itself.
func (f fieldSet) score() float64 {
	if f.direct {
		return float64(bits.OnesCount8(f.fields&directFields)) / float64(bits.OnesCount8(directFields))
	}
	return float64(bits.OnesCount8(f.fields&forwardFields)) / float64(bits.OnesCount8(forwardFields))
}

// Run runs every test of s through the routes.
func Run(rt *Routes, s *Suite) *Report {
	rep := &Report{config: rt.Config, covered: map[routeKey]fieldSet{}}
	vhosts := map[string]int{}
	for i, vh := range rt.Config.GetVirtualHosts() {
		if _, dup := vhosts[vh.GetName()]; !dup {
			vhosts[vh.GetName()] = i
		}
	}
	for _, t := range s.Tests {
		c := &checker{rep: rep, config: rt.Config, in: t.Input}
		req := request(rt.Config, t.Input)
		c.res = rt.router.Route(req)
		c.key, c.keyed = coverageKey(rt.Config, vhosts, c.res)
		c.run(t.Want)
		rep.Results = append(rep.Results, Result{Name: t.Name, Failures: c.failures, Notes: c.res.Notes})
	}
	return rep
}

// request builds the request Envoy's tool sends for a test: the pseudo
// headers, x-forwarded-proto, x-envoy-internal when internal, then the
// additional headers, from the loopback address.
func request(rc *routev3.RouteConfiguration, in Input) *routesim.Request {
	scheme := "http"
	if in.SSL {
		scheme = "https"
	}
	headers := []routesim.Header{{Name: "x-forwarded-proto", Value: scheme}}
	if in.Internal {
		headers = append(headers, routesim.Header{Name: "x-envoy-internal", Value: "true"})
	}
	headers = append(headers, in.RequestHeaders...)
	return &routesim.Request{
		Scheme:        scheme,
		Authority:     in.Authority,
		Method:        in.Method,
		Path:          in.Path,
		Headers:       headers,
		ClientAddress: "127.0.0.1",
		Random:        in.RandomValue,
		Runtime:       runtimeFor(rc, in.Runtime),
		Internal:      in.Internal,
	}
}

// runtimeFor sets every runtime key of the routes' runtime fractions as
// Envoy's tool does: the test's runtime key keeps its default fraction
// (with a numerator of 0 raised to 1, so that random_value 0 turns the
// route on and any other value off), every other key is off.
func runtimeFor(rc *routev3.RouteConfiguration, active string) map[string]uint64 {
	out := map[string]uint64{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			rf := r.GetMatch().GetRuntimeFraction()
			if rf == nil {
				continue
			}
			key := rf.GetRuntimeKey()
			if _, done := out[key]; done {
				continue
			}
			if active == "" || key != active {
				out[key] = 0
				continue
			}
			out[key] = max(uint64(rf.GetDefaultValue().GetNumerator()), 1)
		}
	}
	return out
}

// coverageKey finds the configured route a result came from; a redirect
// the virtual host makes itself (require_tls) is none.
func coverageKey(rc *routev3.RouteConfiguration, vhosts map[string]int, res *routesim.Result) (routeKey, bool) {
	vi, ok := vhosts[res.VirtualHost]
	if !ok || res.RouteIndex < 0 || res.RouteIndex >= len(rc.VirtualHosts[vi].GetRoutes()) {
		return routeKey{}, false
	}
	k := routeKey{vhost: vi, route: res.RouteIndex, weight: -1}
	if wc := rc.VirtualHosts[vi].Routes[res.RouteIndex].GetRoute().GetWeightedClusters(); wc != nil && res.Action == routesim.Forward {
		for i, c := range wc.GetClusters() {
			if c.GetName() == res.Cluster {
				k.weight = i
				break
			}
		}
	}
	return k, true
}

type checker struct {
	rep      *Report
	config   *routev3.RouteConfiguration
	in       Input
	res      *routesim.Result
	key      routeKey
	keyed    bool
	failures []string
}

func (c *checker) forward() bool { return c.res.Action == routesim.Forward }

func (c *checker) direct() bool {
	return c.res.Action == routesim.Redirect || c.res.Action == routesim.DirectResponse
}

// mark records a check that held, for coverage, when the route is of the
// kind the check is about.
func (c *checker) mark(field uint8, ofKind bool) {
	if !ofKind || !c.keyed {
		return
	}
	f := c.rep.covered[c.key]
	f.direct = c.direct()
	f.fields |= field
	c.rep.covered[c.key] = f
}

func (c *checker) failf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// compare checks one string field; the actual value is "" unless the route
// is of the kind the field is about.
func (c *checker) compare(want *string, actual string, ofKind bool, field uint8, testType string) {
	if want == nil {
		return
	}
	if !ofKind {
		actual = ""
	}
	if *want != actual {
		c.failf("expected: [%s], actual: [%s], test type: %s", *want, actual, testType)
		return
	}
	c.mark(field, ofKind)
}

func (c *checker) run(w Want) {
	fwd, direct := c.forward(), c.direct()
	c.compare(w.ClusterName, c.res.Cluster, fwd, coveredCluster, "cluster_name")
	c.compare(w.VirtualClusterName, c.virtualCluster(), fwd, coveredVirtualCluster, "virtual_cluster_name")
	c.compare(w.VirtualHostName, c.res.VirtualHost, fwd, coveredVirtualHost, "virtual_host_name")
	c.compare(w.PathRewrite, c.res.Path, fwd, coveredPathRewrite, "path_rewrite")
	c.compare(w.HostRewrite, c.res.Host, fwd, coveredHostRewrite, "host_rewrite")
	c.compare(w.PathRedirect, c.redirectURL(), direct, coveredRedirectPath, "path_redirect")
	if w.CodeRedirect != nil {
		actual := uint32(0)
		if direct {
			actual = uint32(c.res.Status)
		}
		if *w.CodeRedirect != actual {
			c.failf("expected: [%d], actual: [%d], test type: code_redirect", *w.CodeRedirect, actual)
		} else {
			c.mark(coveredRedirectCode, direct)
		}
	}
	req, resp := c.requestHeaders(), c.responseHeaders()
	c.headerMatches(req, w.RequestHeaderMatches, "request_header_matches")
	c.headerFields(req, w.RequestHeaderFields, "request_header_fields")
	c.headerMatches(resp, w.ResponseHeaderMatches, "response_header_matches")
	c.headerFields(resp, w.ResponseHeaderFields, "response_header_fields")
}

// virtualCluster is the virtual cluster a forwarded request is counted in:
// when the virtual host has virtual clusters and none matches, Envoy
// counts it in the catch-all "other".
func (c *checker) virtualCluster() string {
	if c.res.VirtualCluster != "" {
		return c.res.VirtualCluster
	}
	for _, vh := range c.config.GetVirtualHosts() {
		if vh.GetName() == c.res.VirtualHost {
			if len(vh.GetVirtualClusters()) > 0 {
				return "other"
			}
			break
		}
	}
	return ""
}

// redirectURL is what path_redirect compares: the full URL of a redirect.
// A direct response has no redirect of its own, and Envoy's tool then
// builds the URL of the request itself.
func (c *checker) redirectURL() string {
	if c.res.Action == routesim.DirectResponse {
		scheme := "http"
		if c.in.SSL {
			scheme = "https"
		}
		return scheme + "://" + c.in.Authority + c.in.Path
	}
	return c.res.Location
}

// requestHeaders are the request's headers as the upstream would receive
// them, after the route's changes; those of a request the router answers
// itself are left as they came.
func (c *checker) requestHeaders() headerMap {
	scheme := "http"
	if c.in.SSL {
		scheme = "https"
	}
	authority, path := c.in.Authority, c.in.Path
	headers := c.in.RequestHeaders
	if c.forward() {
		authority, path = c.res.Host, c.res.Path
		headers = c.res.UpstreamHeaders
	}
	var h headerMap
	h.add(":authority", authority)
	h.add(":path", path)
	h.add(":method", c.in.Method)
	h.add(":scheme", scheme)
	if !c.forward() {
		h.add("x-forwarded-proto", scheme)
		if c.in.Internal {
			h.add("x-envoy-internal", "true")
		}
	}
	for _, e := range headers {
		h.add(e.Name, e.Value)
	}
	if c.forward() && rewritesPath(c.res.Entry.GetRoute()) {
		h.set("x-envoy-original-path", c.in.Path)
	}
	return h
}

// rewritesPath reports whether a route rewrites the path, so that Envoy
// keeps the original in x-envoy-original-path.
func rewritesPath(a *routev3.RouteAction) bool {
	return a.GetPrefixRewrite() != "" || a.GetRegexRewrite() != nil || a.GetPathRewritePolicy() != nil
}

// responseHeaders are the test's additional response headers (what the
// upstream answered) after the route's changes; a route that answers
// itself first adds those of its local reply.
func (c *checker) responseHeaders() headerMap {
	var h headerMap
	for _, e := range c.in.ResponseHeaders {
		h.add(e.Name, e.Value)
	}
	if !c.forward() && !c.direct() {
		return h
	}
	if c.direct() {
		h.add(":status", strconv.Itoa(c.res.Status))
		if c.res.Body != "" {
			h.add("content-length", strconv.Itoa(len(c.res.Body)))
			h.add("content-type", "text/plain")
		}
	}
	for _, ops := range responseOps(c.config, c.res) {
		h.apply(ops)
	}
	return h
}

func (c *checker) headerMatches(h headerMap, ms []*routev3.HeaderMatcher, testType string) {
	for _, m := range ms {
		if matchHeader(h, m) {
			continue
		}
		kind := testType + "." + matcherKind(m)
		name := m.GetName()
		vals := h.values(name)
		actual := "NULL"
		if len(vals) > 0 {
			actual = strings.Join(vals, ",")
		}
		not := ""
		if m.GetInvertMatch() {
			not = "NOT "
		}
		switch s := m.GetHeaderMatchSpecifier().(type) {
		case nil, *routev3.HeaderMatcher_PresentMatch:
			want := true
			if s != nil {
				want = m.GetPresentMatch()
			}
			want = want != m.GetInvertMatch()
			c.failf("expected: [has(%s):%t], actual: [has(%s):%t], test type: %s", name, want, name, len(vals) > 0, kind)
		case *routev3.HeaderMatcher_StringMatch:
			if exact, ok := s.StringMatch.GetMatchPattern().(*matcherv3.StringMatcher_Exact); ok {
				c.failf("expected: [%s: %s], actual: %s[%s: %s], test type: %s", name, exact.Exact, not, name, actual, kind)
				break
			}
			c.failf("expected: [%s], actual: %s[%s: %s], test type: %s", matcherText(m), not, name, actual, kind)
		default:
			c.failf("expected: [%s], actual: %s[%s: %s], test type: %s", matcherText(m), not, name, actual, kind)
		}
	}
}

func (c *checker) headerFields(h headerMap, fields []routesim.Header, testType string) {
	for _, f := range fields {
		if actual := h.first(f.Name); actual != f.Value {
			c.failf("expected: [%s], actual: [%s], test type: %s", f.Value, actual, testType)
		}
	}
}

// matcherText prints a header matcher as compact JSON, for failures.
func matcherText(m *routev3.HeaderMatcher) string {
	return compactJSON(m)
}

func compactJSON(m proto.Message) string {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return fmt.Sprint(m)
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// Coverage is the percentage of the configuration's routes that tests
// covered, each cluster of a weighted route counting as a route. By
// default a route is covered when one check of cluster, virtual cluster,
// virtual host, path or host rewrite, redirect path or code held for it;
// with all (--covall) each route counts for the share of those fields its
// tests checked. A configuration without routes is fully covered.
func (r *Report) Coverage(all bool) float64 {
	total := 0
	for _, vh := range r.config.GetVirtualHosts() {
		for _, rt := range vh.GetRoutes() {
			if wc := rt.GetRoute().GetWeightedClusters(); wc != nil {
				total += len(wc.GetClusters())
			} else {
				total++
			}
		}
	}
	if total == 0 {
		return 100
	}
	if !all {
		return 100 * float64(len(r.covered)) / float64(total)
	}
	sum := 0.0
	for _, f := range r.covered {
		sum += f.score()
	}
	return 100 * sum / float64(total)
}

// Uncovered is a route no test covered.
type Uncovered struct {
	VirtualHost string
	Route       *routev3.Route
}

// Uncovered lists, in configuration order, the routes no check covered.
func (r *Report) Uncovered() []Uncovered {
	hit := map[[2]int]bool{}
	for k := range r.covered {
		hit[[2]int{k.vhost, k.route}] = true
	}
	var out []Uncovered
	for i, vh := range r.config.GetVirtualHosts() {
		for j, rt := range vh.GetRoutes() {
			if !hit[[2]int{i, j}] {
				out = append(out, Uncovered{VirtualHost: vh.GetName(), Route: rt})
			}
		}
	}
	return out
}

// Write prints the results as Envoy's tool does: a failed test's name,
// then one line per failed check; with details, also the names of the
// tests that passed, unless onlyFailures. With details, the simulator's
// notes on a printed test follow it, indented, as "  note: ...".
func (r *Report) Write(w io.Writer, details, onlyFailures bool) error {
	for _, res := range r.Results {
		if res.Passed() && (!details || onlyFailures) {
			continue
		}
		lines := append([]string{res.Name}, res.Failures...)
		if details {
			for _, n := range res.Notes {
				lines = append(lines, "  note: "+n)
			}
		}
		for _, l := range lines {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteMissing prints the routes no test covered, as --covall does: the
// virtual host, the route's match, and its name if it has one.
func (r *Report) WriteMissing(w io.Writer) error {
	for _, u := range r.Uncovered() {
		name := ""
		if n := u.Route.GetName(); n != "" {
			name = fmt.Sprintf(" (name: %s)", n)
		}
		if _, err := fmt.Fprintf(w, "Missing test for host: %s, route: %s%s\n", u.VirtualHost, compactJSON(u.Route.GetMatch()), name); err != nil {
			return err
		}
	}
	return nil
}

// Percent prints a coverage percentage as Envoy's tool does (a C++ stream's
// six significant digits): 100, 66.6667, 7.44863.
func Percent(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}
