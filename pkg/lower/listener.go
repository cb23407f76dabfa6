package lower

import (
	"fmt"
	"slices"
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// knownCiphers are the cipher suite names BoringSSL, and so Envoy, knows
// for TLS 1.2 and below; TLS 1.3 suites are not configurable.
var knownCiphers = []string{
	"AES128-GCM-SHA256", "AES128-SHA", "AES256-GCM-SHA384", "AES256-SHA",
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-PSK-AES128-CBC-SHA", "ECDHE-PSK-AES256-CBC-SHA", "ECDHE-PSK-CHACHA20-POLY1305",
	"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-SHA",
	"ECDHE-RSA-CHACHA20-POLY1305", "PSK-AES128-CBC-SHA", "PSK-AES256-CBC-SHA", "DES-CBC3-SHA",
}

// listenerSettings lowers what a listener says about its connections.
func (l *lowerer) listenerSettings(d *intent.Doc, path []any, ls *intent.Listener, li *ir.Listener, gatewayHTTP3 bool) {
	at := func(p ...any) []any { return under(path, p...) }
	li.ProxyProtocol = ls.ProxyProtocol
	li.MaxConnections = uint64(ls.MaxConnections)
	if li.Protocol == ir.TCP {
		for _, f := range []struct {
			name string
			set  bool
		}{{"timeouts", ls.Timeouts != nil}, {"maxRequestHeadersKB", ls.MaxRequestHeadersKB != 0}, {"http2", ls.HTTP2 != nil}, {"paths", ls.Paths != nil}, {"http3", ls.HTTP3 != nil}} {
			if f.set {
				l.diags.Errorf(d.KeyPos(at(f.name)...), "invalid-value", "%s.%s: a TCP listener does not speak HTTP; this setting is for HTTP and HTTPS listeners", intent.Path(path...), f.name)
			}
		}
		if ls.TCP == nil {
			l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: a TCP listener needs tcp.backend or tcp.backends", intent.Path(path...))
			return
		}
		li.TCP = l.tcpProxy(d, at("tcp"), ls.TCP)
		return
	}
	if ls.TCP != nil {
		l.diags.Errorf(d.KeyPos(at("tcp")...), "invalid-value", "%s.tcp: only TCP listeners forward connections as bytes", intent.Path(path...))
	}
	h := ir.DefaultHTTPSettings()
	li.HTTP = h
	if t := ls.Timeouts; t != nil {
		set := func(dst *time.Duration, s, name string) {
			if v := l.duration(d, s, at("timeouts", name)...); v != nil {
				*dst = *v
			}
		}
		set(&h.IdleTimeout, t.Idle, "idle")
		set(&h.StreamIdleTimeout, t.StreamIdle, "streamIdle")
		set(&h.RequestHeadersTimeout, t.RequestHeaders, "requestHeaders")
		set(&h.RequestTimeout, t.Request, "request")
		set(&h.MaxConnectionDuration, t.MaxConnectionDuration, "maxConnectionDuration")
	}
	if ls.MaxRequestHeadersKB != 0 {
		h.MaxRequestHeadersKB = uint32(ls.MaxRequestHeadersKB)
	}
	if s := ls.HTTP2; s != nil {
		if s.MaxConcurrentStreams != 0 {
			h.MaxConcurrentStreams = uint32(s.MaxConcurrentStreams)
		}
		if s.InitialStreamWindowSize != 0 {
			h.InitialStreamWindow = uint32(s.InitialStreamWindowSize)
		}
		if s.InitialConnectionWindowSize != 0 {
			h.InitialConnWindow = uint32(s.InitialConnectionWindowSize)
		}
	}
	if p := ls.Paths; p != nil {
		if p.Normalize != nil {
			h.NormalizePath = *p.Normalize
		}
		if p.MergeSlashes != nil {
			h.MergeSlashes = *p.MergeSlashes
		}
		if p.EscapedSlashes != "" {
			h.EscapedSlashes = ir.EscapedSlashes(p.EscapedSlashes)
		}
	}
	li.HTTP3 = gatewayHTTP3 && li.Protocol == ir.HTTPS
	if ls.HTTP3 != nil {
		li.HTTP3 = *ls.HTTP3
		if li.HTTP3 && li.Protocol != ir.HTTPS {
			l.diags.Errorf(d.Pos(at("http3")...), "http3", "%s.http3: HTTP/3 runs over QUIC, which always encrypts; only an HTTPS listener, with its certificates, can serve it", intent.Path(path...))
			li.HTTP3 = false
		}
	}
	if li.HTTP3 && li.TLS != nil && li.TLS.MaxVersion != "" && li.TLS.MaxVersion < "1.3" {
		l.diags.Errorf(d.Pos(at("tls", "maxVersion")...), "http3", "%s.tls.maxVersion: HTTP/3 needs TLS 1.3, which QUIC is built on, but this listener stops at %s", intent.Path(path...), li.TLS.MaxVersion)
		li.HTTP3 = false
	}
	if t := ls.TLS; t != nil && li.TLS != nil {
		li.TLS.CipherSuites = l.cipherSuites(d, at("tls", "cipherSuites"), t.CipherSuites)
		li.TLS.ECDHCurves = slices.Clone(t.ECDHCurves)
	}
}

// cipherSuites checks cipher suite names, one or an equal-preference group
// "[A|B]", against the names BoringSSL knows.
func (l *lowerer) cipherSuites(d *intent.Doc, path []any, suites []string) []string {
	for i, s := range suites {
		for _, name := range splitCipherGroup(s) {
			if !slices.Contains(knownCiphers, name) {
				msg := fmt.Sprintf("%s[%d]: Envoy knows no cipher suite %q", intent.Path(path...), i, name)
				if sug := diag.Suggest(name, knownCiphers); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				l.diags.Errorf(d.Pos(append(slices.Clone(path), i)...), "tls", "%s", msg)
			}
		}
	}
	return slices.Clone(suites)
}

func splitCipherGroup(s string) []string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// tcpProxy lowers where a TCP listener or a passthrough virtual host sends
// its connections.
func (l *lowerer) tcpProxy(d *intent.Doc, path []any, t *intent.TCPProxy) *ir.TCPProxy {
	at := func(p ...any) []any { return under(path, p...) }
	if !l.oneOf(d, path, false, []string{"backend", "backends"}, []bool{t.Backend != "", len(t.Backends) > 0}) {
		return nil
	}
	out := &ir.TCPProxy{IdleTimeout: l.duration(d, t.IdleTimeout, at("idleTimeout")...)}
	if t.Backend != "" {
		if !l.backendRef(d, t.Backend, at("backend")...) {
			return nil
		}
		out.Clusters = []ir.WeightedCluster{{Cluster: t.Backend}}
		return out
	}
	before := len(l.diags)
	out.Clusters = l.weighted(d, at("backends"), t.Backends)
	if l.diags[before:].HasErrors() || len(out.Clusters) == 0 {
		return nil
	}
	return out
}

// passthrough lowers a virtual host that passes TLS through: its hostnames
// become the server names of a filter chain of its own on each HTTPS
// listener, with a TCP proxy to its backends. It has none of the HTTP
// settings of a virtual host, since Envoy never sees the requests.
func (l *lowerer) passthrough(gb *gatewayBuilder, vh *intent.VirtualHost, before int) {
	d, s := vh.Doc, vh.Spec
	for _, f := range []struct {
		name string
		set  bool
	}{{"tls", s.TLS != nil}, {"routes", len(s.Routes) > 0}, {"includes", len(s.Includes) > 0}, {"headers", s.Headers != nil}, {"security", s.Security != nil}, {"httpsRedirect", s.HTTPSRedirect != nil}} {
		if f.set {
			l.diags.Errorf(d.KeyPos("spec", f.name), "passthrough", "spec.%s: a virtual host with spec.passthrough hands the encrypted connection to its backend, so Envoy sees no requests and has no %s to apply", f.name, f.name).
				Note(d.KeyPos("spec", "passthrough"), "passthrough is set here")
		}
	}
	proxy := l.tcpProxy(d, []any{"spec", "passthrough"}, s.Passthrough)
	var lbs []*listenerBuilder
	if len(s.Listeners) == 0 {
		for _, lb := range gb.listeners {
			if lb.ir.Protocol == ir.HTTPS {
				lbs = append(lbs, lb)
			}
		}
		if len(lbs) == 0 {
			l.diags.Errorf(d.KeyPos("spec", "passthrough"), "passthrough", "spec.passthrough: gateway %q has no HTTPS listener, where connections are told apart by SNI", gb.g.Name).
				Note(gb.src.Doc.KeyPos("spec", "listeners"), "the listeners of gateway %q", gb.g.Name)
		}
	}
	for i, name := range s.Listeners {
		lb := gb.listener(name)
		switch {
		case lb == nil:
			l.unknown(d.Pos("spec", "listeners", i), "listener", name, listenerNames(gb), fmt.Sprintf(" in gateway %q", gb.g.Name))
		case lb.ir.Protocol != ir.HTTPS:
			l.diags.Errorf(d.Pos("spec", "listeners", i), "passthrough", "listener %q is %s; TLS passthrough needs an HTTPS listener, where connections are told apart by SNI", name, lb.ir.Protocol).
				Note(gb.src.Doc.Pos("spec", "listeners", lb.index, "protocol"), "listener %q is declared here", name)
		default:
			lbs = append(lbs, lb)
		}
	}
	claimed := true
	for _, lb := range lbs {
		claimed = l.claim(gb, lb, vh) && claimed
	}
	if l.diags[before:].HasErrors() || !claimed || proxy == nil {
		gb.failed++
		return
	}
	for _, lb := range lbs {
		lb.chains["passthrough/"+d.Name] = &chainBuilder{chain: &ir.FilterChain{
			Name:            "passthrough." + d.Name,
			ServerNames:     slices.Clone(s.Hostnames),
			Passthrough:     proxy,
			PassthroughHost: d.Name,
			Team:            d.Team,
		}}
	}
}

// claimFallback makes a virtual host the one whose certificate a listener
// gives clients that send no server name; there is one such per listener.
func (l *lowerer) claimFallback(gb *gatewayBuilder, lb *listenerBuilder, vh *intent.VirtualHost) bool {
	if lb.fallback != nil && lb.fallback != vh {
		l.diags.Errorf(vh.Doc.Pos("spec", "tls", "fallback"), "fallback-certificate", "listener %q of gateway %q already gives clients without SNI the certificate of %s; a listener has one fallback", lb.ir.Name, gb.g.Name, lb.fallback.Doc.ID()).
			Note(lb.fallback.Doc.Pos("spec", "tls", "fallback"), "%s is the fallback here", lb.fallback.Doc.ID())
		return false
	}
	lb.fallback = vh
	return true
}
