package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/diff"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/routetest"
)

type explainFlags struct {
	project projectFlags
	method  string
	headers []string
	gateway string
	client  string
	random  uint64
	output  string
	misses  int
}

func newExplainCmd() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain [SOURCE] URL",
		Short: "Say where a request goes, and why, without running Envoy",
		Long: `Explain compiles the repository (any revision, like validate) and sends one
request through the simulator of each gateway's Envoy configuration: which
listener, virtual host and route take it, what happens to it (forwarded,
with the split and the backend the random value picks, redirected, answered
directly, or no route), its rewrites, headers, timeout, retries and mirrors,
and the file and line that defined the route with its team. It says the
security rules the request meets (client certificates, IP filter, CORS,
authentication, authorization, rate limits), each with the level that set
it (gateway defaults, virtual host, include, route), its file and line and
its team. For the routes
before it in the same virtual host it says why each did not match, the
closest first.

URL is what a client asks for: https://api.acme.io/v1/orders?id=7. Its
scheme picks the listener (https: the TLS listener, with the URL's host as
SNI), its port the listener's port (default 80 or 443).

Exit codes: 0 explained (whatever the verdict, a 404 included), 1 edgectl
failed, 2 usage error, 3 the repository has errors.`,
		Example: `  edgectl explain https://api.acme.io/v1/orders
  edgectl explain examples/acme https://api.acme.io/v1/orders -H 'x-beta: true'
  edgectl explain --rev main -X POST https://pay.acme.io/v2/charges -o json`,
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error { return runExplain(cmd, f, a) },
	}
	f.project.bind(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.method, "request", "X", "GET", "request method")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'name: value' (repeatable)")
	fl.StringVar(&f.gateway, "gateway", "", "only this gateway (default: every gateway that listens on the URL's port)")
	fl.StringVar(&f.client, "client", "", "the client's IP address")
	fl.Uint64Var(&f.random, "random", 0, "Envoy's random value for the request: picks from weighted backends and runtime fractions")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.IntVar(&f.misses, "misses", 5, "how many of the routes before the match to explain")
	return cmd
}

func runExplain(cmd *cobra.Command, f explainFlags, a []string) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	rawURL := a[len(a)-1]
	// The URL is checked before the compile: a typo should not wait for it.
	if _, err := routesim.ParseURL("GET", rawURL); err != nil {
		return usageErrorf("URL %q: %v", rawURL, err)
	}
	var headers []routesim.Header
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usageErrorf("-H %q: want 'name: value'", h)
		}
		if strings.ContainsAny(h, "\r\n\x00") {
			return usageErrorf("-H %q: a header holds no CR, LF or NUL", h)
		}
		headers = append(headers, routesim.Header{Name: strings.ToLower(strings.TrimSpace(name)), Value: strings.TrimSpace(value)})
	}
	ask := func(g *ir.Gateway) (*routesim.Request, error) {
		req, err := routetest.NewRequest(g, strings.ToUpper(f.method), rawURL)
		if err != nil {
			return nil, usageErrorf("URL %q: %v", rawURL, err)
		}
		req.Headers, req.ClientAddress, req.Random = headers, f.client, f.random
		return req, nil
	}

	res, prefix, err := compileOrRejectAt(cmd, f.project, a[:len(a)-1])
	if err != nil {
		return err
	}
	req, exps, err := explainAll(res, ask, f.gateway, prefix)
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Request  string        `json:"request"`
			Gateways []explanation `json:"gateways"`
		}{req.String(), exps})
	}
	writeExplanation(cmd.OutOrStdout(), req, exps, f.misses)
	return nil
}

// explanation is one gateway's verdict on the request, in words and
// fields; its JSON form is documented in docs/testing.md.
type explanation struct {
	Gateway     string    `json:"gateway"`
	Port        uint32    `json:"port"`
	Listener    string    `json:"listener,omitempty"`
	FilterChain string    `json:"filterChain,omitempty"`
	RouteConfig string    `json:"routeConfiguration,omitempty"`
	VirtualHost *vhostRef `json:"virtualHost,omitempty"`
	Route       *routeRef `json:"route,omitempty"`
	Action      string    `json:"action"`
	Outcome     string    `json:"outcome"`
	Status      int       `json:"status,omitempty"`
	Cluster     string    `json:"backend,omitempty"`
	Weights     []weight  `json:"weights,omitempty"`
	Location    string    `json:"location,omitempty"`
	Body        string    `json:"body,omitempty"`
	Path        string    `json:"path,omitempty"`
	Host        string    `json:"host,omitempty"`
	ReqAdd      []header  `json:"requestHeadersAdded,omitempty"`
	ReqRemove   []string  `json:"requestHeadersRemoved,omitempty"`
	RespAdd     []header  `json:"responseHeadersAdded,omitempty"`
	RespRemove  []string  `json:"responseHeadersRemoved,omitempty"`
	Timeout     string    `json:"timeout,omitempty"`
	Retry       string    `json:"retry,omitempty"`
	Mirrors     []string  `json:"mirrors,omitempty"`
	Security    []rule    `json:"security,omitempty"`
	Misses      []miss    `json:"notMatched,omitempty"`
	// Notes say why nothing was routed as HTTP: a TCP proxy or TLS
	// passthrough chain, or a path the connection manager answers itself.
	Notes []string `json:"notes,omitempty"`
}

// rule is one security rule the request meets, and where it was set.
type rule struct {
	Feature string `json:"feature"`
	Rule    string `json:"rule"`
	Level   string `json:"level"`
	Name    string `json:"name,omitempty"`
	Origin  string `json:"origin,omitempty"`
	Team    string `json:"team,omitempty"`
}

type vhostRef struct {
	Name    string   `json:"name"`
	Team    string   `json:"team,omitempty"`
	Domains []string `json:"domains,omitempty"`
}

type routeRef struct {
	Name   string `json:"name,omitempty"`
	Index  int    `json:"index"` // 1-based, as people count
	Origin string `json:"origin,omitempty"`
	Team   string `json:"team,omitempty"`
}

type weight struct {
	Backend string `json:"backend"`
	Weight  uint32 `json:"weight"`
}

type header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type miss struct {
	routeRef
	Reason string `json:"reason"`
}

// explainAll explains the request on every gateway (or the one asked
// for) whose listeners take it; when none does, on every gateway, so the
// reader sees that no listener answers. Each gateway gets the request as
// its own listeners receive it (ask); the first is returned for display.
func explainAll(res *compile.Result, ask func(*ir.Gateway) (*routesim.Request, error), only, prefix string) (*routesim.Request, []explanation, error) {
	var out, refused []explanation
	var shown *routesim.Request
	found := false
	for i, g := range res.Gateways {
		if only != "" && g.Name != only {
			continue
		}
		found = true
		req, err := ask(g)
		if err != nil {
			return nil, nil, err
		}
		if shown == nil {
			shown = req
		}
		sim, err := routesim.NewGateway(res.Resources[i])
		if err != nil {
			return nil, nil, fmt.Errorf("simulate gateway %q: %w", g.Name, err)
		}
		r, ms := sim.Explain(req)
		e := explain(g, r, ms, req, prefix)
		if r.Action == routesim.NoListener {
			refused = append(refused, e)
			continue
		}
		out = append(out, e)
	}
	if !found {
		var names []string
		for _, g := range res.Gateways {
			names = append(names, g.Name)
		}
		if only == "" {
			return nil, nil, &exitError{code: exitRejected, err: fmt.Errorf("the repository defines no gateway: nothing to explain")}
		}
		return nil, nil, usageErrorf("no gateway %q (the repository has %s)", only, strings.Join(names, ", "))
	}
	if len(out) == 0 {
		return shown, refused, nil
	}
	return shown, out, nil
}

func explain(g *ir.Gateway, r *routesim.Result, ms []routesim.Miss, req *routesim.Request, prefix string) explanation {
	e := explanation{
		Gateway: g.Name, Port: req.Port, Listener: r.Listener, FilterChain: r.FilterChain, RouteConfig: r.RouteConfig,
		Action: r.Action.String(), Outcome: r.Outcome(req), Status: r.Status, Location: r.Location, Body: r.Body,
	}
	if r.VirtualHost == "" && r.Action != routesim.NoRoute {
		e.Notes = r.Notes
	}
	origin := func(p ir.Route) string {
		if p.Origin.File == "" {
			return ""
		}
		o := p.Origin
		if prefix != "" && prefix != "." {
			o.File = path.Join(prefix, o.File)
		}
		return o.String()
	}
	at := func(p diag.Pos) string {
		if p.File == "" {
			return ""
		}
		if prefix != "" && prefix != "." {
			p.File = path.Join(prefix, p.File)
		}
		return p.String()
	}
	if r.VirtualHost != "" {
		vh, rt := g.RouteAt(r.RouteConfig, r.VirtualHost, r.RouteIndex)
		if vh != nil && rt != nil {
			e.Security = security(g, r.Listener, r.FilterChain, vh, rt, at)
		}
		e.VirtualHost = &vhostRef{Name: r.VirtualHost}
		if vh != nil {
			e.VirtualHost.Team, e.VirtualHost.Domains = vh.Team, vh.Domains
		}
		if r.RouteIndex >= 0 {
			e.Route = &routeRef{Name: r.Route, Index: r.RouteIndex + 1}
			if rt != nil {
				e.Route.Origin, e.Route.Team = origin(*rt), rt.Team
			}
		}
		for _, m := range ms {
			ref := routeRef{Name: m.Name, Index: m.Index + 1}
			if _, mr := g.RouteAt(r.RouteConfig, r.VirtualHost, m.Index); mr != nil {
				ref.Origin, ref.Team = origin(*mr), mr.Team
			}
			e.Misses = append(e.Misses, miss{ref, m.Reason})
		}
	}
	if r.Action != routesim.Forward {
		return e
	}
	e.Cluster, e.Path, e.Host = r.Cluster, r.Path, r.Host
	for _, w := range r.Weights {
		e.Weights = append(e.Weights, weight{w.Cluster, w.Weight})
	}
	for _, h := range r.RequestHeaders {
		e.ReqAdd = append(e.ReqAdd, header{h.Name, h.Value})
	}
	for _, h := range r.ResponseHeaders {
		e.RespAdd = append(e.RespAdd, header{h.Name, h.Value})
	}
	e.ReqRemove, e.RespRemove = r.RequestHeadersRemoved, r.ResponseHeadersRemoved
	e.Timeout = "none"
	if r.Timeout > 0 {
		e.Timeout = r.Timeout.String()
	}
	if p := r.Retry; p != nil {
		// Envoy retries once when num_retries is unset.
		n := uint32(1)
		if p.GetNumRetries() != nil {
			n = p.GetNumRetries().GetValue()
		}
		e.Retry = fmt.Sprintf("on %s, up to %d", p.GetRetryOn(), n)
		if t := p.GetPerTryTimeout(); t != nil {
			e.Retry += ", each try " + t.AsDuration().String()
		}
	}
	for _, m := range r.Mirrors {
		e.Mirrors = append(e.Mirrors, fmt.Sprintf("%s (%s%%)", m.Cluster, trimFloat(m.Percent)))
	}
	return e
}

// security is the rules a request routed by rt meets: the client
// certificates of the filter chain that took the connection, then the
// route's effective rules in the order of their filters.
func security(g *ir.Gateway, listener, chain string, vh *ir.VirtualHost, rt *ir.Route, at func(diag.Pos) string) []rule {
	var rules []diff.SecurityRule
	for _, l := range g.Listeners {
		if l.Name != listener {
			continue
		}
		for _, fc := range l.Chains {
			if fc.Name == chain {
				if c := diff.DescribeClientCertificates(fc.ClientCertificates); c != nil {
					rules = append(rules, *c)
				}
			}
		}
	}
	rules = append(rules, diff.DescribeSecurity(vh.Effective(rt))...)
	out := make([]rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, rule{Feature: r.Feature, Rule: r.Words, Level: string(r.From.Level), Name: r.From.Name, Origin: at(r.From.Pos), Team: r.From.Team})
	}
	return out
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

func writeExplanation(w io.Writer, req *routesim.Request, exps []explanation, maxMisses int) {
	fmt.Fprintln(w, req.String())
	for _, e := range exps {
		fmt.Fprintf(w, "\ngateway %s", e.Gateway)
		if e.Action == routesim.NoListener.String() {
			fmt.Fprintf(w, ": no listener or filter chain takes the connection (port %d)\n", e.Port)
			continue
		}
		fmt.Fprintf(w, ", listener %s (port %d)", e.Listener, e.Port)
		if e.FilterChain != "" {
			fmt.Fprintf(w, ", filter chain %s", e.FilterChain)
		}
		if e.RouteConfig == "" {
			// A TCP proxy: the connection is not HTTP.
			fmt.Fprintln(w)
			for _, n := range e.Notes {
				fmt.Fprintf(w, "  %s\n", n)
			}
			fmt.Fprintf(w, "  → %s\n", e.Outcome)
			continue
		}
		fmt.Fprintf(w, ", routes %s\n", e.RouteConfig)
		if e.VirtualHost == nil && len(e.Notes) > 0 {
			// The connection manager answered before routing.
			for _, n := range e.Notes {
				fmt.Fprintf(w, "  %s\n", n)
			}
			fmt.Fprintf(w, "  → %s\n", e.Outcome)
			continue
		}
		if e.VirtualHost == nil {
			fmt.Fprintf(w, "  no virtual host serves %q: Envoy answers 404\n", req.Authority)
			continue
		}
		fmt.Fprintf(w, "  virtual host %s%s: %s\n", e.VirtualHost.Name, teamOf(e.VirtualHost.Team), strings.Join(e.VirtualHost.Domains, ", "))
		if e.Route != nil {
			fmt.Fprintf(w, "  route #%d", e.Route.Index)
			if e.Route.Name != "" {
				fmt.Fprintf(w, " %s", e.Route.Name)
			}
			if e.Route.Origin != "" {
				fmt.Fprintf(w, " at %s", e.Route.Origin)
			}
			fmt.Fprintf(w, "%s\n", teamOf(e.Route.Team))
		} else {
			fmt.Fprintln(w, "  no route matches")
		}
		fmt.Fprintf(w, "  → %s\n", e.Outcome)
		if len(e.Weights) > 1 {
			fmt.Fprintf(w, "    random value %d picks %s\n", req.Random, e.Cluster)
		}
		if e.Path != "" && e.Path != orSlash(req.Path) {
			fmt.Fprintf(w, "    path %s → %s\n", orSlash(req.Path), e.Path)
		}
		if e.Host != "" && !strings.EqualFold(routesim.Host(e.Host), routesim.Host(req.Authority)) {
			fmt.Fprintf(w, "    host %s → %s\n", req.Authority, e.Host)
		}
		writeHeaderOps(w, "request headers", e.ReqAdd, e.ReqRemove)
		writeHeaderOps(w, "response headers", e.RespAdd, e.RespRemove)
		if e.Timeout != "" {
			fmt.Fprintf(w, "    timeout %s\n", e.Timeout)
		}
		if e.Retry != "" {
			fmt.Fprintf(w, "    retry %s\n", e.Retry)
		}
		for _, m := range e.Mirrors {
			fmt.Fprintf(w, "    mirrored to %s\n", m)
		}
		writeSecurity(w, e.Security)
		if len(e.Misses) == 0 {
			continue
		}
		fmt.Fprintf(w, "  routes before it that did not match, closest first:\n")
		for i := len(e.Misses) - 1; i >= 0; i-- {
			if len(e.Misses)-1-i == maxMisses {
				fmt.Fprintf(w, "    … %d more (--misses N shows more)\n", i+1)
				break
			}
			m := e.Misses[i]
			fmt.Fprintf(w, "    #%d", m.Index)
			if m.Name != "" {
				fmt.Fprintf(w, " %s", m.Name)
			}
			if m.Origin != "" {
				fmt.Fprintf(w, " at %s", m.Origin)
			}
			fmt.Fprintf(w, ": %s\n", m.Reason)
		}
	}
}

func writeSecurity(w io.Writer, rules []rule) {
	if len(rules) == 0 {
		return
	}
	fmt.Fprintln(w, "  security:")
	for _, r := range rules {
		fmt.Fprintf(w, "    %s\n      set at %s", r.Rule, r.Level)
		if r.Name != "" {
			fmt.Fprintf(w, " %s", r.Name)
		}
		if r.Origin != "" {
			fmt.Fprintf(w, ", %s", r.Origin)
		}
		fmt.Fprintf(w, "%s\n", teamOf(r.Team))
	}
}

func writeHeaderOps(w io.Writer, what string, add []header, remove []string) {
	if len(add) == 0 && len(remove) == 0 {
		return
	}
	var parts []string
	for _, h := range add {
		parts = append(parts, "+ "+h.Name+": "+h.Value)
	}
	for _, n := range remove {
		parts = append(parts, "- "+n)
	}
	fmt.Fprintf(w, "    %s: %s\n", what, strings.Join(parts, "; "))
}

func teamOf(t string) string {
	if t == "" {
		return ""
	}
	return " (team " + t + ")"
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
