package serve

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Resource types as metric labels.
var typeLabels = []string{"listener", "route", "cluster", "endpoint", "secret", "other"}

func typeIndex(typeURL string) int {
	switch typeURL {
	case resourcev3.ListenerType:
		return 0
	case resourcev3.RouteType:
		return 1
	case resourcev3.ClusterType:
		return 2
	case resourcev3.EndpointType:
		return 3
	case resourcev3.SecretType:
		return 4
	}
	return 5
}

func typeLabel(typeURL string) string { return typeLabels[typeIndex(typeURL)] }

const (
	sotw  = 0
	delta = 1
)

var protocols = [2]string{"sotw", "delta"}

// pushBuckets bound the push duration histogram, in seconds: a version
// reaches a few Envoys in milliseconds and a fleet of a thousand in
// seconds; past a minute it is stuck, and the exact time no longer matters.
var pushBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}

// metrics are the server's Prometheus metrics, on a registry of the
// server's own: servers in one process (tests) do not share them.
type metrics struct {
	reg *prometheus.Registry

	streams   [2]prometheus.Gauge
	responses [2][6]prometheus.Counter
	nacks     [2][6]prometheus.Counter

	gatewayNACKs    *prometheus.CounterVec
	push            *prometheus.HistogramVec
	identityRefused *prometheus.CounterVec
	webhooks        [2]prometheus.Counter

	sourceErrors    *prometheus.CounterVec
	sourceLastError *prometheus.GaugeVec

	mu             sync.Mutex // a source's revision series change together
	sourceRevision *prometheus.GaugeVec
	sourceRejected *prometheus.GaugeVec
}

// servedVersion is one series of the version gauge.
type servedVersion struct{ gateway, nodeCluster, version string }

// Webhook calls as metric labels.
const (
	webhookAccepted = 0
	webhookRefused  = 1
)

var webhookResults = [2]string{"accepted", "refused"}

// newMetrics registers every metric; versions lists what is served when
// /metrics is scraped. The webhook series exist only with a webhook.
func newMetrics(versions func() []servedVersion, webhook bool) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	streams := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgectl_serve_streams",
		Help: "Open xDS streams: connected clients.",
	}, []string{"protocol"})
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_responses_total",
		Help: "xDS responses sent.",
	}, []string{"protocol", "type"})
	nacks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_nacks_total",
		Help: "xDS responses a client rejected.",
	}, []string{"protocol", "type"})
	// Every series exists from the start, at zero: a rate over a series
	// that appears with its first event misses that event.
	for p, proto := range protocols {
		m.streams[p] = streams.WithLabelValues(proto)
		for t, typ := range typeLabels {
			m.responses[p][t] = responses.WithLabelValues(proto, typ)
			m.nacks[p][t] = nacks.WithLabelValues(proto, typ)
		}
	}
	m.gatewayNACKs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_gateway_nacks_total",
		Help: "xDS responses a client of a gateway rejected.",
	}, []string{"gateway"})
	m.push = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edgectl_serve_push_duration_seconds",
		Help:    "From a gateway's new version being set to every stream of the gateway connected then having acknowledged it.",
		Buckets: pushBuckets,
	}, []string{"gateway"})
	m.identityRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_identity_refused_total",
		Help: "xDS streams ended because the client's certificate does not allow the node cluster they asked for, by the gateway of that node cluster (empty when none has it).",
	}, []string{"gateway"})
	webhooks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_webhooks_total",
		Help: "Calls of the webhook: accepted (the signature or token verified, a fetch fired) or refused.",
	}, []string{"result"})
	if webhook { // else there is no endpoint to count
		for i, r := range webhookResults {
			m.webhooks[i] = webhooks.WithLabelValues(r)
		}
	}
	m.sourceErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgectl_serve_source_errors_total",
		Help: "Failed reads of a source: broken or unreadable bundles, failed fetches and compiles.",
	}, []string{"source"})
	m.sourceLastError = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgectl_serve_source_last_error_timestamp_seconds",
		Help: "When a source last failed, in seconds since the epoch (0: never).",
	}, []string{"source"})
	m.sourceRevision = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgectl_serve_source_revision",
		Help: "The commit whose bundles a git source serves (always 1).",
	}, []string{"source", "revision"})
	m.sourceRejected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgectl_serve_source_rejected_revision",
		Help: "The newest commit of a git source that failed to compile, until a newer one compiles (always 1).",
	}, []string{"source", "revision"})
	m.reg.MustRegister(
		versionCollector{versions: versions, desc: prometheus.NewDesc("edgectl_serve_gateway_version",
			"The bundle digest served to a gateway's clients (always 1).", []string{"gateway", "node_cluster", "version"}, nil)},
		streams, responses, nacks, m.gatewayNACKs, m.push, m.identityRefused, webhooks,
		m.sourceErrors, m.sourceLastError, m.sourceRevision, m.sourceRejected,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		peakMemoryCollector{desc: prometheus.NewDesc("process_resident_memory_max_bytes",
			"Peak resident set size (VmHWM).", nil, nil)},
	)
	return m
}

func (m *metrics) sourceError(name, revision string, at time.Time) {
	m.sourceErrors.WithLabelValues(name).Inc()
	m.sourceLastError.WithLabelValues(name).Set(float64(at.UnixMilli()) / 1000)
	if revision == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sourceRejected.DeletePartialMatch(prometheus.Labels{"source": name})
	m.sourceRejected.WithLabelValues(name, revision).Set(1)
}

func (m *metrics) sourceServed(name, revision string) {
	// The error series exist, at zero, once a source has been read.
	m.sourceErrors.WithLabelValues(name)
	m.sourceLastError.WithLabelValues(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sourceRevision.DeletePartialMatch(prometheus.Labels{"source": name})
	if revision != "" {
		m.sourceRevision.WithLabelValues(name, revision).Set(1)
		m.sourceRejected.DeletePartialMatch(prometheus.Labels{"source": name})
	}
}

// versionCollector reads the served versions at each scrape, so a version
// replaced leaves no series behind.
type versionCollector struct {
	versions func() []servedVersion
	desc     *prometheus.Desc
}

func (c versionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c versionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.versions() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, v.gateway, v.nodeCluster, v.version)
	}
}

// peakMemoryCollector adds what the process collector leaves out: the peak
// resident set size, which tells how much memory serve needs at its worst
// (a new version to every stream at once).
type peakMemoryCollector struct{ desc *prometheus.Desc }

func (c peakMemoryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c peakMemoryCollector) Collect(ch chan<- prometheus.Metric) {
	if hwm, ok := peakMemory(); ok {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(hwm))
	}
}

// peakMemory reads VmHWM from /proc/self/status, in bytes.
func peakMemory() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return kb * 1024, err == nil
	}
	return 0, false
}
