package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// Resource types as metric labels, in output order.
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

// metrics are the server's counters. They are written in the Prometheus
// text format by hand: a client library would be the only user of its
// dependencies.
type metrics struct {
	streams   [2]atomic.Int64
	responses [2][6]atomic.Int64
	nacks     [2][6]atomic.Int64

	mu      sync.Mutex
	sources map[string]*sourceMetrics
}

type sourceMetrics struct {
	errors    int64
	lastError time.Time
	revision  string // served
	rejected  string // the newest revision that failed, until one succeeds
}

func newMetrics() *metrics { return &metrics{sources: map[string]*sourceMetrics{}} }

func (m *metrics) source(name string) *sourceMetrics {
	sm := m.sources[name]
	if sm == nil {
		sm = &sourceMetrics{}
		m.sources[name] = sm
	}
	return sm
}

func (m *metrics) sourceError(name, revision string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sm := m.source(name)
	sm.errors++
	sm.lastError = at
	if revision != "" {
		sm.rejected = revision
	}
}

func (m *metrics) sourceServed(name, revision string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sm := m.source(name)
	sm.revision = revision
	if revision != "" {
		sm.rejected = ""
	}
}

// servedVersion is one line of the version gauge.
type servedVersion struct{ gateway, nodeCluster, version string }

// write prints every metric. versions are sorted by the caller.
func (m *metrics) write(w io.Writer, versions []servedVersion) {
	var b bytes.Buffer
	header := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	header("edgectl_serve_gateway_version", "gauge", "The bundle digest served to a gateway's clients (always 1).")
	for _, v := range versions {
		fmt.Fprintf(&b, "edgectl_serve_gateway_version{gateway=%s,node_cluster=%s,version=%s} 1\n", q(v.gateway), q(v.nodeCluster), q(v.version))
	}
	header("edgectl_serve_streams", "gauge", "Open xDS streams: connected clients.")
	for p, name := range protocols {
		fmt.Fprintf(&b, "edgectl_serve_streams{protocol=%s} %d\n", q(name), m.streams[p].Load())
	}
	header("edgectl_serve_responses_total", "counter", "xDS responses sent.")
	for p, name := range protocols {
		for t, typ := range typeLabels {
			fmt.Fprintf(&b, "edgectl_serve_responses_total{protocol=%s,type=%s} %d\n", q(name), q(typ), m.responses[p][t].Load())
		}
	}
	header("edgectl_serve_nacks_total", "counter", "xDS responses a client rejected.")
	for p, name := range protocols {
		for t, typ := range typeLabels {
			fmt.Fprintf(&b, "edgectl_serve_nacks_total{protocol=%s,type=%s} %d\n", q(name), q(typ), m.nacks[p][t].Load())
		}
	}

	m.mu.Lock()
	names := slices.Sorted(maps.Keys(m.sources))
	srcs := make([]sourceMetrics, len(names))
	for i, n := range names {
		srcs[i] = *m.sources[n]
	}
	m.mu.Unlock()
	header("edgectl_serve_source_errors_total", "counter", "Failed reads of a source: broken or unreadable bundles, failed fetches and compiles.")
	for i, n := range names {
		fmt.Fprintf(&b, "edgectl_serve_source_errors_total{source=%s} %d\n", q(n), srcs[i].errors)
	}
	header("edgectl_serve_source_last_error_timestamp_seconds", "gauge", "When a source last failed, in seconds since the epoch (0: never).")
	for i, n := range names {
		var ts float64
		if t := srcs[i].lastError; !t.IsZero() {
			ts = float64(t.UnixMilli()) / 1000
		}
		fmt.Fprintf(&b, "edgectl_serve_source_last_error_timestamp_seconds{source=%s} %s\n", q(n), strconv.FormatFloat(ts, 'f', -1, 64))
	}
	header("edgectl_serve_source_revision", "gauge", "The commit whose bundles a git source serves (always 1).")
	for i, n := range names {
		if r := srcs[i].revision; r != "" {
			fmt.Fprintf(&b, "edgectl_serve_source_revision{source=%s,revision=%s} 1\n", q(n), q(r))
		}
	}
	header("edgectl_serve_source_rejected_revision", "gauge", "The newest commit of a git source that failed to compile, until a newer one compiles (always 1).")
	for i, n := range names {
		if r := srcs[i].rejected; r != "" {
			fmt.Fprintf(&b, "edgectl_serve_source_rejected_revision{source=%s,revision=%s} 1\n", q(n), q(r))
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	header("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.")
	fmt.Fprintf(&b, "go_memstats_heap_inuse_bytes %d\n", ms.HeapInuse)
	header("go_memstats_sys_bytes", "gauge", "Bytes of memory obtained from the OS.")
	fmt.Fprintf(&b, "go_memstats_sys_bytes %d\n", ms.Sys)
	if rss, hwm, ok := procMemory(); ok {
		header("process_resident_memory_bytes", "gauge", "Resident set size (VmRSS).")
		fmt.Fprintf(&b, "process_resident_memory_bytes %d\n", rss)
		header("process_resident_memory_max_bytes", "gauge", "Peak resident set size (VmHWM).")
		fmt.Fprintf(&b, "process_resident_memory_max_bytes %d\n", hwm)
	}
	w.Write(b.Bytes())
}

// q quotes a label value as the text format wants it.
func q(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// procMemory reads VmRSS and VmHWM from /proc/self/status, in bytes.
func procMemory() (rss, hwm int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			hwm = kb * 1024
		}
	}
	return rss, hwm, rss > 0
}
