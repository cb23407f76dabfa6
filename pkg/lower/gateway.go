package lower

import (
	"cmp"
	"fmt"
	"net"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// gatewayBuilder collects one gateway's IR while virtual hosts attach to it.
type gatewayBuilder struct {
	src       *intent.Gateway
	g         *ir.Gateway
	listeners []*listenerBuilder // in declaration order
	redirect  bool               // the gateway's httpsRedirect default
	defaults  routeDefaults
	claims    map[string]map[string]claim // listener → hostname → first claim
	vhosts    int                         // virtual hosts that name this gateway
	failed    int                         // of which dropped for their errors
}

type routeDefaults struct {
	timeout, idleTimeout *time.Duration
	retries              *intent.Retries
	retriesPath          []any
	security             *ir.Security
}

type listenerBuilder struct {
	ir     *ir.Listener
	index  int
	vhosts []*ir.VirtualHost        // HTTP
	chains map[string]*chainBuilder // HTTPS, by certificate and client certificates (chainKey)
	// fallback is the virtual host whose certificate clients without SNI
	// get (HTTPS).
	fallback *intent.VirtualHost
}

type chainBuilder struct {
	chain  *ir.FilterChain
	vhosts []*ir.VirtualHost
}

type claim struct {
	vh    *intent.VirtualHost
	index int
}

func (l *lowerer) lowerGateways() map[string]*gatewayBuilder {
	out := map[string]*gatewayBuilder{}
	for _, name := range keys(l.gateways) {
		if gb := l.gateway(l.gateways[name]); gb != nil {
			out[name] = gb
		}
	}
	return out
}

func (l *lowerer) gateway(gw *intent.Gateway) *gatewayBuilder {
	d, s := gw.Doc, gw.Spec
	g := &ir.Gateway{Name: d.Name, NodeID: d.Name, NodeCluster: d.Name, XDSDir: DefaultXDSDir,
		TrustedProxyHops: uint32(s.TrustedProxyHops)}
	gb := &gatewayBuilder{src: gw, g: g, redirect: true, claims: map[string]map[string]claim{}}
	if p := l.m.Project; p != nil && p.Spec.Regex != nil && p.Spec.Regex.MaxProgramSize > 0 {
		g.RE2MaxProgramSize = uint32(p.Spec.Regex.MaxProgramSize)
	}
	if s.Node != nil {
		g.NodeID = cmp.Or(s.Node.ID, g.NodeID)
		g.NodeCluster = cmp.Or(s.Node.Cluster, g.NodeCluster)
	}
	if s.Admin != nil {
		addr := cmp.Or(s.Admin.Address, "127.0.0.1")
		if net.ParseIP(addr) == nil {
			l.diags.Errorf(d.Pos("spec", "admin", "address"), "invalid-value", "spec.admin.address: %q is not an IP address; Envoy binds only to addresses", addr)
		}
		g.Admin = &ir.SocketAddress{Address: addr, Port: uint32(s.Admin.Port)}
	}
	if a := s.AccessLog; a != nil {
		g.AccessLog = &ir.AccessLog{Path: cmp.Or(a.Path, DefaultAccessLogPath), JSON: a.Format != "text"}
		for _, k := range keys(a.Fields) {
			g.AccessLog.Fields = append(g.AccessLog.Fields, ir.Header{Name: k, Value: a.Fields[k]})
		}
		if !g.AccessLog.JSON && len(a.Fields) > 0 {
			l.diags.Errorf(d.KeyPos("spec", "accessLog", "fields"), "invalid-value", "spec.accessLog.fields: extra fields need format json")
		}
	}
	if s.HTTPSRedirect != nil {
		gb.redirect = *s.HTTPSRedirect
	}
	if s.XDS != nil && s.XDS.Directory != "" {
		g.XDSDir = path.Clean(s.XDS.Directory)
	}
	if sds := s.SDS; sds != nil {
		if l.oneOf(d, []any{"spec", "sds"}, false, []string{"address", "pipe"}, []bool{sds.Address != "", sds.Pipe != ""}) {
			if sds.Address != "" && sds.Port == 0 {
				l.diags.Errorf(d.KeyPos("spec", "sds"), "invalid-value", "spec.sds: an SDS server at an address needs a port")
			}
			if sds.Pipe != "" && sds.Port != 0 {
				l.diags.Errorf(d.KeyPos("spec", "sds", "port"), "invalid-value", "spec.sds.port: a Unix socket (pipe) has no port")
			}
			g.SDS = &ir.SDSServer{Address: sds.Address, Port: uint32(sds.Port), Pipe: sds.Pipe}
		}
	}
	if df := s.Defaults; df != nil {
		gb.defaults.timeout = l.duration(d, df.Timeout, "spec", "defaults", "timeout")
		gb.defaults.idleTimeout = l.duration(d, df.IdleTimeout, "spec", "defaults", "idleTimeout")
		gb.defaults.retries = df.Retries
		gb.defaults.retriesPath = []any{"spec", "defaults", "retries"}
		gb.defaults.security = l.security(d, []any{"spec", "defaults", "security"}, df.Security, origin{level: ir.LevelGateway, name: d.Name, team: d.Team})
	}
	l.observability(gw, g)
	l.listeners(gb)
	return gb
}

func (l *lowerer) listeners(gb *gatewayBuilder) {
	d, s := gb.src.Doc, gb.src.Spec
	if len(s.Listeners) == 0 {
		l.diags.Errorf(d.KeyPos("spec", "listeners"), "invalid-value", "spec.listeners: a gateway needs at least one listener")
	}
	byName := map[string]int{}
	for i, ls := range s.Listeners {
		path := []any{"spec", "listeners", i}
		if j, dup := byName[ls.Name]; dup {
			l.diags.Errorf(d.Pos(append(path, "name")...), "duplicate-name", "listener %q is declared twice in gateway %q", ls.Name, d.Name).
				Note(d.Pos("spec", "listeners", j, "name"), "first declared here")
			continue
		}
		byName[ls.Name] = i
		addr := cmp.Or(ls.Address, "0.0.0.0")
		if net.ParseIP(addr) == nil {
			l.diags.Errorf(d.Pos(append(path, "address")...), "invalid-value", "%s.address: %q is not an IP address; Envoy binds only to addresses", intent.Path(path...), addr)
		}
		for _, other := range gb.listeners {
			if other.ir.Port == uint32(ls.Port) && (other.ir.Address == addr || isWildcard(other.ir.Address) || isWildcard(addr)) {
				l.diags.Errorf(d.Pos(append(path, "port")...), "port-conflict", "listener %q binds %s:%d, which listener %q already binds", ls.Name, addr, ls.Port, other.ir.Name).
					Note(d.Pos("spec", "listeners", other.index, "port"), "listener %q is declared here", other.ir.Name)
			}
		}
		li := &ir.Listener{Name: ls.Name, Address: addr, Port: uint32(ls.Port), Protocol: ir.Protocol(ls.Protocol), StatsPrefix: ls.StatsPrefix, Origin: d.Pos(append(path, "name")...)}
		if ls.TLS != nil && ls.TLS.MinVersion != "" {
			li.Origin = d.Pos(append(path, "tls", "minVersion")...)
		}
		if li.Protocol == ir.HTTPS {
			li.TLS = &ir.ListenerTLS{MinVersion: DefaultMinTLS, ALPN: DefaultALPN}
			if t := ls.TLS; t != nil {
				li.TLS.MinVersion = cmp.Or(t.MinVersion, li.TLS.MinVersion)
				li.TLS.MaxVersion = t.MaxVersion
				if len(t.ALPN) > 0 {
					li.TLS.ALPN = slices.Clone(t.ALPN)
				}
				if t.MaxVersion != "" && t.MaxVersion < li.TLS.MinVersion {
					l.diags.Errorf(d.Pos(append(path, "tls", "maxVersion")...), "tls", "%s.tls: maxVersion %s is below minVersion %s", intent.Path(path...), t.MaxVersion, li.TLS.MinVersion)
				}
			}
		} else if ls.TLS != nil {
			l.diags.Errorf(d.KeyPos(append(path, "tls")...), "tls", "%s.tls: only HTTPS listeners take TLS settings", intent.Path(path...))
		}
		l.listenerSettings(d, path, &s.Listeners[i], li, s.HTTP3)
		gb.listeners = append(gb.listeners, &listenerBuilder{ir: li, index: i, chains: map[string]*chainBuilder{}})
	}
}

func isWildcard(addr string) bool { return addr == "0.0.0.0" || addr == "::" }

func (gb *gatewayBuilder) listener(name string) *listenerBuilder {
	for _, lb := range gb.listeners {
		if lb.ir.Name == name {
			return lb
		}
	}
	return nil
}

// virtualHosts lowers each virtual host and attaches it to the listeners of
// its gateway.
func (l *lowerer) lowerVirtualHosts(gws map[string]*gatewayBuilder) {
	pre := l.routesAhead(gws)
	for _, vh := range l.m.VirtualHosts {
		d, s := vh.Doc, vh.Spec
		if other := l.firstVirtualHost(d.Name); other != vh {
			continue // a duplicate name, reported by index
		}
		gb, ok := gws[s.Gateway]
		if !ok {
			if _, exists := l.gateways[s.Gateway]; !exists {
				l.unknown(d.Pos("spec", "gateway"), "gateway", s.Gateway, keys(l.gateways))
			}
			continue
		}
		gb.vhosts++
		before := len(l.diags)
		l.hostnames(vh)
		if s.Passthrough != nil {
			l.passthrough(gb, vh, before)
			continue
		}
		if s.Headers != nil {
			l.headerChanges(d, []any{"spec", "headers"}, s.Headers)
		}
		var cert *ir.CertRef
		if s.TLS != nil {
			cert, _ = l.certRef(d, s.TLS.Certificate, false, "spec", "tls", "certificate")
		}
		if cert != nil && cert.SDS && gb.g.SDS == nil {
			l.diags.Errorf(d.Pos("spec", "tls", "certificate"), "tls", "certificate %q comes from an SDS server, but gateway %q has no spec.sds", cert.Name, gb.g.Name).
				Note(gb.src.Doc.KeyPos("spec"), "gateway %q is declared here", gb.g.Name)
		}
		var clientCerts *ir.ClientCertificates
		if s.TLS != nil && s.TLS.ClientCertificates != nil {
			clientCerts = l.clientCertificates(vh, gb)
		}
		sec := ir.Inherit(gb.defaults.security, l.security(d, []any{"spec", "security"}, s.Security, origin{level: ir.LevelVirtualHost, name: d.Name, team: d.Team}))
		lbs := l.selectListeners(gb, vh)
		plain := servesPlain(gb, vh, lbs, cert != nil)
		if clientCerts != nil && plain {
			// Over plain HTTP nobody is asked for a certificate: the same
			// routes would be open to every client.
			l.diags.Errorf(d.KeyPos("spec", "tls", "clientCertificates"), "tls", "spec.tls.clientCertificates: this virtual host also serves its routes over plain HTTP, where no client certificate is asked for; serve it on HTTPS listeners only, or let plain HTTP redirect (httpsRedirect)")
		}
		var routes []*ir.Route
		if a := pre[vh]; a != nil && a.plain == plain {
			routes = a.routes
			l.join(a.fork)
		} else {
			routes = l.routes(vh, gb, plain)
		}
		if l.vhostCompression == nil {
			l.vhostCompression = map[*intent.VirtualHost]*ir.Compression{}
		}
		if c := l.compression(d, []any{"spec", "compression"}, s.Compression); c != nil && !c.Disabled {
			l.vhostCompression[vh] = c
		}
		// Claim hostnames even when the virtual host has other errors, so a
		// conflict with another team shows in the same run.
		claimed := true
		for _, lb := range lbs {
			claimed = l.claim(gb, lb, vh) && claimed
			if s.TLS != nil && s.TLS.Fallback && lb.ir.Protocol == ir.HTTPS {
				claimed = l.claimFallback(gb, lb, vh) && claimed
			}
		}
		if l.diags[before:].HasErrors() || !claimed {
			gb.failed++
			continue
		}
		l.attach(gb, vh, lbs, cert, clientCerts, sec, routes)
	}
}

func (l *lowerer) firstVirtualHost(name string) *intent.VirtualHost {
	return l.virtualHosts[name]
}

func (l *lowerer) hostnames(vh *intent.VirtualHost) {
	d := vh.Doc
	if len(vh.Spec.Hostnames) == 0 {
		l.diags.Errorf(d.KeyPos("spec", "hostnames"), "invalid-value", "spec.hostnames: a virtual host needs at least one hostname")
	}
	seen := map[string]int{}
	for i, h := range vh.Spec.Hostnames {
		if j, dup := seen[h]; dup {
			l.diags.Errorf(d.Pos("spec", "hostnames", i), "duplicate-hostname", "hostname %q is listed twice", h).
				Note(d.Pos("spec", "hostnames", j), "first listed here")
		}
		seen[h] = i
	}
}

// selectListeners returns the listeners a virtual host is served on: those
// it names, or every HTTP listener plus, when it has TLS, every HTTPS one.
func (l *lowerer) selectListeners(gb *gatewayBuilder, vh *intent.VirtualHost) []*listenerBuilder {
	d, s := vh.Doc, vh.Spec
	var out []*listenerBuilder
	unknownListener := false
	if len(s.Listeners) == 0 {
		for _, lb := range gb.listeners {
			if lb.ir.Protocol == ir.HTTP || lb.ir.Protocol == ir.HTTPS && s.TLS != nil {
				out = append(out, lb)
			}
		}
	}
	for i, name := range s.Listeners {
		lb := gb.listener(name)
		if lb == nil {
			l.unknown(d.Pos("spec", "listeners", i), "listener", name, listenerNames(gb), fmt.Sprintf(" in gateway %q", gb.g.Name))
			unknownListener = true
			continue
		}
		if lb.ir.Protocol == ir.TCP {
			l.diags.Errorf(d.Pos("spec", "listeners", i), "invalid-value", "listener %q is a TCP listener, which serves no virtual hosts", name).
				Note(gb.src.Doc.Pos("spec", "listeners", lb.index, "protocol"), "listener %q is declared here", name)
			continue
		}
		if lb.ir.Protocol == ir.HTTPS && s.TLS == nil {
			l.diags.Errorf(d.Pos("spec", "listeners", i), "tls", "listener %q is HTTPS, but this virtual host sets no tls.certificate", name)
			continue
		}
		out = append(out, lb)
	}
	hasHTTPS := slices.ContainsFunc(out, func(lb *listenerBuilder) bool { return lb.ir.Protocol == ir.HTTPS })
	switch {
	case unknownListener:
	case s.TLS != nil && !hasHTTPS && len(s.Listeners) > 0:
		l.diags.Errorf(d.KeyPos("spec", "listeners"), "tls", "spec.listeners: none of these listeners is HTTPS, so the certificate in spec.tls is served nowhere").
			Note(gb.src.Doc.KeyPos("spec", "listeners"), "the listeners of gateway %q", gb.g.Name)
	case s.TLS != nil && !hasHTTPS:
		l.diags.Errorf(d.KeyPos("spec", "tls"), "tls", "spec.tls: gateway %q has no HTTPS listener to serve this certificate on", gb.g.Name).
			Note(gb.src.Doc.KeyPos("spec", "listeners"), "the listeners of gateway %q", gb.g.Name)
	case len(out) == 0 && len(s.Listeners) == 0:
		l.diags.Errorf(d.KeyPos("spec", "hostnames"), "tls", "this virtual host is served on no listener: gateway %q has no HTTP listener, and without spec.tls it cannot be served over HTTPS", gb.g.Name).
			Note(gb.src.Doc.KeyPos("spec", "listeners"), "the listeners of gateway %q", gb.g.Name)
	}
	return out
}

// servesPlain reports whether a virtual host serves its routes on a plain
// HTTP listener; one with a certificate that redirects to HTTPS does not
// (see attach).
func servesPlain(gb *gatewayBuilder, vh *intent.VirtualHost, lbs []*listenerBuilder, tls bool) bool {
	redirect := gb.redirect
	if vh.Spec.HTTPSRedirect != nil {
		redirect = *vh.Spec.HTTPSRedirect
	}
	https := slices.ContainsFunc(lbs, func(lb *listenerBuilder) bool { return lb.ir.Protocol == ir.HTTPS })
	http := slices.ContainsFunc(lbs, func(lb *listenerBuilder) bool { return lb.ir.Protocol == ir.HTTP })
	return http && !(tls && redirect && https)
}

func listenerNames(gb *gatewayBuilder) []string {
	var out []string
	for _, lb := range gb.listeners {
		out = append(out, lb.ir.Name)
	}
	return out
}

// attach adds a lowered virtual host to each selected listener, claiming its
// hostnames there. On an HTTP listener a TLS virtual host only redirects to
// HTTPS unless redirection is switched off.
//
// Virtual hosts sharing a certificate share a filter chain only when they
// ask clients for certificates alike; otherwise each setting gets a chain
// of its own, told apart by server name (SNI), named after the
// certificate and the first virtual host on it.
func (l *lowerer) attach(gb *gatewayBuilder, vh *intent.VirtualHost, lbs []*listenerBuilder, cert *ir.CertRef, clientCerts *ir.ClientCertificates, sec *ir.Security, routes []*ir.Route) {
	s := vh.Spec
	redirect := gb.redirect
	if s.HTTPSRedirect != nil {
		redirect = *s.HTTPSRedirect
	}
	var httpsPort uint32
	for _, lb := range lbs {
		if lb.ir.Protocol == ir.HTTPS && httpsPort == 0 {
			httpsPort = lb.ir.Port
		}
	}
	domains := slices.Sorted(slices.Values(s.Hostnames))
	domains = slices.Compact(domains)
	var reqOps, respOps ir.HeaderOps
	if h := s.Headers; h != nil {
		reqOps, respOps = headerOps(h.Request), headerOps(h.Response)
	}
	for _, lb := range lbs {
		v := &ir.VirtualHost{Name: vh.Doc.Name, Team: vh.Doc.Team, Domains: domains, Routes: routes, RequestHeaders: reqOps, ResponseHeaders: respOps, Security: sec,
			Compression: l.vhostCompression[vh], GRPCWeb: s.GRPCWeb}
		if lb.ir.Protocol == ir.HTTP {
			if cert != nil && redirect && httpsPort != 0 {
				// Only a redirect is served here: the protected routes are
				// reached over HTTPS, where the security rules apply.
				v.Routes = []*ir.Route{httpsRedirect(httpsPort, vh.Doc.Pos("spec", "tls"))}
				v.RequestHeaders, v.ResponseHeaders = ir.HeaderOps{}, ir.HeaderOps{}
				v.Security = nil
				v.Compression, v.GRPCWeb = nil, false
			}
			lb.vhosts = append(lb.vhosts, v)
			continue
		}
		key := chainKey(cert, clientCerts)
		cb := lb.chains[key]
		if cb == nil {
			name := cert.Name
			if clientCerts != nil {
				name += "." + vh.Doc.Name
			}
			cb = &chainBuilder{chain: &ir.FilterChain{Name: name, Certificate: *cert, ClientCertificates: clientCerts}}
			lb.chains[key] = cb
		}
		if lb.fallback == vh {
			cb.chain.Fallback = true
		}
		cb.chain.ServerNames = append(cb.chain.ServerNames, domains...)
		cb.vhosts = append(cb.vhosts, v)
	}
}

func (l *lowerer) claim(gb *gatewayBuilder, lb *listenerBuilder, vh *intent.VirtualHost) bool {
	claims := gb.claims[lb.ir.Name]
	if claims == nil {
		claims = map[string]claim{}
		gb.claims[lb.ir.Name] = claims
	}
	ok := true
	for i, h := range vh.Spec.Hostnames {
		if c, taken := claims[h]; taken && c.vh != vh {
			switch a, b := c.vh.Spec.Passthrough != nil, vh.Spec.Passthrough != nil; {
			case a && b:
				l.diags.Errorf(vh.Doc.Pos("spec", "hostnames", i), "duplicate-hostname", "server name %q on listener %q of gateway %q is already passed through by %s; one SNI goes to one place", h, lb.ir.Name, gb.g.Name, c.vh.Doc.ID()).
					Note(c.vh.Doc.Pos("spec", "hostnames", c.index), "%s passes it through here", c.vh.Doc.ID())
			case a || b:
				pass, term := c.vh, vh
				if b {
					pass, term = vh, c.vh
				}
				l.diags.Errorf(vh.Doc.Pos("spec", "hostnames", i), "duplicate-hostname", "server name %q on listener %q of gateway %q is both passed through by %s and terminated by %s; Envoy can do only one with a connection", h, lb.ir.Name, gb.g.Name, pass.Doc.ID(), term.Doc.ID()).
					Note(c.vh.Doc.Pos("spec", "hostnames", c.index), "%s claims it here", c.vh.Doc.ID())
			default:
				l.diags.Errorf(vh.Doc.Pos("spec", "hostnames", i), "duplicate-hostname", "hostname %q on gateway %q is already claimed by %s", h, gb.g.Name, c.vh.Doc.ID()).
					Note(c.vh.Doc.Pos("spec", "hostnames", c.index), "%s claims it here", c.vh.Doc.ID())
			}
			ok = false
			continue
		}
		claims[h] = claim{vh: vh, index: i}
	}
	return ok
}

func httpsRedirect(port uint32, origin diag.Pos) *ir.Route {
	r := &ir.Redirect{Scheme: "https", Code: 301}
	if port != 443 {
		r.Port = port
	}
	return &ir.Route{Match: ir.Match{PathKind: ir.PathPrefix, Path: "/"}, Redirect: r, Origin: origin}
}

// finish assembles the gateway's IR in its canonical order.
func (gb *gatewayBuilder) finish(l *lowerer) *ir.Gateway {
	g := gb.g
	tcpOnly := !slices.ContainsFunc(gb.listeners, func(lb *listenerBuilder) bool { return lb.ir.Protocol != ir.TCP })
	if gb.vhosts == 0 && len(gb.listeners) > 0 && !tcpOnly {
		// Only when no virtual host names the gateway: one with errors of
		// its own is reported already.
		l.diags.Warnf(gb.src.Doc.Pos("metadata", "name"), "empty-gateway", "gateway %q has no virtual hosts; its listeners will answer 404 to everything", g.Name)
	}
	clusters := map[string]bool{}
	secrets := map[string]bool{}
	useCert := func(ref *ir.CertRef) {
		if ref != nil && !ref.SDS {
			secrets[ref.Name] = true
		}
	}
	useRoutes := func(vhs []*ir.VirtualHost) {
		for _, vh := range vhs {
			for _, r := range vh.Routes {
				for _, w := range r.Forward {
					clusters[w.Cluster] = true
				}
				if r.Mirror != nil {
					clusters[r.Mirror.Cluster] = true
				}
			}
		}
	}
	for _, lb := range gb.listeners {
		li := lb.ir
		if li.Protocol == ir.TCP {
			if li.TCP == nil {
				continue // reported with the listener
			}
			for _, w := range li.TCP.Clusters {
				clusters[w.Cluster] = true
			}
			g.Listeners = append(g.Listeners, li)
			continue
		}
		if li.Protocol == ir.HTTPS && len(lb.chains) == 0 {
			// Envoy refuses a listener without filter chains. When virtual
			// hosts were dropped for errors, those explain it already.
			if gb.failed > 0 {
				continue
			}
			l.diags.Warnf(gb.src.Doc.Pos("spec", "listeners", lb.index, "name"), "empty-listener", "HTTPS listener %q serves no virtual host with a certificate, so it is left out of the bundle", li.Name)
			continue
		}
		if li.Protocol == ir.HTTP {
			li.Routes = &ir.RouteTable{Name: li.Name, VirtualHosts: sortVHosts(lb.vhosts)}
			useRoutes(lb.vhosts)
		}
		chains := make([]*chainBuilder, 0, len(lb.chains))
		for _, key := range keys(lb.chains) {
			chains = append(chains, lb.chains[key])
		}
		slices.SortFunc(chains, func(a, b *chainBuilder) int { return strings.Compare(a.chain.Name, b.chain.Name) })
		terminated := false
		for _, cb := range chains {
			cb.chain.ServerNames = slices.Compact(slices.Sorted(slices.Values(cb.chain.ServerNames)))
			if p := cb.chain.Passthrough; p != nil {
				li.Chains = append(li.Chains, cb.chain)
				for _, w := range p.Clusters {
					clusters[w.Cluster] = true
				}
				continue
			}
			terminated = true
			cb.chain.Routes = &ir.RouteTable{Name: li.Name + "." + cb.chain.Name, VirtualHosts: sortVHosts(cb.vhosts)}
			if li.HTTP3 {
				cb.chain.Routes.AltSvc = fmt.Sprintf(`h3=":%d"; ma=86400`, li.Port)
			}
			li.Chains = append(li.Chains, cb.chain)
			useCert(&cb.chain.Certificate)
			if cc := cb.chain.ClientCertificates; cc != nil {
				useCert(&cc.CA)
			}
			useRoutes(cb.vhosts)
		}
		if li.HTTP3 && !terminated {
			l.diags.Errorf(gb.src.Doc.Pos("spec", "listeners", lb.index, "name"), "http3", "HTTPS listener %q serves HTTP/3 but no virtual host with a certificate: QUIC cannot pass TLS through, so it has nothing to serve", li.Name)
		}
		g.Listeners = append(g.Listeners, li)
	}
	slices.SortFunc(g.Listeners, func(a, b *ir.Listener) int { return strings.Compare(a.Name, b.Name) })
	l.useSecurityDefs(g, clusters)
	observabilityClusters(g, clusters)
	for _, name := range keys(clusters) {
		c := l.clusters[name]
		if c == nil {
			continue // reported with the backend
		}
		g.Clusters = append(g.Clusters, c)
		if c.TLS != nil {
			useCert(c.TLS.CA)
			useCert(c.TLS.ClientCertificate)
		}
	}
	for _, c := range g.Clusters {
		if c.TLS != nil && g.SDS == nil && (c.TLS.CA != nil && c.TLS.CA.SDS || c.TLS.ClientCertificate != nil && c.TLS.ClientCertificate.SDS) {
			l.diags.Errorf(l.backends[c.Name].Doc.KeyPos("spec", "tls"), "tls", "backend %q uses a certificate from an SDS server, but gateway %q, which routes to it, has no spec.sds", c.Name, g.Name).
				Note(gb.src.Doc.KeyPos("spec"), "gateway %q is declared here", g.Name)
		}
	}
	for _, name := range keys(secrets) {
		if info := l.secrets[name]; info != nil && info.secret != nil {
			g.Secrets = append(g.Secrets, info.secret)
		}
	}
	return g
}

func sortVHosts(vhs []*ir.VirtualHost) []*ir.VirtualHost {
	slices.SortFunc(vhs, func(a, b *ir.VirtualHost) int { return strings.Compare(a.Name, b.Name) })
	return vhs
}

// unused warns about backends and certificates nothing refers to: usually a
// typo in a reference, or left over after a route was removed.
func (l *lowerer) unused() {
	for _, name := range keys(l.backends) {
		b := l.backends[name]
		switch k := b.Spec.Kubernetes; {
		case !l.usedBE[name]:
			l.diags.Warnf(b.Doc.Pos("metadata", "name"), "unused-backend", "backend %q is not used by any route", name)
		case k != nil && l.clusters[name] != nil:
			// Said once per backend, not per gateway: where the bundle
			// goes is not in the repository.
			l.diags.Warnf(b.Doc.KeyPos("spec", "kubernetes"), "kubernetes-endpoints",
				"backend %q takes its endpoints from Kubernetes Service %s/%s (port %s), which only edgectl serve with access to the cluster delivers; on the bundle's static or file-based bootstrap its cluster has no endpoints",
				name, k.Namespace, k.Service, k.Port)
		}
	}
	for _, name := range keys(l.certificates) {
		if !l.usedCert[name] {
			l.diags.Warnf(l.certificates[name].Doc.Pos("metadata", "name"), "unused-certificate", "certificate %q is not used by any virtual host or backend", name)
		}
	}
	for _, docs := range [][]*intent.Doc{docsOf(l.authProviders, func(p *intent.AuthProvider) *intent.Doc { return p.Doc }),
		docsOf(l.authServices, func(s *intent.AuthService) *intent.Doc { return s.Doc }),
		docsOf(l.rateLimitServices, func(s *intent.RateLimitService) *intent.Doc { return s.Doc })} {
		for _, d := range docs {
			if !l.usedDef[d.Kind+"/"+d.Name] {
				l.diags.Warnf(d.Pos("metadata", "name"), "unused-definition", "%s is named by no security rule, so no gateway uses it", d.ID())
			}
		}
	}
	for _, name := range keys(l.routeSets) {
		if !l.usedRS[name] {
			l.diags.Warnf(l.routeSets[name].Doc.Pos("metadata", "name"), "unused-routeset", "route set %q is included by nothing, so its routes serve no traffic", name)
		}
	}
}

func docsOf[T any](m map[string]T, doc func(T) *intent.Doc) []*intent.Doc {
	out := make([]*intent.Doc, 0, len(m))
	for _, name := range keys(m) {
		out = append(out, doc(m[name]))
	}
	return out
}
