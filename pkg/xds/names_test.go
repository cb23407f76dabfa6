package xds

import (
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/ir"
)

// The name checks guard against bugs: the schema keeps user names out of
// the reserved prefix and away from each other, so in a real compile they
// never fire. These tests feed them colliding sets directly.

func TestGeneratedNamesAreReserved(t *testing.T) {
	t.Parallel()
	for _, name := range []string{SDSCluster, ADSCluster} {
		if !strings.HasPrefix(name, ReservedPrefix) {
			t.Errorf("%q does not start with the reserved prefix %q", name, ReservedPrefix)
		}
	}
}

func TestCheckRefusesReservedNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func(r *Resources)
		want    string
	}{
		{"cluster edgectl-sds", func(r *Resources) { r.Clusters[0].Name = SDSCluster },
			`cluster "edgectl-sds": the name starts with "edgectl-"`},
		{"cluster edgectl-xds", func(r *Resources) { r.Clusters[1].Name = ADSCluster },
			`cluster "edgectl-xds": the name starts with "edgectl-"`},
		{"listener", func(r *Resources) { r.Listeners[0].Name = "edgectl-http" },
			`listener "edgectl-http": the name starts with "edgectl-"`},
		{"secret", func(r *Resources) { r.Secrets[0].Name = "edgectl-cert" },
			`secret "edgectl-cert": the name starts with "edgectl-"`},
		{"route configuration", func(r *Resources) { r.Routes[0].Name = "edgectl-rc" },
			`route configuration "edgectl-rc": the name starts with "edgectl-"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Translate(testGateway(), Files)[0]
			tc.breakIt(r)
			err := Check(r, Files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCheckCatchesNameCollisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func(r *Resources)
		want    string
	}{
		{"two listeners", func(r *Resources) { r.Listeners[1].Name = r.Listeners[0].Name },
			`listener "http" is defined twice`},
		{"two secrets", func(r *Resources) {
			r.Secrets = append(r.Secrets, proto.Clone(r.Secrets[0]).(*tlsv3.Secret))
		}, `secret "cert" is defined twice`},
		{"two virtual hosts of one name", func(r *Resources) {
			vh := proto.Clone(r.Routes[0].VirtualHosts[0]).(*routev3.VirtualHost)
			vh.Domains = []string{"other.example.com"}
			r.Routes[0].VirtualHosts = append(r.Routes[0].VirtualHosts, vh)
		}, `route configuration "http": virtual host "www" is defined twice`},
		{"two filter chains of one name", func(r *Resources) {
			l := r.Listeners[1]
			fc := proto.Clone(l.FilterChains[0]).(*listenerv3.FilterChain)
			fc.FilterChainMatch.ServerNames = []string{"other.example.com"}
			l.FilterChains = append(l.FilterChains, fc)
		}, `listener "https": filter chain "cert" is defined twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Translate(testGateway(), Files)[0]
			tc.breakIt(r)
			err := Check(r, Files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestCheckCatchesJoinedNames: the route configuration of an HTTPS filter
// chain is named listener + "." + certificate. Were a dot allowed in names,
// listener "a.b" (HTTP) and listener "a" with certificate "b" would both
// give "a.b"; the schema forbids the dot, and Check would catch it.
func TestCheckCatchesJoinedNames(t *testing.T) {
	t.Parallel()
	g := testGateway()
	g.Listeners[0].Name, g.Listeners[0].Routes.Name = "https.cert", "https.cert"
	r := Translate(g, Files)[0]
	err := Check(r, Files)
	if err == nil || !strings.Contains(err.Error(), `route configuration "https.cert" is defined twice`) {
		t.Errorf("Check: %v, want the joined name collision", err)
	}
}

func TestCheckBootstrapCatchesStaticCollisions(t *testing.T) {
	t.Parallel()
	sds := &ir.SDSServer{Address: "127.0.0.1", Port: 8234}
	tests := []struct {
		name string
		boot func() *bootstrapv3.Bootstrap
		want string
	}{
		{"a backend named like the SDS cluster", func() *bootstrapv3.Bootstrap {
			g := testGateway()
			g.SDS = sds
			g.Clusters[0].Name = SDSCluster
			return StaticBootstrap(g, Translate(g, Static)[0])
		}, `static cluster "edgectl-sds" is defined twice`},
		{"an ADS bootstrap over an SDS cluster named like the ADS one", func() *bootstrapv3.Bootstrap {
			g := testGateway()
			b := FilesBootstrap(g)
			b.StaticResources = &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{hostCluster(ADSCluster, "10.0.0.9", 1)}}
			return ADSBootstrap(b, "127.0.0.1", 18000, false)
		}, `static cluster "edgectl-xds" is defined twice`},
		{"two static listeners", func() *bootstrapv3.Bootstrap {
			g := testGateway()
			b := StaticBootstrap(g, Translate(g, Static)[0])
			b.StaticResources.Listeners = append(b.StaticResources.Listeners, proto.Clone(b.StaticResources.Listeners[0]).(*listenerv3.Listener))
			return b
		}, `static listener "http" is defined twice`},
		{"two static secrets", func() *bootstrapv3.Bootstrap {
			g := testGateway()
			b := StaticBootstrap(g, Translate(g, Static)[0])
			b.StaticResources.Secrets = append(b.StaticResources.Secrets, proto.Clone(b.StaticResources.Secrets[0]).(*tlsv3.Secret))
			return b
		}, `static secret "cert" is defined twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.boot()
			if err := CheckStaticNames(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckStaticNames: %v, want an error mentioning %q", err, tc.want)
			}
			if err := CheckBootstrap(b, "bootstrap"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckBootstrap: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCheckStaticNamesAcceptsTranslation(t *testing.T) {
	t.Parallel()
	g := testGateway()
	g.SDS = &ir.SDSServer{Address: "127.0.0.1", Port: 8234}
	g.Clusters[0].ConnectTimeout = time.Second
	for _, b := range []*bootstrapv3.Bootstrap{
		StaticBootstrap(g, Translate(g, Static)[0]),
		FilesBootstrap(g),
		ADSBootstrap(FilesBootstrap(g), "127.0.0.1", 18000, true),
	} {
		if err := CheckStaticNames(b); err != nil {
			t.Error(err)
		}
	}
}
