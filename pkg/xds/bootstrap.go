package xds

import (
	"net"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/edgectl/edgectl/pkg/ir"
)

const defaultConnectTimeout = 2 * time.Second

func isIP(s string) bool { return net.ParseIP(s) != nil }

func node(g *ir.Gateway) *corev3.Node { return &corev3.Node{Id: g.NodeID, Cluster: g.NodeCluster} }

func admin(g *ir.Gateway) *bootstrapv3.Admin {
	if g.Admin == nil {
		return nil
	}
	return &bootstrapv3.Admin{Address: socketAddress(g.Admin.Address, g.Admin.Port)}
}

// StaticBootstrap holds the whole configuration in static_resources: the
// simplest deployment, where any change needs a restart (or hot restart).
func StaticBootstrap(g *ir.Gateway, r *Resources) *bootstrapv3.Bootstrap {
	clusters := r.Clusters
	if g.SDS != nil {
		clusters = append([]*clusterv3.Cluster{sdsCluster(g.SDS)}, clusters...)
		sortByName(clusters)
	}
	return &bootstrapv3.Bootstrap{
		Node:  node(g),
		Admin: admin(g),
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: r.Listeners,
			Clusters:  clusters,
			Secrets:   r.Secrets,
		},
	}
}

// FilesBootstrap points Envoy at the gateway's xDS directory: listeners and
// clusters (and through them routes and secrets) are read from files there
// and reloaded when a new version is moved into place.
func FilesBootstrap(g *ir.Gateway) *bootstrapv3.Bootstrap {
	b := &bootstrapv3.Bootstrap{
		Node:  node(g),
		Admin: admin(g),
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			LdsConfig: pathSource(g.XDSDir, LDSFile),
			CdsConfig: pathSource(g.XDSDir, CDSFile),
		},
	}
	if g.SDS != nil {
		b.StaticResources = &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{sdsCluster(g.SDS)}}
	}
	return b
}
