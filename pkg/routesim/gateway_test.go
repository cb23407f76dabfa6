package routesim

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/edgectl/edgectl/pkg/xds"
)

// hcmChain is a filter chain whose HTTP connection manager routes every
// request to cluster; extra is more of the chain (a match, a transport
// socket), hcmExtra more of the connection manager.
func hcmChain(name, cluster, extra, hcmExtra string) string {
	return `
- name: ` + name + `
  ` + extra + `
  filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: ` + name + `
      ` + hcmExtra + `
      route_config:
        name: ` + name + `
        virtual_hosts: [{name: ` + name + `, domains: ["*"], routes: [{name: ` + name + `, match: {prefix: /}, route: {cluster: ` + cluster + `}}]}]`
}

const tlsSocket = `transport_socket: {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext}}`

func listenerYAML(t *testing.T, y string) *listenerv3.Listener {
	t.Helper()
	l := &listenerv3.Listener{}
	fromYAML(t, y, l)
	return l
}

func chainsGateway(t *testing.T) *Gateway {
	t.Helper()
	inspector := `listener_filters: [{name: envoy.filters.listener.tls_inspector, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}]`
	sni := func(names string) string { return "filter_chain_match: {server_names: " + names + "}\n  " + tlsSocket }
	res := &xds.Resources{Listeners: []*listenerv3.Listener{
		listenerYAML(t, `
name: edge
address: {socket_address: {address: 0.0.0.0, port_value: 443}}
`+inspector+`
filter_chains:`+
			hcmChain("exact", "exact", sni("[www.example.com]"), "")+
			hcmChain("wild", "wild", sni(`["*.example.com"]`), "")+
			hcmChain("wider", "wider", sni(`["*.com"]`), "")+
			hcmChain("raw", "raw", "filter_chain_match: {transport_protocol: raw_buffer}", "")+`
default_filter_chain:`+strings.Replace(hcmChain("fallback", "fallback", tlsSocket, ""), "\n- ", "\n  ", 1)),
		listenerYAML(t, `
name: strict
address: {socket_address: {address: 0.0.0.0, port_value: 8443}}
`+inspector+`
filter_chains:`+
			hcmChain("a", "a", sni("[a.com]"), "")+
			hcmChain("plain", "plain", "filter_chain_match: {transport_protocol: raw_buffer}", "")),
		listenerYAML(t, `
name: sources
address: {socket_address: {address: 0.0.0.0, port_value: 9000}}
filter_chains:`+
			hcmChain("ten", "ten", "filter_chain_match: {source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}", "")+
			hcmChain("ten-one", "ten-one", "filter_chain_match: {source_prefix_ranges: [{address_prefix: 10.1.0.0, prefix_len: 16}]}", "")+
			hcmChain("anyone", "anyone", "", "")),
		listenerYAML(t, `
name: ports
address: {socket_address: {address: 0.0.0.0, port_value: 9001}}
filter_chains:`+
			hcmChain("port", "port", "filter_chain_match: {destination_port: 9001, source_prefix_ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}]}", "")+
			hcmChain("anyone", "anyone", "", "")),
		listenerYAML(t, `
name: tls-only
address: {socket_address: {address: 0.0.0.0, port_value: 9443}}
filter_chains:`+hcmChain("tls", "tls", tlsSocket, "")),
	}}
	g, err := NewGateway(res)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestFilterChainMatch encodes FilterChainMatch: the criteria apply in
// order (destination port, destination IP, server name, transport
// protocol, application protocols, source...), each step keeping only the
// most specific chains; server names match "www.example.com, then
// *.example.com, then *.com, then any filter chain without server_names";
// the default filter chain takes what no chain matches, and without one
// the connection is closed.
func TestFilterChainMatch(t *testing.T) {
	t.Parallel()
	g := chainsGateway(t)
	tls := func(port uint32, sni string) *Request {
		return &Request{Scheme: "https", SNI: sni, Authority: sni, Path: "/", Port: port}
	}
	for _, tc := range []struct {
		name string
		req  *Request
		want string
	}{
		{"exact server name", tls(443, "www.example.com"), "edge/exact"},
		{"server names are case insensitive", tls(443, "WWW.example.com"), "edge/exact"},
		{"suffix wildcard", tls(443, "api.example.com"), "edge/wild"},
		{"longest wildcard first", tls(443, "a.b.example.com"), "edge/wild"},
		{"shorter wildcard", tls(443, "foo.com"), "edge/wider"},
		// No server name matches, so only the chain without server_names
		// is left; it wants raw_buffer, the connection is TLS: the default
		// chain takes it.
		{"no server name: default chain", tls(443, "other.org"), "edge/fallback"},
		{"TLS without SNI: default chain", tls(443, ""), "edge/fallback"},
		{"plaintext", &Request{Scheme: "http", Authority: "x", Path: "/", Port: 443}, "edge/raw"},
		// The same pruning without a default chain closes the connection.
		{"no chain and no default", tls(8443, "b.com"), "strict/"},
		{"server name", tls(8443, "a.com"), "strict/a"},
		{"longest source prefix", &Request{Authority: "x", Path: "/", Port: 9000, ClientAddress: "10.1.2.3"}, "sources/ten-one"},
		{"source prefix", &Request{Authority: "x", Path: "/", Port: 9000, ClientAddress: "10.2.0.1"}, "sources/ten"},
		{"no source prefix", &Request{Authority: "x", Path: "/", Port: 9000, ClientAddress: "172.16.0.1"}, "sources/anyone"},
		{"unknown client", &Request{Authority: "x", Path: "/", Port: 9000}, "sources/anyone"},
		// The destination port is the first criterion: the chain asking
		// for it is the only one left, and its source prefix does not
		// match.
		{"destination port first", &Request{Authority: "x", Path: "/", Port: 9001, ClientAddress: "172.16.0.1"}, "ports/"},
		{"destination port and source", &Request{Authority: "x", Path: "/", Port: 9001, ClientAddress: "192.168.1.1"}, "ports/port"},
		{"no listener on the port", tls(80, "www.example.com"), "/"},
		{"a TLS chain and a plaintext request", &Request{Scheme: "http", Authority: "x", Path: "/", Port: 9443}, "tls-only/tls"},
	} {
		res := g.Route(tc.req)
		got := res.Listener + "/" + res.Cluster
		if res.Action == NoListener {
			got = res.Listener + "/"
		}
		if res.Action == NoListener && tc.want == "tls-only/tls" {
			got = res.Listener + "/" + res.FilterChain
			if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "handshake") {
				t.Errorf("%s: notes %v, want the handshake failure", tc.name, res.Notes)
			}
		}
		if got != tc.want {
			t.Errorf("%s: %s (%s, notes %v), want %s", tc.name, got, res.Action, res.Notes, tc.want)
		}
	}
}

// TestGatewayConnectionManager encodes what the HTTP connection manager
// does before routing: strip_any_host_port and strip_matching_host_port
// (the latter only for the listener's own port), strip_trailing_host_dot,
// normalize_path (RFC 3986 dot segments) and merge_slashes, all of which
// also change what goes upstream; a route configuration named by RDS is
// found among the resources; a cluster the gateway does not define is
// not found (503). path_with_escaped_slashes_action unescapes %2F and %5C
// before normalisation, or rejects or redirects such a path.
func TestGatewayConnectionManager(t *testing.T) {
	t.Parallel()
	rc := routeConfig(t, `
name: shared
virtual_hosts:
- name: www
  domains: [www.example.com]
  routes:
  - {name: b, match: {path: /b}, route: {cluster: known}}
  - {name: ghost, match: {prefix: /ghost}, route: {cluster: ghost}}`)
	listener := func(name string, port, hcm string) *listenerv3.Listener {
		return listenerYAML(t, `
name: `+name+`
address: {socket_address: {address: 0.0.0.0, port_value: `+port+`}}
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: s
      rds: {route_config_name: shared, config_source: {ads: {}}}
      `+strings.ReplaceAll(hcm, ", ", "\n      "))
	}
	res := &xds.Resources{
		Routes:   []*routev3.RouteConfiguration{rc},
		Clusters: []*clusterv3.Cluster{{Name: "known"}},
		Listeners: []*listenerv3.Listener{
			listener("any", "8080", "strip_any_host_port: true, normalize_path: true, merge_slashes: true, strip_trailing_host_dot: true"),
			listener("matching", "8081", "strip_matching_host_port: true"),
			listener("unescape", "8082", "path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD, normalize_path: true, strip_any_host_port: true"),
			listener("reject", "8083", "path_with_escaped_slashes_action: REJECT_REQUEST, strip_any_host_port: true"),
			listener("redirect", "8084", "path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT, strip_any_host_port: true"),
		},
	}
	g, err := NewGateway(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, want, path string
		status          int
	}{
		{"http://www.example.com:8080/b", "www/b", "/b", 0},
		{"http://www.example.com:8080/a/../b", "www/b", "/b", 0},
		{"http://www.example.com:8080//b", "www/b", "/b", 0},
		{"http://www.example.com.:8080/b", "www/b", "/b", 0},
		{"http://www.example.com:8080/ghost", "www/ghost", "/ghost", 503},
		{"http://www.example.com:8081/b", "www/b", "/b", 0},
		{"http://www.example.com:8081//b", "www/no-route", "", 404},
		{"http://www.example.com.:8081/b", "no-vhost", "", 404},
		{"http://www.example.com:8082/a%2F..%5Cb?x=%2F", "www/b", "/b?x=%2F", 0},
		{"http://www.example.com:8083/a%2fb", "no-vhost", "", 400},
		{"http://www.example.com:8083/b?x=%2F", "www/b", "/b?x=%2F", 0},
	} {
		res := g.Route(reqURL(t, "GET", tc.url))
		if where(res) != tc.want || res.Path != tc.path || res.Status != tc.status {
			t.Errorf("%s: %s path %q status %d, want %s %q %d", tc.url, where(res), res.Path, res.Status, tc.want, tc.path, tc.status)
		}
	}
	// UNESCAPE_AND_REDIRECT answers with the unescaped path.
	if res := g.Route(reqURL(t, "GET", "http://www.example.com:8084/a%2Fb")); res.Action != Redirect || res.Status != 307 || res.Location != "/a/b" {
		t.Errorf("UNESCAPE_AND_REDIRECT: %s %d %q", res.Action, res.Status, res.Location)
	}
	// Port 8081 strips only its own port.
	req := reqURL(t, "GET", "http://www.example.com:9999/b")
	req.Port = 8081
	if res := g.Route(req); res.VirtualHost != "" {
		t.Errorf("strip_matching_host_port stripped another port: %s", where(res))
	}
	// A missing RDS configuration is refused.
	res.Routes = nil
	if _, err := NewGateway(res); err == nil || !strings.Contains(err.Error(), `route configuration "shared" is not among the resources`) {
		t.Errorf("missing RDS: %v", err)
	}
}
