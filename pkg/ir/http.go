package ir

import "time"

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
