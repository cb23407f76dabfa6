package serve

import (
	"sync"
	"time"
)

// deliveries follows each new version of a gateway to its clients, for
// the push duration histogram: from the version being set to every stream
// of the gateway that was open then having acknowledged it.
//
// A stream stops holding a version back when it acknowledges it, rejects
// it (the NACK is counted instead) or closes. The version is observed once
// no stream holds it back, if at least one acknowledged it; a version
// that no stream was open for, that every stream rejected or left, or that
// a newer version of the gateway replaced first, is not observed.
type deliveries struct {
	metrics *metrics

	mu       sync.Mutex
	streams  map[streamKey]*streamAcks
	pending  map[string]*delivery // by node cluster
	gateways map[string]string    // node cluster → the gateway last set for it
}

// streamAcks is what a stream has been sent and has acknowledged.
type streamAcks struct {
	nodeCluster string
	known       bool // the stream has named its node

	// SotW sends every type the stream watches again with each version.
	sent  map[string]bool   // type URLs sent
	acked map[string]string // type URL → the version last acknowledged

	// Delta sends only the types that changed, so a stream is up to date
	// when it has acknowledged a response of the version and awaits no
	// other answer.
	unanswered map[string]string // nonce → version sent
	ackedLast  string            // the version of the last response acknowledged
}

// delivery is one version on its way to a gateway's streams.
type delivery struct {
	gateway, version string
	set              time.Time
	waiting          map[streamKey]bool
	acked            bool
}

func newDeliveries(m *metrics) *deliveries {
	return &deliveries{
		metrics:  m,
		streams:  map[streamKey]*streamAcks{},
		pending:  map[string]*delivery{},
		gateways: map[string]string{},
	}
}

// set records that a version of a gateway is about to be set in the cache,
// before it is, so no acknowledgement can come first.
func (d *deliveries) set(nodeCluster, gateway, version string, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gateways[nodeCluster] = gateway
	delete(d.pending, nodeCluster)
	waiting := map[streamKey]bool{}
	for k, st := range d.streams {
		if st.known && st.nodeCluster == nodeCluster {
			waiting[k] = true
		}
	}
	if len(waiting) > 0 {
		d.pending[nodeCluster] = &delivery{gateway: gateway, version: version, set: at, waiting: waiting}
	}
}

// abandon forgets a version that could not be set.
func (d *deliveries) abandon(nodeCluster string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pending, nodeCluster)
}

func (d *deliveries) stream(k streamKey) *streamAcks {
	st := d.streams[k]
	if st == nil {
		st = &streamAcks{sent: map[string]bool{}, acked: map[string]string{}, unanswered: map[string]string{}}
		d.streams[k] = st
	}
	return st
}

// node records the node cluster a stream's requests name; the first one
// counts.
func (d *deliveries) node(k streamKey, nodeCluster string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stream(k)
	if !st.known {
		st.nodeCluster, st.known = nodeCluster, true
	}
}

func (d *deliveries) response(k streamKey, typeURL, version, nonce string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stream(k)
	if k.protocol == sotw {
		st.sent[typeURL] = true
	} else {
		st.unanswered[nonce] = version
	}
}

// ack records an acknowledgement: of version for a SotW stream, of the
// response with nonce for a delta one.
func (d *deliveries) ack(k streamKey, typeURL, version, nonce string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stream(k)
	if k.protocol == sotw {
		st.acked[typeURL] = version
	} else {
		v, ok := st.unanswered[nonce]
		if !ok {
			return
		}
		delete(st.unanswered, nonce)
		st.ackedLast = v
	}
	p := d.pending[st.nodeCluster]
	if p == nil || !p.waiting[k] || !st.has(k.protocol, p.version) {
		return
	}
	delete(p.waiting, k)
	p.acked = true
	d.settle(st.nodeCluster, p)
}

// has reports whether a stream is up to date with version.
func (st *streamAcks) has(protocol int, version string) bool {
	if protocol == delta {
		return sameVersion(st.ackedLast, version) && len(st.unanswered) == 0
	}
	if len(st.sent) == 0 {
		return false
	}
	for typ := range st.sent {
		if !sameVersion(st.acked[typ], version) {
			return false
		}
	}
	return true
}

// nack records a rejection and returns the gateway of the stream, if one
// is served to its node cluster.
func (d *deliveries) nack(k streamKey, nonce string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stream(k)
	delete(st.unanswered, nonce)
	d.release(k, st.nodeCluster)
	g, ok := d.gateways[st.nodeCluster]
	return g, ok && st.known
}

func (d *deliveries) closed(k streamKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st := d.streams[k]; st != nil {
		d.release(k, st.nodeCluster)
	}
	delete(d.streams, k)
}

// release stops a stream from holding back its gateway's version.
func (d *deliveries) release(k streamKey, nodeCluster string) {
	p := d.pending[nodeCluster]
	if p == nil || !p.waiting[k] {
		return
	}
	delete(p.waiting, k)
	d.settle(nodeCluster, p)
}

func (d *deliveries) settle(nodeCluster string, p *delivery) {
	if len(p.waiting) > 0 {
		return
	}
	delete(d.pending, nodeCluster)
	if p.acked {
		d.metrics.push.WithLabelValues(p.gateway).Observe(time.Since(p.set).Seconds())
	}
}
