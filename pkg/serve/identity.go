package serve

import (
	"context"
	"crypto/x509"
	"log/slog"
	"slices"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Identities maps a client certificate's subject alternative names (DNS
// names and URIs, such as spiffe://fleet/edge) to the node clusters a
// client presenting it may ask for. A certificate with several names may
// ask for the node clusters of each.
type Identities map[string][]string

// allowed is the set of node clusters cert may ask for, and the names of
// cert that Identities knows.
func (ids Identities) allowed(cert *x509.Certificate) map[string]bool {
	out := map[string]bool{}
	if cert == nil {
		return out
	}
	for _, san := range sans(cert) {
		for _, c := range ids[san] {
			out[c] = true
		}
	}
	return out
}

// sans lists the DNS and URI names of cert.
func sans(cert *x509.Certificate) []string {
	out := slices.Clone(cert.DNSNames)
	for _, u := range cert.URIs {
		out = append(out, u.String())
	}
	return out
}

// peerCertificate is the verified client certificate of the connection a
// stream came on, or nil.
func peerCertificate(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return info.State.VerifiedChains[0][0]
}

// identityGuard ends every stream whose node cluster the client's
// certificate does not allow, with PermissionDenied.
type identityGuard struct {
	ids     Identities
	log     *slog.Logger
	refused *prometheus.CounterVec
	gateway func(nodeCluster string) string

	mu      sync.Mutex
	streams map[streamKey]*streamIdentity
}

type streamIdentity struct {
	cert    bool     // the client presented a verified certificate
	names   []string // its DNS and URI names
	allowed map[string]bool
	checked bool // a node has been checked
}

func newIdentityGuard(ids Identities, log *slog.Logger, refused *prometheus.CounterVec, gateway func(string) string) *identityGuard {
	return &identityGuard{ids: ids, log: log, refused: refused, gateway: gateway, streams: map[streamKey]*streamIdentity{}}
}

// wrap puts the guard in front of cb: a refused request goes no further.
func (g *identityGuard) wrap(cb serverv3.CallbackFuncs) serverv3.CallbackFuncs {
	open := func(next func(context.Context, int64, string) error, protocol int) func(context.Context, int64, string) error {
		return func(ctx context.Context, id int64, typeURL string) error {
			g.open(ctx, streamKey{protocol, id})
			if next == nil {
				return nil
			}
			return next(ctx, id, typeURL)
		}
	}
	closed := func(next func(int64, *corev3.Node), protocol int) func(int64, *corev3.Node) {
		return func(id int64, n *corev3.Node) {
			g.mu.Lock()
			delete(g.streams, streamKey{protocol, id})
			g.mu.Unlock()
			if next != nil {
				next(id, n)
			}
		}
	}
	sotwRequest, deltaRequest := cb.StreamRequestFunc, cb.StreamDeltaRequestFunc
	cb.StreamOpenFunc = open(cb.StreamOpenFunc, sotw)
	cb.DeltaStreamOpenFunc = open(cb.DeltaStreamOpenFunc, delta)
	cb.StreamClosedFunc = closed(cb.StreamClosedFunc, sotw)
	cb.DeltaStreamClosedFunc = closed(cb.DeltaStreamClosedFunc, delta)
	cb.StreamRequestFunc = func(id int64, req *discoveryv3.DiscoveryRequest) error {
		if err := g.check(streamKey{sotw, id}, req.GetNode()); err != nil {
			return err
		}
		if sotwRequest == nil {
			return nil
		}
		return sotwRequest(id, req)
	}
	cb.StreamDeltaRequestFunc = func(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
		if err := g.check(streamKey{delta, id}, req.GetNode()); err != nil {
			return err
		}
		if deltaRequest == nil {
			return nil
		}
		return deltaRequest(id, req)
	}
	return cb
}

func (g *identityGuard) open(ctx context.Context, k streamKey) {
	cert := peerCertificate(ctx)
	id := &streamIdentity{allowed: g.ids.allowed(cert)}
	if cert != nil {
		id.cert, id.names = true, sans(cert)
	}
	g.mu.Lock()
	g.streams[k] = id
	g.mu.Unlock()
}

// check refuses a request whose node the stream's certificate does not
// allow. A SotW request always carries the stream's node (the server fills
// in the first one); a delta request only when the client sends it, and
// the first one must.
func (g *identityGuard) check(k streamKey, n *corev3.Node) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := g.streams[k]
	if id == nil {
		return status.Error(codes.Internal, "stream not opened")
	}
	if n == nil {
		if id.checked {
			return nil
		}
		return status.Error(codes.PermissionDenied, "the first request of a stream must name its node")
	}
	cluster := n.GetCluster()
	if id.allowed[cluster] {
		id.checked = true
		return nil
	}
	gateway := g.gateway(cluster)
	g.refused.WithLabelValues(gateway).Inc()
	who := "a client without a verified certificate"
	switch {
	case id.cert && len(id.names) == 0:
		who = "a client certificate with no DNS or URI name"
	case id.cert:
		who = "a client certificate naming " + strings.Join(id.names, ", ")
	}
	g.log.Warn("refused a client its certificate does not allow", "node", n.GetId(), "node_cluster", cluster,
		"gateway", gateway, "protocol", protocols[k.protocol], "stream", k.id, "certificate_names", strings.Join(id.names, ","))
	return status.Errorf(codes.PermissionDenied, "node cluster %q is not allowed for %s", cluster, who)
}
