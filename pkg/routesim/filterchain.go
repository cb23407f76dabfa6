package routesim

import (
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
)

var protoUnmarshal = proto.UnmarshalOptions{}

// conn is what filter chain matching knows of a connection.
type conn struct {
	port      uint32
	dst, src  netip.Addr
	sni       string
	transport string
	alpn      []string
}

// steps is the number of filter chain match criteria.
const steps = 9

// score says how specifically step of Envoy's filter chain matching takes
// the connection: -1 not at all, 0 by not asking, more for a closer match.
// The steps are in Envoy's documented order: destination port,
// destination IP, server name, transport protocol, application
// protocols, directly connected source IP, source type, source IP,
// source port.
func score(step int, m *listenerv3.FilterChainMatch, c *conn) int {
	switch step {
	case 0:
		if m.GetDestinationPort() == nil {
			return 0
		}
		if m.GetDestinationPort().GetValue() == c.port {
			return 1
		}
	case 1:
		return cidrScore(m.GetPrefixRanges(), c.dst)
	case 2:
		return serverNameScore(m.GetServerNames(), c.sni)
	case 3:
		switch m.GetTransportProtocol() {
		case "":
			return 0
		case c.transport:
			return 1
		}
	case 4:
		if len(m.GetApplicationProtocols()) == 0 {
			return 0
		}
		for _, p := range c.alpn {
			for _, want := range m.GetApplicationProtocols() {
				if p == want {
					return 1
				}
			}
		}
	case 5:
		return cidrScore(m.GetDirectSourcePrefixRanges(), c.src)
	case 6:
		switch m.GetSourceType() {
		case listenerv3.FilterChainMatch_ANY:
			return 0
		case listenerv3.FilterChainMatch_SAME_IP_OR_LOOPBACK:
			if c.src.IsValid() && (c.src.IsLoopback() || c.src == c.dst) {
				return 1
			}
		case listenerv3.FilterChainMatch_EXTERNAL:
			if c.src.IsValid() && !c.src.IsLoopback() && c.src != c.dst {
				return 1
			}
		}
	case 7:
		return cidrScore(m.GetSourcePrefixRanges(), c.src)
	case 8:
		// The client's port is unknown: a chain that asks for one does
		// not match.
		if len(m.GetSourcePorts()) == 0 {
			return 0
		}
	}
	return -1
}

// cidrScore prefers the longest matching prefix.
func cidrScore(ranges []*corev3.CidrRange, ip netip.Addr) int {
	if len(ranges) == 0 {
		return 0
	}
	best := -1
	for _, r := range ranges {
		addr, err := netip.ParseAddr(r.GetAddressPrefix())
		if err != nil || !ip.IsValid() {
			continue
		}
		bits := int(r.GetPrefixLen().GetValue())
		p, err := addr.Unmap().Prefix(bits)
		if err == nil && p.Contains(ip.Unmap()) && bits+1 > best {
			best = bits + 1
		}
	}
	return best
}

// serverNameScore prefers the exact name, then the longest wildcard:
// www.example.com, then *.example.com, then *.com.
func serverNameScore(names []string, sni string) int {
	if len(names) == 0 {
		return 0
	}
	sni = toLowerASCII(sni)
	best := -1
	for _, n := range names {
		n = toLowerASCII(n)
		switch {
		case n == sni && sni != "":
			return 1 << 20
		case strings.HasPrefix(n, "*.") && len(sni) > len(n)-1 && strings.HasSuffix(sni, n[1:]):
			if len(n) > best {
				best = len(n)
			}
		}
	}
	return best
}

// selectChain prunes the filter chains step by step, keeping at each step
// only the chains that match the connection most specifically; a step
// where none matches leaves no chain, and then the default filter chain
// takes the connection, if any.
func (l *listener) selectChain(req *Request, port uint32, tls bool) *chain {
	c := conn{port: port, transport: "raw_buffer", dst: parseAddr(req.DestinationAddress), src: parseAddr(req.ClientAddress)}
	if !c.dst.IsValid() && len(l.addrs) > 0 && !l.addrs[0].Addr().IsUnspecified() {
		c.dst = l.addrs[0].Addr()
	}
	if tls && l.tlsInspector {
		c.transport, c.sni, c.alpn = "tls", req.SNI, req.ALPN
	}
	var buf [16]*chain
	cands := append(buf[:0], l.chains...)
	for step := 0; step < steps && len(cands) > 0; step++ {
		best, kept := -1, 0
		for _, ch := range cands {
			s := score(step, ch.match, &c)
			switch {
			case s > best:
				best, kept = s, 0
				cands[kept] = ch
				kept++
			case s == best && s >= 0:
				cands[kept] = ch
				kept++
			}
		}
		if best < 0 {
			kept = 0
		}
		cands = cands[:kept]
	}
	if len(cands) > 0 {
		return cands[0]
	}
	return l.deflt
}
