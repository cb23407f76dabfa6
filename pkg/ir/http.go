package ir

import (
	"fmt"
	"time"
)

// Compression compresses responses. Disabled switches off, on a route,
// what its virtual host sets.
type Compression struct {
	Algorithms   []string // gzip, brotli, zstd: in the order of preference
	ContentTypes []string // sorted; empty: Envoy's default list
	MinLength    *uint32
	Disabled     bool
}

// Fault injects delays and aborts. Percentages are of requests.
type Fault struct {
	Delay           *FaultDelay
	Abort           *FaultAbort
	MaxActiveFaults *uint32
}

type FaultDelay struct {
	Fixed      time.Duration // zero with FromHeader
	FromHeader bool
	Percent    float64
}

type FaultAbort struct {
	Status     uint32 // an HTTP status, or
	GRPCStatus *uint32
	FromHeader bool
	Percent    float64
}

// SlowStart ramps a new endpoint's share of traffic up over Window.
type SlowStart struct {
	Window           time.Duration
	Aggression       *float64
	MinWeightPercent *float64
}

// RetryBudget bounds concurrent retries to a share of active requests.
type RetryBudget struct {
	Percent        *float64
	MinConcurrency *uint32
}

// RequestID is how the gateway handles x-request-id.
type RequestID struct {
	Generate         bool
	PreserveExternal bool
	AlwaysInResponse bool
}

// Tracing sends spans to an OpenTelemetry collector over gRPC.
type Tracing struct {
	Cluster     string
	ServiceName string
	Random      *float64
	Client      *float64
	Overall     *float64
}

type AccessLogSinkKind string

const (
	LogStdout AccessLogSinkKind = "stdout"
	LogStderr AccessLogSinkKind = "stderr"
	LogFile   AccessLogSinkKind = "file"
	LogOTel   AccessLogSinkKind = "openTelemetry"
)

// AccessLogSink is one access logger.
type AccessLogSink struct {
	Kind    AccessLogSinkKind
	Path    string // LogFile
	Cluster string // LogOTel
	LogName string // LogOTel
	JSON    bool
	Text    string   // a text format; empty: Envoy's default
	Fields  []Header // JSON fields beside the defaults, sorted by name
	// Filters; zero values are unset.
	StatusAtLeast uint32
	ResponseFlags []string // sorted
}

// validateHTTP checks what the HTTP features of a gateway refer to and
// require; Validate calls it with the gateway's cluster names.
func (g *Gateway) validateHTTP(clusters map[string]bool) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t := g.Tracing; t != nil && !clusters[t.Cluster] {
		fail("tracing: unknown cluster %q", t.Cluster)
	}
	for i, a := range g.AccessLogs {
		if a.Kind == LogOTel && !clusters[a.Cluster] {
			fail("access log %d: unknown cluster %q", i, a.Cluster)
		}
	}
	for _, c := range g.Clusters {
		seen := map[uint32]bool{}
		var top uint32
		for _, ep := range c.Endpoints {
			seen[ep.Priority] = true
			top = max(top, ep.Priority)
		}
		for p := range top {
			if !seen[p] {
				fail("cluster %q: endpoint priorities skip %d", c.Name, p)
				break
			}
		}
		if c.AutoHTTP && (c.HTTP2 || c.TLS == nil) {
			fail("cluster %q: automatic HTTP needs TLS and excludes explicit HTTP/2", c.Name)
		}
		if c.SlowStart != nil && c.LB != RoundRobin && c.LB != LeastRequest {
			fail("cluster %q: slow start with %s", c.Name, c.LB)
		}
	}
	return errs
}

// validateHTTP checks a route's HTTP features.
func (r *Route) validateHTTP() error {
	if r.HedgeOnPerTryTimeout && (r.Retry == nil || r.Retry.PerTryTimeout == nil) {
		return fmt.Errorf("hedging without a per-try timeout")
	}
	if c := r.Compression; c != nil && !c.Disabled && len(c.Algorithms) == 0 {
		return fmt.Errorf("compression without an algorithm")
	}
	if f := r.Fault; f != nil && f.Delay == nil && f.Abort == nil {
		return fmt.Errorf("fault with neither delay nor abort")
	}
	return nil
}
