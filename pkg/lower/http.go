package lower

import (
	"cmp"
	"slices"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// The HTTP features beyond routing and security: compression, fault
// injection, hedging, the gRPC match, upstream behaviour and the gateway's
// observability (docs/reference.md).

// grpcContentType is what every gRPC request's content-type starts with
// ("application/grpc", "application/grpc+proto", ...).
const grpcContentType = "application/grpc"

// grpcMatch turns the gRPC sugar into the path and header conditions a
// gRPC call is matched by: the exact path /service/method, or the prefix
// /service/ for every method of the service.
func grpcMatch(g *intent.GRPCMatch, out *ir.Match) {
	if g.Method != "" {
		out.PathKind, out.Path = ir.PathExact, "/"+g.Service+"/"+g.Method
	} else {
		out.PathKind, out.Path = ir.PathPrefix, "/"+g.Service+"/"
	}
	for _, h := range out.Headers {
		if h.Name == "content-type" {
			return // the route says itself what content type it takes
		}
	}
	out.Headers = append(out.Headers, ir.HeaderMatch{Name: "content-type", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: grpcContentType}})
}

// compressionAlgorithms are the algorithms in the order a client that
// accepts several equally is served: the densest first.
var compressionAlgorithms = []string{"brotli", "zstd", "gzip"}

// forwardOnlyHTTP refuses, on a route that redirects or responds itself,
// the HTTP features that act on a forwarded request.
func (l *lowerer) forwardOnlyHTTP(d *intent.Doc, path []any, rt *intent.Route) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"fault", rt.Fault != nil}, {"hedge", rt.Hedge != nil}} {
		if f.set {
			p := append(slices.Clone(path), f.name)
			l.diags.Errorf(d.KeyPos(p...), "invalid-value", "%s: %s applies only to routes that forward to backends", intent.Path(p...), f.name)
		}
	}
}

// compression lowers a compression block; nil when it has errors.
func (l *lowerer) compression(d *intent.Doc, path []any, c *intent.Compression) *ir.Compression {
	if c == nil {
		return nil
	}
	at := func(p ...any) []any { return under(path, p...) }
	if c.Disabled {
		if len(c.Algorithms) > 0 || len(c.ContentTypes) > 0 || c.MinLength != nil {
			l.diags.Errorf(d.KeyPos(at("disabled")...), "invalid-value", "%s: disabled: true switches compression off, so it takes no other settings", intent.Path(path...))
			return nil
		}
		return &ir.Compression{Disabled: true}
	}
	out := &ir.Compression{Algorithms: []string{"gzip"}, ContentTypes: sortedSet(lowerNames(c.ContentTypes))}
	if len(c.Algorithms) > 0 {
		out.Algorithms = nil
		seen := map[string]int{}
		for i, a := range c.Algorithms {
			if j, dup := seen[a]; dup {
				l.diags.Errorf(d.Pos(at("algorithms", i)...), "invalid-value", "%s[%d]: %s is listed twice", intent.Path(at("algorithms")...), i, a).
					Note(d.Pos(at("algorithms", j)...), "first listed here")
				return nil
			}
			seen[a] = i
			out.Algorithms = append(out.Algorithms, a)
		}
		// The filter chain fixes the order of preference (pkg/xds).
		slices.SortFunc(out.Algorithms, func(a, b string) int {
			return slices.Index(compressionAlgorithms, a) - slices.Index(compressionAlgorithms, b)
		})
	}
	if c.MinLength != nil {
		out.MinLength = u32(c.MinLength)
	}
	return out
}

// fault lowers a route's fault injection.
func (l *lowerer) fault(d *intent.Doc, path []any, f *intent.Fault) *ir.Fault {
	if f == nil {
		return nil
	}
	at := func(p ...any) []any { return under(path, p...) }
	if f.Delay == nil && f.Abort == nil {
		l.diags.Errorf(d.KeyPos(path...), "oneof", "%s: set delay, abort or both", intent.Path(path...))
		return nil
	}
	out := &ir.Fault{MaxActiveFaults: u32(f.MaxActiveFaults)}
	ok := true
	if dl := f.Delay; dl != nil {
		if !l.oneOf(d, at("delay"), false, []string{"fixed", "fromHeader"}, []bool{dl.Fixed != "", dl.FromHeader}) {
			return nil
		}
		out.Delay = &ir.FaultDelay{FromHeader: dl.FromHeader, Percent: percentOr(dl.Percent, 100)}
		if dl.Fixed != "" {
			v := l.positive(d, dl.Fixed, at("delay", "fixed")...)
			if v == nil {
				ok = false
			} else {
				out.Delay.Fixed = *v
			}
		}
	}
	if ab := f.Abort; ab != nil {
		if !l.oneOf(d, at("abort"), false, []string{"status", "grpcStatus", "fromHeader"}, []bool{ab.Status != 0, ab.GRPCStatus != nil, ab.FromHeader}) {
			return nil
		}
		out.Abort = &ir.FaultAbort{Status: uint32(ab.Status), GRPCStatus: u32(ab.GRPCStatus), FromHeader: ab.FromHeader, Percent: percentOr(ab.Percent, 100)}
	}
	if !ok {
		return nil
	}
	if p := l.m.Project; p == nil || p.Spec.Policies == nil || p.Spec.Policies.Builtin.FaultInjection == nil {
		l.diags.Warnf(d.KeyPos(path...), "fault-injection", "%s: this route injects faults on every gateway that serves it; switch on the faultInjection built-in policy in edgectl.yaml to allow faults only on the gateways meant for them", intent.Path(path...))
	}
	return out
}

func percentOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// hedge checks that hedging has the per-try timeout it reacts to.
func (l *lowerer) hedge(d *intent.Doc, path []any, h *intent.Hedge, r *ir.Route) {
	if h == nil || !h.OnPerTryTimeout {
		return
	}
	if r.Retry == nil || r.Retry.PerTryTimeout == nil {
		l.diags.Errorf(d.KeyPos(append(slices.Clone(path), "onPerTryTimeout")...), "hedge", "%s.onPerTryTimeout: hedging sends a second request when the first exceeds its per-try timeout, and this route has none; set retries.perTryTimeout", intent.Path(path...))
		return
	}
	r.HedgeOnPerTryTimeout = true
}

// upstream lowers the upstream behaviour of a backend: automatic HTTP
// protocol, slow start, retry budget and endpoint priorities.
func (l *lowerer) upstream(d *intent.Doc, s intent.BackendSpec, c *ir.Cluster) {
	if s.Protocol == "AUTO" {
		c.AutoHTTP = true
		if s.TLS == nil {
			l.diags.Errorf(d.Pos("spec", "protocol"), "upstream-protocol", "spec.protocol: AUTO chooses HTTP/2 or HTTP/1.1 by ALPN during the TLS handshake, so it needs spec.tls; without TLS set HTTP1 or HTTP2")
		}
	}
	if ss := s.SlowStart; ss != nil {
		if w := l.positive(d, ss.Window, "spec", "slowStart", "window"); w != nil {
			c.SlowStart = &ir.SlowStart{Window: *w, Aggression: ss.Aggression, MinWeightPercent: ss.MinWeightPercent}
		}
		if c.LB != ir.RoundRobin && c.LB != ir.LeastRequest {
			l.diags.Errorf(d.KeyPos("spec", "slowStart"), "slow-start", "spec.slowStart: Envoy ramps up new endpoints only with RoundRobin and LeastRequest, and this backend balances with %s", c.LB)
		}
	}
	if cb := s.CircuitBreaker; cb != nil && cb.RetryBudget != nil && c.CircuitBreaker != nil {
		c.CircuitBreaker.RetryBudget = &ir.RetryBudget{Percent: cb.RetryBudget.Percent, MinConcurrency: u32(cb.RetryBudget.MinConcurrency)}
	}
	for i := range c.Endpoints {
		if i < len(s.Endpoints) {
			c.Endpoints[i].Priority = uint32(s.Endpoints[i].Priority)
		}
	}
	if len(c.Endpoints) > 0 {
		// Envoy wants priorities numbered from 0 without gaps.
		var prios []uint32
		for _, ep := range c.Endpoints {
			prios = append(prios, ep.Priority)
		}
		prios = slices.Compact(slices.Sorted(slices.Values(prios)))
		for i, p := range prios {
			if uint32(i) != p {
				j := slices.IndexFunc(s.Endpoints, func(e intent.Endpoint) bool { return uint32(e.Priority) == p })
				l.diags.Errorf(d.Pos("spec", "endpoints", j, "priority"), "invalid-value", "spec.endpoints[%d].priority: priority %d has no priority %d before it; number priorities from 0 without gaps", j, p, i)
				break
			}
		}
	}
}

// observability lowers the gateway's request id, tracing and access log
// sinks. It needs the backends lowered.
func (l *lowerer) observability(gw *intent.Gateway, g *ir.Gateway) {
	d, s := gw.Doc, gw.Spec
	if r := s.RequestID; r != nil {
		g.RequestID = &ir.RequestID{Generate: r.Generate == nil || *r.Generate, PreserveExternal: r.PreserveExternal, AlwaysInResponse: r.AlwaysInResponse}
	}
	if t := s.Tracing; t != nil {
		if l.collector(d, "tracing", t.Backend, "spec", "tracing", "backend") {
			g.Tracing = &ir.Tracing{Cluster: t.Backend, ServiceName: cmp.Or(t.ServiceName, d.Name)}
			if sm := t.Sampling; sm != nil {
				g.Tracing.Random, g.Tracing.Client, g.Tracing.Overall = sm.Random, sm.Client, sm.Overall
			}
		}
	}
	for i, a := range s.AccessLogs {
		path := []any{"spec", "accessLogs", i}
		at := func(p ...any) []any { return under(path, p...) }
		if !l.oneOf(d, path, false, []string{"stdout", "stderr", "file", "openTelemetry"}, []bool{a.Stdout, a.Stderr, a.File != "", a.OpenTelemetry != nil}) {
			continue
		}
		sink := &ir.AccessLogSink{JSON: a.Format != "text", Text: a.Text}
		switch {
		case a.Stdout:
			sink.Kind = ir.LogStdout
		case a.Stderr:
			sink.Kind = ir.LogStderr
		case a.File != "":
			sink.Kind, sink.Path = ir.LogFile, a.File
		default:
			sink.Kind, sink.LogName = ir.LogOTel, cmp.Or(a.OpenTelemetry.LogName, d.Name)
			if !l.collector(d, "the OpenTelemetry access log", a.OpenTelemetry.Backend, at("openTelemetry", "backend")...) {
				continue
			}
			sink.Cluster = a.OpenTelemetry.Backend
		}
		if a.Text != "" && sink.JSON {
			l.diags.Errorf(d.KeyPos(at("text")...), "invalid-value", "%s.text: a text format needs format: text", intent.Path(path...))
			continue
		}
		if len(a.Fields) > 0 && !sink.JSON {
			l.diags.Errorf(d.KeyPos(at("fields")...), "invalid-value", "%s.fields: JSON fields need format json", intent.Path(path...))
			continue
		}
		for _, k := range keys(a.Fields) {
			sink.Fields = append(sink.Fields, ir.Header{Name: k, Value: a.Fields[k]})
		}
		if f := a.Filter; f != nil {
			if f.StatusAtLeast != nil {
				sink.StatusAtLeast = uint32(*f.StatusAtLeast)
			}
			sink.ResponseFlags = sortedSet(f.ResponseFlags)
		}
		g.AccessLogs = append(g.AccessLogs, sink)
	}
}

// collector resolves the backend of an OpenTelemetry collector, which is
// reached over gRPC and so must speak HTTP/2.
func (l *lowerer) collector(d *intent.Doc, what, name string, path ...any) bool {
	if !l.backendRef(d, name, path...) {
		return false
	}
	c := l.clusters[name]
	if c == nil {
		return false // reported with the backend
	}
	if !c.HTTP2 {
		l.diags.Errorf(d.Pos(path...), "service-protocol", "%s: %s sends to an OpenTelemetry collector over gRPC, so its backend must speak HTTP/2, but backend %q has protocol %s; set its protocol to GRPC",
			intent.Path(path...), what, name, protocolOf(l.backends[name])).
			Note(l.backends[name].Doc.Pos("spec"), "backend %q is declared here", name)
		return false
	}
	return true
}

// observabilityClusters marks used the backends the gateway sends traces
// and logs to.
func observabilityClusters(g *ir.Gateway, clusters map[string]bool) {
	if g.Tracing != nil {
		clusters[g.Tracing.Cluster] = true
	}
	for _, a := range g.AccessLogs {
		if a.Kind == ir.LogOTel {
			clusters[a.Cluster] = true
		}
	}
}
