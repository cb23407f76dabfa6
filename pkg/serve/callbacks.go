package serve

import (
	"context"
	"log/slog"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// streamKey names a stream: SotW and delta streams are numbered apart.
type streamKey struct {
	protocol int
	id       int64
}

// observer counts what the xDS server does and logs what needs a look: a
// client rejecting a version. It never changes what is served: the cache
// must not be touched from a callback.
type observer struct {
	log        *slog.Logger
	metrics    *metrics
	deliveries *deliveries

	mu   sync.Mutex
	sent map[streamKey]map[string]string // type URL → version last sent, for NACK reports
}

func newObserver(log *slog.Logger, m *metrics, d *deliveries) *observer {
	return &observer{log: log, metrics: m, deliveries: d, sent: map[streamKey]map[string]string{}}
}

func (o *observer) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			o.open(streamKey{sotw, id})
			return nil
		},
		StreamClosedFunc: func(id int64, n *corev3.Node) { o.closed(streamKey{sotw, id}, n) },
		StreamRequestFunc: func(id int64, req *discoveryv3.DiscoveryRequest) error {
			k := streamKey{sotw, id}
			o.node(k, req.GetNode())
			switch {
			case req.GetErrorDetail() != nil:
				o.nack(k, req.GetNode(), req.GetTypeUrl(), req.GetVersionInfo(), req.GetResponseNonce(), req.GetErrorDetail().GetMessage())
			case req.GetResponseNonce() != "":
				o.deliveries.ack(k, req.GetTypeUrl(), req.GetVersionInfo(), req.GetResponseNonce())
			}
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
			o.response(streamKey{sotw, id}, resp.GetTypeUrl(), resp.GetVersionInfo(), resp.GetNonce())
		},
		DeltaStreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			o.open(streamKey{delta, id})
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, n *corev3.Node) { o.closed(streamKey{delta, id}, n) },
		StreamDeltaRequestFunc: func(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			k := streamKey{delta, id}
			// Only a delta stream's first request names its node.
			o.node(k, req.GetNode())
			switch {
			case req.GetErrorDetail() != nil:
				o.nack(k, req.GetNode(), req.GetTypeUrl(), "", req.GetResponseNonce(), req.GetErrorDetail().GetMessage())
			case req.GetResponseNonce() != "":
				o.deliveries.ack(k, req.GetTypeUrl(), "", req.GetResponseNonce())
			}
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			o.response(streamKey{delta, id}, resp.GetTypeUrl(), resp.GetSystemVersionInfo(), resp.GetNonce())
		},
	}
}

func (o *observer) open(k streamKey) {
	o.metrics.streams[k.protocol].Inc()
	o.log.Debug("stream opened", "protocol", protocols[k.protocol], "stream", k.id)
}

func (o *observer) closed(k streamKey, n *corev3.Node) {
	o.metrics.streams[k.protocol].Dec()
	o.deliveries.closed(k)
	o.mu.Lock()
	delete(o.sent, k)
	o.mu.Unlock()
	o.log.Debug("stream closed", "protocol", protocols[k.protocol], "stream", k.id, "node", n.GetId(), "node_cluster", n.GetCluster())
}

func (o *observer) node(k streamKey, n *corev3.Node) {
	if n != nil {
		o.deliveries.node(k, n.GetCluster())
	}
}

func (o *observer) response(k streamKey, typeURL, version, nonce string) {
	o.metrics.responses[k.protocol][typeIndex(typeURL)].Inc()
	o.deliveries.response(k, typeURL, version, nonce)
	o.mu.Lock()
	m := o.sent[k]
	if m == nil {
		m = map[string]string{}
		o.sent[k] = m
	}
	m[typeURL] = version
	o.mu.Unlock()
}

// nack reports a rejected response. What was rejected cannot be fixed here
// (the version was validated before it was served), so it is said once per
// rejection and serving goes on; the client keeps its last good version.
func (o *observer) nack(k streamKey, n *corev3.Node, typeURL, accepted, nonce, msg string) {
	o.metrics.nacks[k.protocol][typeIndex(typeURL)].Inc()
	if gateway, ok := o.deliveries.nack(k, nonce); ok {
		o.metrics.gatewayNACKs.WithLabelValues(gateway).Inc()
	}
	o.mu.Lock()
	rejected := o.sent[k][typeURL]
	o.mu.Unlock()
	o.log.Warn("client rejected a version",
		"node", n.GetId(), "node_cluster", n.GetCluster(), "flavour", flavourOf(n),
		"protocol", protocols[k.protocol], "stream", k.id, "type", typeLabel(typeURL),
		"version", rejected, "accepted", accepted, "nonce", nonce, "error", msg)
}
