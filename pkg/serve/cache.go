package serve

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Snapshots are keyed by node cluster and flavour.
const (
	envoyFlavour = "envoy"
	grpcFlavour  = "grpc"
)

func snapshotKey(flavour, nodeCluster string) string { return flavour + "/" + nodeCluster }

// nodeHash maps a client to its snapshot. The gateway is chosen by
// node.cluster, which every Envoy of a gateway shares (its manifest's
// node.cluster), so one snapshot serves the whole fleet and node.id stays
// free to name each instance. The flavour is chosen by
// node.user_agent_name: gRPC libraries send "gRPC Go", "gRPC Java",
// "gRPC C++" and so on, and get the proxyless flavour; everything else
// (Envoy sends "envoy") gets Envoy's.
type nodeHash struct{}

func (nodeHash) ID(n *corev3.Node) string {
	return snapshotKey(flavourOf(n), n.GetCluster())
}

func flavourOf(n *corev3.Node) string {
	if strings.HasPrefix(n.GetUserAgentName(), "gRPC") {
		return grpcFlavour
	}
	return envoyFlavour
}

// nackGuard keeps a NACK from becoming a storm. A client that rejects a
// version asks again with the version it last accepted; go-control-plane's
// snapshot cache sees a version that differs from its own and answers at
// once with the version just rejected, which the client rejects again:
// thousands of times a second until the snapshot changes
// (go-control-plane#962, #564).
//
// A NACK of the version the cache holds is therefore taken as a request up
// to date with it (sotwCache.CreateWatch): its watch fires when a new
// version is set. A NACK of an older version still gets the current one.
// Delta xDS needs no guard: the server records what each stream was sent,
// NACKed or not.
func nackGuard(req *cachev3.Request, sub cachev3.Subscription, v string) bool {
	return req.GetErrorDetail() != nil && sentAt(sub.ReturnedResources(), v)
}

// sentAt reports whether the last response of a SotW subscription, whose
// resources carry the version they were sent with, was of version v.
func sentAt(returned map[string]string, v string) bool {
	for _, rv := range returned {
		if rv != v {
			return false
		}
	}
	return true
}
