package xds

import (
	"slices"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/edgectl/edgectl/pkg/ir"
)

// listenerGateway is testGateway with every listener feature: PROXY
// protocol and a connection limit on HTTP, HTTP/3, a passthrough chain and
// a fallback on HTTPS, and a TCP listener splitting by weight.
func listenerGateway() *ir.Gateway {
	g := testGateway()
	g.Listeners[0].ProxyProtocol = true
	g.Listeners[0].MaxConnections = 100
	https := g.Listeners[1]
	https.HTTP3 = true
	https.Chains[0].Fallback = true
	https.Chains[0].Routes.AltSvc = `h3=":443"; ma=86400`
	https.Chains = append(https.Chains, &ir.FilterChain{Name: "passthrough.vault", ServerNames: []string{"vault.example.com"},
		Passthrough: &ir.TCPProxy{Clusters: []ir.WeightedCluster{{Cluster: "shop"}}}})
	idle := 5 * time.Minute
	g.Listeners = append(g.Listeners, &ir.Listener{Name: "tcp", Address: "0.0.0.0", Port: 5432, Protocol: ir.TCP,
		TCP: &ir.TCPProxy{Clusters: []ir.WeightedCluster{{Cluster: "shop", Weight: 9}, {Cluster: "web", Weight: 1}}, IdleTimeout: &idle}})
	return g
}

// TestListenerFeaturesPassCheck holds the new listener shapes to Envoy's
// validation and the referential checks, in every delivery mode.
func TestListenerFeaturesPassCheck(t *testing.T) {
	t.Parallel()
	g := listenerGateway()
	if err := g.Validate(); err != nil {
		t.Fatalf("gateway is invalid: %v", err)
	}
	for _, mode := range []Mode{Static, Files, ADS} {
		if err := Check(Translate(g, mode)[0], mode); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
}

func TestListenerShapes(t *testing.T) {
	t.Parallel()
	r := Translate(listenerGateway(), Files)[0]
	byName := map[string]*listenerv3.Listener{}
	for _, l := range r.Listeners {
		byName[l.Name] = l
	}
	filterNames := func(fc *listenerv3.FilterChain) []string {
		var out []string
		for _, f := range fc.Filters {
			out = append(out, f.Name)
		}
		return out
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"PROXY protocol and connection limit come first", func(t *testing.T) {
			l := byName["http"]
			if len(l.ListenerFilters) == 0 || l.ListenerFilters[0].Name != "envoy.filters.listener.proxy_protocol" {
				t.Errorf("listener filters %v", l.ListenerFilters)
			}
			if got := filterNames(l.FilterChains[0]); !slices.Equal(got, []string{connectionLimitFilter, "envoy.filters.network.http_connection_manager"}) {
				t.Errorf("filters %v", got)
			}
		}},
		{"passthrough chain has no transport socket", func(t *testing.T) {
			l := byName["https"]
			i := slices.IndexFunc(l.FilterChains, func(fc *listenerv3.FilterChain) bool { return fc.Name == "passthrough.vault" })
			if i < 0 {
				t.Fatal("no passthrough chain")
			}
			fc := l.FilterChains[i]
			tp := &tcpproxyv3.TcpProxy{}
			if fc.TransportSocket != nil || fc.Filters[0].GetTypedConfig().UnmarshalTo(tp) != nil || tp.GetCluster() != "shop" {
				t.Errorf("passthrough chain %v", fc)
			}
		}},
		{"fallback is the default chain with the same route configuration", func(t *testing.T) {
			d := byName["https"].DefaultFilterChain
			m := &hcmv3.HttpConnectionManager{}
			if d == nil || d.TransportSocket == nil || d.Filters[0].GetTypedConfig().UnmarshalTo(m) != nil || m.GetRds().GetRouteConfigName() != "https.cert" {
				t.Errorf("default chain %v", d)
			}
		}},
		{"QUIC listener: UDP, HTTP/3, terminated chains only", func(t *testing.T) {
			q := byName["https.quic"]
			if q == nil {
				t.Fatal("no QUIC listener")
			}
			if q.GetAddress().GetSocketAddress().GetProtocol() != corev3.SocketAddress_UDP || q.GetUdpListenerConfig().GetQuicOptions() == nil {
				t.Errorf("address %v udp %v", q.Address, q.UdpListenerConfig)
			}
			if len(q.FilterChains) != 1 || q.FilterChains[0].TransportSocket.GetName() != "envoy.transport_sockets.quic" {
				t.Fatalf("chains %v", q.FilterChains)
			}
			m := &hcmv3.HttpConnectionManager{}
			if err := q.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(m); err != nil || m.CodecType != hcmv3.HttpConnectionManager_HTTP3 || m.Http2ProtocolOptions != nil {
				t.Errorf("connection manager %v", m)
			}
		}},
		{"alt-svc on the route configuration", func(t *testing.T) {
			for _, rc := range r.Routes {
				has := len(rc.ResponseHeadersToAdd) == 1 && rc.ResponseHeadersToAdd[0].GetHeader().GetKey() == "alt-svc"
				if has != (rc.Name == "https.cert") {
					t.Errorf("route configuration %s: alt-svc %v", rc.Name, has)
				}
			}
		}},
		{"TCP listener splits by weight", func(t *testing.T) {
			tp := &tcpproxyv3.TcpProxy{}
			if err := byName["tcp"].FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(tp); err != nil {
				t.Fatal(err)
			}
			wc := tp.GetWeightedClusters().GetClusters()
			if len(wc) != 2 || wc[0].Name != "shop" || wc[0].Weight != 9 || tp.GetIdleTimeout().AsDuration() != 5*time.Minute {
				t.Errorf("tcp proxy %v", tp)
			}
		}},
		{"defaults when the IR names none", func(t *testing.T) {
			m := &hcmv3.HttpConnectionManager{}
			if err := byName["http"].FilterChains[0].Filters[1].GetTypedConfig().UnmarshalTo(m); err != nil {
				t.Fatal(err)
			}
			if m.GetStreamIdleTimeout().AsDuration() != 5*time.Minute || m.GetRequestHeadersTimeout().AsDuration() != 10*time.Second ||
				m.GetCommonHttpProtocolOptions().GetIdleTimeout().AsDuration() != time.Hour || m.GetMaxRequestHeadersKb().GetValue() != 60 ||
				m.PathWithEscapedSlashesAction != hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT || m.RequestTimeout != nil {
				t.Errorf("connection manager %v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t)
		})
	}
}

// TestTCPAccessLogLeavesOutHeaders: the gateway's own access log fields
// reach a connection's log lines, except those reading HTTP headers, which
// a raw connection does not have; HTTP log lines keep them all.
func TestTCPAccessLogLeavesOutHeaders(t *testing.T) {
	t.Parallel()
	g := listenerGateway()
	g.AccessLog = &ir.AccessLog{Path: "/dev/stdout", JSON: true, Fields: []ir.Header{
		{Name: "tenant", Value: "%REQ(X-TENANT)%"},
		{Name: "upstream_ms", Value: "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
		{Name: "zone", Value: "eu-1"},
	}}
	tr := translator{g: g, mode: Files}
	fieldsOf := func(logs []*accesslogv3.AccessLog) []string {
		fl := &filev3.FileAccessLog{}
		if err := logs[0].GetTypedConfig().UnmarshalTo(fl); err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range fl.GetLogFormat().GetJsonFormat().GetFields() {
			names = append(names, k)
		}
		slices.Sort(names)
		return names
	}
	tcp := fieldsOf(tr.tcpAccessLog())
	if slices.Contains(tcp, "tenant") || slices.Contains(tcp, "upstream_ms") || !slices.Contains(tcp, "zone") {
		t.Errorf("connection log fields %v: want zone and none that read headers", tcp)
	}
	http := fieldsOf(tr.accessLog())
	for _, want := range []string{"tenant", "upstream_ms", "zone"} {
		if !slices.Contains(http, want) {
			t.Errorf("HTTP log fields %v: want %s", http, want)
		}
	}
}
