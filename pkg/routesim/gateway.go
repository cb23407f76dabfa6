package routesim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/xds"
)

// Gateway routes requests through the listeners of one gateway. It is safe
// for concurrent use.
type Gateway struct {
	listeners []*listener
}

type listener struct {
	name         string
	addrs        []netip.AddrPort
	tlsInspector bool
	chains       []*chain
	deflt        *chain
	// tlsOnly is set when every filter chain terminates TLS.
	tlsOnly bool
}

// chain is a filter chain and what it does with an HTTP request.
type chain struct {
	name  string
	match *listenerv3.FilterChainMatch
	// tls is set when the chain terminates TLS.
	tls    bool
	router *Router
	hcm    hcm
	// tcpCluster is where a TCP proxy chain sends the connection, or
	// tcpWeights where it splits connections.
	tcpCluster string
	tcpWeights []Weight
	tcp        bool
}

const (
	hcmType       = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	tcpProxyType  = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
	tlsContext    = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
	tlsInspector  = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
	tlsSocketName = "envoy.transport_sockets.tls"
)

// NewGateway indexes the resources of one gateway: listeners with their
// filter chains, and the route configurations they use, by RDS name or
// inline. A route configuration an RDS reference names must be among the
// resources; each is indexed once however many chains share it.
func NewGateway(res *xds.Resources) (*Gateway, error) {
	g := &Gateway{}
	clusters := map[string]bool{}
	for _, c := range res.Clusters {
		clusters[c.GetName()] = true
	}
	byName := map[string]*routev3.RouteConfiguration{}
	for _, rc := range res.Routes {
		byName[rc.GetName()] = rc
	}
	routers := map[string]*Router{}
	rds := func(name string) (*Router, error) {
		if r, ok := routers[name]; ok {
			return r, nil
		}
		rc, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("route configuration %q is not among the resources", name)
		}
		r, err := NewRouter(rc)
		if err != nil {
			return nil, err
		}
		routers[name] = r
		return r, nil
	}
	for _, pl := range res.Listeners {
		l, err := newListener(pl, rds, clusters)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", pl.GetName(), err)
		}
		if l != nil {
			g.listeners = append(g.listeners, l)
		}
	}
	return g, nil
}

func newListener(pl *listenerv3.Listener, rds func(string) (*Router, error), clusters map[string]bool) (*listener, error) {
	l := &listener{name: pl.GetName()}
	addrs := []*corev3.Address{pl.GetAddress()}
	for _, a := range pl.GetAdditionalAddresses() {
		addrs = append(addrs, a.GetAddress())
	}
	for _, a := range addrs {
		sa := a.GetSocketAddress()
		if sa == nil || sa.GetProtocol() != corev3.SocketAddress_TCP {
			continue
		}
		ip, err := netip.ParseAddr(sa.GetAddress())
		if err != nil {
			ip = netip.IPv4Unspecified()
		}
		l.addrs = append(l.addrs, netip.AddrPortFrom(ip, uint16(sa.GetPortValue())))
	}
	if len(l.addrs) == 0 {
		return nil, nil // a pipe or UDP listener takes no HTTP over TCP
	}
	if pl.GetFilterChainMatcher() != nil {
		return nil, fmt.Errorf("filter_chain_matcher is not supported by the simulator")
	}
	for _, lf := range pl.GetListenerFilters() {
		if lf.GetName() == "envoy.filters.listener.tls_inspector" || lf.GetTypedConfig().GetTypeUrl() == tlsInspector {
			l.tlsInspector = true
		}
	}
	for i, pc := range pl.GetFilterChains() {
		c, err := newChain(pc, fmt.Sprintf("filter_chains[%d]", i), rds, clusters)
		if err != nil {
			return nil, err
		}
		l.chains = append(l.chains, c)
	}
	if pc := pl.GetDefaultFilterChain(); pc != nil {
		c, err := newChain(pc, "default_filter_chain", rds, clusters)
		if err != nil {
			return nil, err
		}
		c.match = nil
		l.deflt = c
	}
	l.tlsOnly = l.terminatesTLS()
	return l, nil
}

func newChain(pc *listenerv3.FilterChain, unnamed string, rds func(string) (*Router, error), clusters map[string]bool) (*chain, error) {
	c := &chain{name: pc.GetName(), match: pc.GetFilterChainMatch()}
	if c.name == "" {
		c.name = unnamed
	}
	if ts := pc.GetTransportSocket(); ts != nil {
		c.tls = ts.GetName() == tlsSocketName || ts.GetTypedConfig().GetTypeUrl() == tlsContext
	}
	fail := func(err error) (*chain, error) { return nil, fmt.Errorf("filter chain %q: %w", c.name, err) }
	for _, f := range pc.GetFilters() {
		tc := f.GetTypedConfig()
		switch {
		case tc.GetTypeUrl() == hcmType:
			m := &hcmv3.HttpConnectionManager{}
			if err := anypb.UnmarshalTo(tc, m, protoUnmarshal); err != nil {
				return fail(err)
			}
			if err := c.useHCM(m, rds, clusters); err != nil {
				return fail(err)
			}
			return c, nil
		case tc.GetTypeUrl() == tcpProxyType:
			m := &tcpproxyv3.TcpProxy{}
			if err := anypb.UnmarshalTo(tc, m, protoUnmarshal); err != nil {
				return fail(err)
			}
			c.tcp, c.tcpCluster = true, m.GetCluster()
			for _, w := range m.GetWeightedClusters().GetClusters() {
				c.tcpWeights = append(c.tcpWeights, Weight{Cluster: w.GetName(), Weight: w.GetWeight()})
			}
			return c, nil
		}
	}
	return c, nil
}

func (c *chain) useHCM(m *hcmv3.HttpConnectionManager, rds func(string) (*Router, error), clusters map[string]bool) error {
	var err error
	switch rs := m.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_Rds:
		c.router, err = rds(rs.Rds.GetRouteConfigName())
	case *hcmv3.HttpConnectionManager_RouteConfig:
		c.router, err = NewRouter(rs.RouteConfig)
	default:
		err = fmt.Errorf("only RDS and inline route configurations are supported by the simulator")
	}
	if err != nil {
		return err
	}
	c.hcm = hcm{
		stripHostDot:  m.GetStripTrailingHostDot(),
		normalizePath: m.GetNormalizePath().GetValue(),
		mergeSlashes:  m.GetMergeSlashes(),
		escapedSlash:  m.GetPathWithEscapedSlashesAction(),
		tls:           c.tls,
		clusters:      clusters,
	}
	switch {
	case m.GetStripAnyHostPort():
		c.hcm.stripPort = stripAnyPort
	case m.GetStripMatchingHostPort():
		c.hcm.stripPort = stripMatchingPort
	}
	return nil
}

// Route picks the listener by port, the filter chain by SNI and transport,
// then routes like Router.Route.
func (g *Gateway) Route(req *Request) *Result {
	res, _ := g.route(req, false)
	return res
}

// Explain is Router.Explain through the gateway's listeners.
func (g *Gateway) Explain(req *Request) (*Result, []Miss) {
	return g.route(req, true)
}

func (g *Gateway) route(req *Request, explain bool) (*Result, []Miss) {
	port := requestPort(req)
	tls := req.SNI != "" || strings.EqualFold(req.Scheme, "https")
	l := g.listenerFor(req, port)
	if l == nil {
		return &Result{Action: NoListener, RouteIndex: -1,
			Notes: []string{fmt.Sprintf("no listener on port %d", port)}}, nil
	}
	if req.Scheme == "" && req.SNI == "" && l.tlsOnly {
		tls = true
	}
	c := l.selectChain(req, port, tls)
	if c != nil && c.tls == tls && !c.tcp && c.router != nil {
		out, misses := c.router.route(req, &c.hcm, port, explain)
		out.Listener, out.FilterChain = l.name, c.name
		return out, misses
	}
	res := &Result{Listener: l.name, RouteIndex: -1}
	switch {
	case c == nil:
		res.Action = NoListener
		res.Notes = []string{"no filter chain of the listener takes the connection"}
		return res, nil
	case c.tcp && !c.tls:
		// A TCP proxy that terminates nothing passes any bytes on, TLS
		// included: TLS passthrough.
		res.FilterChain, res.Action, res.Cluster = c.name, Forward, c.tcpCluster
		if len(c.tcpWeights) > 0 {
			res.Weights, res.Cluster = c.tcpWeights, pickTCP(c.tcpWeights, req.Random)
		}
		res.Notes = []string{"the filter chain is a TCP proxy: the connection goes to the cluster as bytes, not routed as HTTP"}
		if tls {
			res.Notes = append(res.Notes, "TLS is passed through: the backend terminates it")
		}
		return res, nil
	case c.tls != tls:
		res.Action, res.FilterChain = NoListener, c.name
		if c.tls {
			res.Notes = []string{"the filter chain terminates TLS; a plaintext request fails the handshake"}
		} else {
			res.Notes = []string{"the filter chain is plaintext; a TLS client fails the handshake"}
		}
		return res, nil
	case c.tcp:
		res.FilterChain, res.Action, res.Cluster = c.name, Forward, c.tcpCluster
		if len(c.tcpWeights) > 0 {
			res.Weights, res.Cluster = c.tcpWeights, pickTCP(c.tcpWeights, req.Random)
		}
		res.Notes = []string{"the filter chain is a TCP proxy: the connection goes to the cluster as bytes, not routed as HTTP"}
		return res, nil
	default:
		res.Action, res.FilterChain = NoListener, c.name
		res.Notes = []string{"the filter chain has no HTTP connection manager"}
		return res, nil
	}
}

// requestPort is the destination port: the request's, else the
// authority's, else the scheme's default.
func requestPort(req *Request) uint32 {
	if req.Port != 0 {
		return req.Port
	}
	if i := portStart(req.Authority); i >= 0 {
		if n, err := strconv.ParseUint(req.Authority[i+1:], 10, 16); err == nil {
			return uint32(n)
		}
	}
	if req.SNI != "" || strings.EqualFold(req.Scheme, "https") {
		return 443
	}
	return 80
}

// listenerFor picks the listener bound to the port: the one bound to the
// destination address, else one bound to all addresses.
func (g *Gateway) listenerFor(req *Request, port uint32) *listener {
	dst := parseAddr(req.DestinationAddress)
	var wildcard, any *listener
	for _, l := range g.listeners {
		for _, a := range l.addrs {
			if uint32(a.Port()) != port {
				continue
			}
			switch {
			case dst.IsValid() && a.Addr() == dst:
				return l
			case a.Addr().IsUnspecified():
				if wildcard == nil {
					wildcard = l
				}
			case any == nil:
				any = l
			}
		}
	}
	if wildcard != nil {
		return wildcard
	}
	if !dst.IsValid() {
		return any
	}
	return nil
}

// terminatesTLS says whether every filter chain of the listener terminates
// TLS: a request to it without a scheme is then HTTPS.
func (l *listener) terminatesTLS() bool {
	n := 0
	for _, c := range append(l.chains[:len(l.chains):len(l.chains)], l.deflt) {
		if c == nil {
			continue
		}
		if !c.tls {
			return false
		}
		n++
	}
	return n > 0
}

// parseAddr parses an IP address, the zero Addr when s is not one.
func parseAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(s)
	return a
}

// Entrance is where requests reach a route configuration: a listener's
// port, and whether its filter chain terminates TLS.
type Entrance struct {
	Port uint32
	TLS  bool
}

// Entrances says, for each route configuration a listener serves, the
// first entrance to it, in listener order.
func (g *Gateway) Entrances() map[string]Entrance {
	out := map[string]Entrance{}
	for _, l := range g.listeners {
		if len(l.addrs) == 0 {
			continue
		}
		chains := l.chains
		if l.deflt != nil {
			chains = append(chains[:len(chains):len(chains)], l.deflt)
		}
		for _, c := range chains {
			if c.router == nil {
				continue
			}
			if _, seen := out[c.router.name]; !seen {
				out[c.router.name] = Entrance{Port: uint32(l.addrs[0].Port()), TLS: c.tls}
			}
		}
	}
	return out
}

// pickTCP draws the cluster of a TCP proxy's weighted clusters as Envoy
// does for a route's: Random modulo the total weight falls in one
// cluster's range.
func pickTCP(ws []Weight, random uint64) string {
	var total uint64
	for _, w := range ws {
		total += uint64(w.Weight)
	}
	if total == 0 {
		return ""
	}
	sel, begin := random%total, uint64(0)
	for _, w := range ws {
		if end := begin + uint64(w.Weight); sel < end {
			return w.Cluster
		}
		begin += uint64(w.Weight)
	}
	return ""
}
