package routetest

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/routesim"
)

// Rule is the rule id of a failed expectation.
const Rule = "route-test"

// Options tune Run. The zero value runs every test.
type Options struct {
	// Run, when set, runs only the tests whose name it matches.
	Run *regexp.Regexp
}

// Status is how one test ended.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Error: the test could not run as written (a URL that does not
	// parse, a backend that does not exist, no gateway to send it to).
	Error Status = "error"
)

// Run sends every test's request through the gateway it names, as
// compiled in res, and checks what Envoy does with it. res must come from a
// compile without errors: its Gateways and Resources set, and its Model
// for the names of the backends. Problems of the tests are findings in the
// report; the error is for failures of edgectl itself. Run changes
// neither res nor suite, so the two sides of a change can each be run:
//
//	suite, err := routetest.Load(src.FS, res.Model.Project)
//	rep, err := routetest.Run(res, suite, routetest.Options{})
func Run(res *compile.Result, suite *Suite, opts Options) (*Report, error) {
	r := &runner{res: res, gateways: make([]*gateway, len(res.Gateways)), backends: map[string]bool{}}
	native := map[string]bool{}
	if res.Model != nil {
		for _, b := range res.Model.Backends {
			r.backends[b.Doc.Name] = true
		}
		for _, g := range res.Model.Gateways {
			native[g.Doc.Name] = true
		}
	}
	// A result without its model (read back from a cache), and the
	// gateways of Gateway API manifests, which have no Backends: the
	// clusters are the backends routes use.
	for _, g := range res.Gateways {
		if res.Model != nil && native[g.Name] {
			continue
		}
		for _, c := range g.Clusters {
			r.backends[c.Name] = true
		}
	}
	rep := &Report{Files: []*FileResult{}, Problems: slices.Clone(suite.Problems)}
	reached := map[diag.Pos]bool{}
	for _, f := range suite.Files {
		fr := &FileResult{Path: f.Path, Name: f.Name, Team: f.Team, Gateway: f.Gateway, Tests: []*TestResult{}}
		gw, problem, err := r.pick(f)
		if err != nil {
			return nil, err
		}
		if problem != nil {
			rep.Problems.Add(*problem)
		}
		for _, t := range f.Tests {
			if opts.Run != nil && !opts.Run.MatchString(t.Name) {
				continue
			}
			var tr *TestResult
			switch {
			case gw == nil:
				tr = &TestResult{Name: t.Name, Pos: Pos{t.Pos}, Status: Error, Outcome: "not run: " + problem.Message}
			default:
				tr = r.test(f, gw, t)
			}
			if tr.Route != nil && !tr.Route.Generated {
				reached[tr.Route.Origin.Pos] = true
			}
			switch tr.Status {
			case Pass:
				rep.Passed++
			case Fail:
				rep.Failed++
			default:
				rep.NotRun++
			}
			fr.Tests = append(fr.Tests, tr)
		}
		if opts.Run != nil && len(fr.Tests) == 0 {
			continue // a file none of whose tests were asked for
		}
		rep.Files = append(rep.Files, fr)
	}
	rep.Problems = rep.Problems.Sorted()
	rep.Coverage = coverage(res.Gateways, reached)
	return rep, nil
}

type runner struct {
	res      *compile.Result
	gateways []*gateway // built when a test first needs them
	backends map[string]bool
}

// gateway is one compiled gateway, ready to route requests.
type gateway struct {
	ir  *ir.Gateway
	sim *routesim.Gateway
	// tables: route configuration name → virtual host name → virtual host
	// of the IR, whose routes are in the order of Envoy's.
	tables map[string]map[string]*ir.VirtualHost
	// generated are the redirects to HTTPS edgectl adds.
	generated map[*ir.Route]bool
	routes    map[string]bool // route names
	vhosts    map[string]bool // virtual host names
}

// pick returns the gateway a document's tests go to, or the problem that
// there is none.
func (r *runner) pick(f *File) (*gateway, *diag.Diagnostic, error) {
	i, problem := gatewayOf(r.res, f)
	if problem != nil {
		return nil, problem, nil
	}
	if r.gateways[i] == nil {
		g, err := newGateway(r.res, i)
		if err != nil {
			return nil, nil, err
		}
		r.gateways[i] = g
	}
	return r.gateways[i], nil, nil
}

// gatewayOf is the index of the gateway a document's tests go to, or the
// problem that there is none.
func gatewayOf(res *compile.Result, f *File) (int, *diag.Diagnostic) {
	var names []string
	for _, g := range res.Gateways {
		names = append(names, g.Name)
	}
	i := -1
	var problem diag.List
	switch {
	case f.Gateway != "":
		if i = slices.Index(names, f.Gateway); i < 0 {
			msg := fmt.Sprintf("unknown gateway %q", f.Gateway)
			if s := diag.Suggest(f.Gateway, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			problem.Errorf(f.doc.Pos("spec", "gateway"), "unknown-reference", "%s", msg)
		}
	case len(names) == 1:
		i = 0
	case len(names) == 0:
		problem.Errorf(f.doc.Pos("spec"), "unknown-reference", "the repository defines no gateway to send the requests of %s to", f.doc.ID())
	default:
		problem.Errorf(f.doc.Pos("spec"), "unknown-reference", "the repository has %d gateways (%s): name the one the requests reach with spec.gateway", len(names), strings.Join(names, ", "))
	}
	if len(problem) > 0 {
		return -1, &problem[0]
	}
	return i, nil
}

func newGateway(res *compile.Result, i int) (*gateway, error) {
	if i >= len(res.Resources) || res.Resources[i] == nil {
		return nil, fmt.Errorf("route tests: gateway %q was not compiled", res.Gateways[i].Name)
	}
	sim, err := routesim.NewGateway(res.Resources[i])
	if err != nil {
		return nil, fmt.Errorf("internal error: simulate gateway %q (please report it): %w", res.Gateways[i].Name, err)
	}
	g := &gateway{ir: res.Gateways[i], sim: sim, tables: map[string]map[string]*ir.VirtualHost{},
		generated: generatedRoutes(res.Gateways[i]), routes: map[string]bool{}, vhosts: map[string]bool{}}
	for _, l := range g.ir.Listeners {
		for _, t := range tablesOf(l) {
			byName := map[string]*ir.VirtualHost{}
			for _, vh := range t.VirtualHosts {
				byName[vh.Name] = vh
				g.vhosts[vh.Name] = true
				for _, rt := range vh.Routes {
					if rt.Name != "" {
						g.routes[rt.Name] = true
					}
				}
			}
			g.tables[t.Name] = byName
		}
	}
	return g, nil
}

// testRequest makes the simulator's request for a test at a gateway.
func testRequest(g *ir.Gateway, t *Test) (*routesim.Request, error) {
	req, err := NewRequest(g, t.Request.Method, t.Request.URL)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(t.Request.Headers))
	for n := range t.Request.Headers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		req.Headers = append(req.Headers, routesim.Header{Name: n, Value: t.Request.Headers[n]})
	}
	req.ClientAddress = t.Request.ClientAddress
	return req, nil
}

// NewRequest makes the request a URL stands for at a gateway, as its
// route tests and edgectl explain read one. The URL's port picks the
// listener when one has it; otherwise the first listener of the URL's
// scheme takes it, as behind a load balancer that maps 443 to the
// listener's own port. An https request sends its host as SNI.
func NewRequest(g *ir.Gateway, method, rawURL string) (*routesim.Request, error) {
	if method == "" {
		method = "GET"
	}
	req, err := routesim.ParseURL(method, rawURL)
	if err != nil {
		return nil, err
	}
	if req.Authority == "" {
		return nil, fmt.Errorf("%q has no host", rawURL)
	}
	host, port := splitAuthority(req.Authority)
	if _, p, err := net.SplitHostPort(req.Authority); err == nil && (port == 0 || p == "") {
		return nil, fmt.Errorf("port %q is not a port number (1 to 65535)", p)
	}
	req.Port = 0
	for _, l := range g.Listeners {
		if port != 0 && l.Port == port {
			req.Port = port
			break
		}
	}
	if req.Port == 0 {
		want := ir.HTTP
		if req.Scheme == "https" {
			want = ir.HTTPS
		}
		for _, l := range g.Listeners {
			if l.Protocol == want {
				req.Port = l.Port
				break
			}
		}
	}
	if req.Scheme == "https" && net.ParseIP(host) == nil {
		req.SNI = host
	}
	return req, nil
}

// Probe is the request of one test, for sending elsewhere: a diff sends
// the tests' requests through two versions of the repository.
type Probe struct {
	Gateway string
	Test    string
	Pos     diag.Pos
	Request *routesim.Request
}

// Probes makes the request of every test of the suite that can run.
func Probes(res *compile.Result, suite *Suite) []Probe {
	var out []Probe
	for _, f := range suite.Files {
		i, problem := gatewayOf(res, f)
		if problem != nil {
			continue
		}
		for _, t := range f.Tests {
			if len(t.problems) > 0 {
				continue
			}
			if req, err := testRequest(res.Gateways[i], t); err == nil {
				out = append(out, Probe{Gateway: res.Gateways[i].Name, Test: t.Name, Pos: t.Pos, Request: req})
			}
		}
	}
	return out
}

// splitAuthority splits host[:port]; port is 0 when absent.
func splitAuthority(a string) (string, uint32) {
	host, p, err := net.SplitHostPort(a)
	if err != nil {
		return strings.Trim(a, "[]"), 0
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return host, 0
	}
	return host, uint32(n)
}

// ref maps the simulator's verdict back to the route of the IR, and so to
// where it is defined.
func (g *gateway) ref(res *routesim.Result) (*RouteRef, *ir.VirtualHost) {
	vh := g.tables[res.RouteConfig][res.VirtualHost]
	if vh == nil {
		return nil, nil
	}
	if res.RouteIndex < 0 || res.RouteIndex >= len(vh.Routes) {
		return nil, vh
	}
	rt := vh.Routes[res.RouteIndex]
	return &RouteRef{Gateway: g.ir.Name, Listener: res.Listener, VirtualHost: vh.Name, Name: rt.Name, Team: rt.Team,
		Origin: Pos{rt.Origin}, Generated: g.generated[rt]}, vh
}

// test runs one test.
func (r *runner) test(f *File, g *gateway, t *Test) *TestResult {
	tr := &TestResult{Name: t.Name, Pos: Pos{t.Pos}}
	tr.Problems = slices.Clone(t.problems)
	tr.Problems = append(tr.Problems, r.references(f, g, t)...)
	req, err := testRequest(g.ir, t)
	if err != nil {
		tr.Problems.Errorf(f.pos(t, "request", "url"), "invalid-value", "request.url: %v", err)
	}
	if len(tr.Problems) > 0 {
		tr.Status, tr.Outcome = Error, "not run: "+tr.Problems[0].Message
		return tr
	}
	res, misses := g.sim.Explain(req)
	route, vh := g.ref(res)
	tr.Route = route
	tr.Outcome = outcome(req, res)
	c := &check{f: f, t: t, res: res, outcome: tr.Outcome}
	c.run()
	for _, fl := range c.failures {
		d := diag.Diagnostic{Pos: f.pos(t, fl.path...), Severity: diag.Error, Rule: Rule,
			Message: fmt.Sprintf("test %q: %s: want %s, got %s", t.Name, fl.Field, fl.Want, fl.Got)}
		if route != nil {
			d.Note(route.Origin.Pos, "the request matched %s", route.describe())
		}
		if fl.Field == "route" {
			if pos, msg, ok := whyNot(g, vh, res, misses, t.Expect.Route); ok {
				d.Note(pos, "%s", msg)
			}
		}
		fl.Diagnostic = d
		tr.Failures = append(tr.Failures, fl.Failure)
	}
	tr.Status = Pass
	if len(tr.Failures) > 0 {
		tr.Status = Fail
	}
	return tr
}

// references checks the names a test's expectations use: a backend, route
// or virtual host that does not exist is a mistake in the test, not a
// failure.
func (r *runner) references(f *File, g *gateway, t *Test) diag.List {
	var diags diag.List
	check := func(kind, name string, known map[string]bool, where string, path ...any) {
		if name == "" || known[name] {
			return
		}
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		slices.Sort(names)
		msg := fmt.Sprintf("unknown %s %q%s", kind, name, where)
		if s := diag.Suggest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		diags.Errorf(f.pos(t, path...), "unknown-reference", "%s", msg)
	}
	on := fmt.Sprintf(" on gateway %q", g.ir.Name)
	check("backend", t.Expect.Backend, r.backends, "", "expect", "backend")
	for _, name := range sortedKeys(t.Expect.Weights) {
		check("backend", name, r.backends, "", "expect", "weights", name)
	}
	check("route", t.Expect.Route, g.routes, on, "expect", "route")
	check("virtual host", t.Expect.VirtualHost, g.vhosts, on, "expect", "virtualHost")
	return diags
}

// whyNot explains why the route a test expected did not take its request.
func whyNot(g *gateway, vh *ir.VirtualHost, res *routesim.Result, misses []routesim.Miss, name string) (diag.Pos, string, bool) {
	if vh != nil {
		for i, rt := range vh.Routes {
			if rt.Name != name {
				continue
			}
			if res.RouteIndex >= 0 && i > res.RouteIndex {
				return rt.Origin, fmt.Sprintf("route %q comes after the one that matched, and Envoy takes the first route that matches", name), true
			}
			for _, m := range misses {
				if m.Index == i {
					return rt.Origin, fmt.Sprintf("route %q did not match: %s", name, m.Reason), true
				}
			}
			return rt.Origin, fmt.Sprintf("route %q did not match", name), true
		}
	}
	for _, table := range sortedKeys(g.tables) {
		for _, other := range sortedKeys(g.tables[table]) {
			for _, rt := range g.tables[table][other].Routes {
				if rt.Name == name {
					return rt.Origin, fmt.Sprintf("route %q is in virtual host %s, which did not take the request", name, other), true
				}
			}
		}
	}
	return diag.Pos{}, "", false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
