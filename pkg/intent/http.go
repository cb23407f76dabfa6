package intent

// The HTTP features of routes, virtual hosts, backends and gateways beyond
// routing and security: compression, fault injection, hedging, gRPC,
// upstream behaviour and observability. schemas/edgectl.cue is the
// authority on what is valid.

// Compression compresses responses with the listed algorithms, in the
// order of preference.
type Compression struct {
	Algorithms   []string `yaml:"algorithms"`
	ContentTypes []string `yaml:"contentTypes"`
	MinLength    *int     `yaml:"minLength"`
	Disabled     bool     `yaml:"disabled"`
}

// Fault injects delays and aborts into a route's requests.
type Fault struct {
	Delay           *FaultDelay `yaml:"delay"`
	Abort           *FaultAbort `yaml:"abort"`
	MaxActiveFaults *int        `yaml:"maxActiveFaults"`
}

// FaultDelay delays a share of requests by a fixed time, or by what the
// x-envoy-fault-delay-request header asks.
type FaultDelay struct {
	Fixed      string   `yaml:"fixed"`
	FromHeader bool     `yaml:"fromHeader"`
	Percent    *float64 `yaml:"percent"`
}

// FaultAbort answers a share of requests with an HTTP or gRPC status, or
// with what the x-envoy-fault-abort-request (or -grpc-request) header asks.
type FaultAbort struct {
	Status     int      `yaml:"status"`
	GRPCStatus *int     `yaml:"grpcStatus"`
	FromHeader bool     `yaml:"fromHeader"`
	Percent    *float64 `yaml:"percent"`
}

// Hedge sends a second request when the first exceeds its per-try timeout.
type Hedge struct {
	OnPerTryTimeout bool `yaml:"onPerTryTimeout"`
}

// GRPCMatch matches the calls of a gRPC service, or of one of its methods.
type GRPCMatch struct {
	Service string `yaml:"service"`
	Method  string `yaml:"method"`
}

// SlowStart ramps up the share of traffic a new endpoint takes.
type SlowStart struct {
	Window           string   `yaml:"window"`
	Aggression       *float64 `yaml:"aggression"`
	MinWeightPercent *float64 `yaml:"minWeightPercent"`
}

// RetryBudget bounds retries to a share of the active requests.
type RetryBudget struct {
	Percent        *float64 `yaml:"percent"`
	MinConcurrency *int     `yaml:"minConcurrency"`
}

// RequestID sets how the gateway handles x-request-id.
type RequestID struct {
	Generate         *bool `yaml:"generate"`
	PreserveExternal bool  `yaml:"preserveExternal"`
	AlwaysInResponse bool  `yaml:"alwaysInResponse"`
}

// Tracing sends spans to an OpenTelemetry collector.
type Tracing struct {
	Backend     string    `yaml:"backend"`
	ServiceName string    `yaml:"serviceName"`
	Sampling    *Sampling `yaml:"sampling"`
}

// Sampling are percentages of requests traced.
type Sampling struct {
	Random  *float64 `yaml:"random"`
	Client  *float64 `yaml:"client"`
	Overall *float64 `yaml:"overall"`
}

// AccessLogSink is one place access log lines go to: exactly one of
// stdout, stderr, file and openTelemetry.
type AccessLogSink struct {
	Stdout        bool              `yaml:"stdout"`
	Stderr        bool              `yaml:"stderr"`
	File          string            `yaml:"file"`
	OpenTelemetry *OTelLogSink      `yaml:"openTelemetry"`
	Format        string            `yaml:"format"`
	Text          string            `yaml:"text"`
	Fields        map[string]string `yaml:"fields"`
	Filter        *AccessLogFilter  `yaml:"filter"`
}

type OTelLogSink struct {
	Backend string `yaml:"backend"`
	LogName string `yaml:"logName"`
}

// AccessLogFilter keeps only some lines; every condition set must hold.
type AccessLogFilter struct {
	StatusAtLeast *int     `yaml:"statusAtLeast"`
	ResponseFlags []string `yaml:"responseFlags"`
}
