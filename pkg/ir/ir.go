// Package ir is the normalised form of one gateway: defaults applied,
// references resolved, routes in precedence order. Translation to Envoy reads
// nothing else, and everything a user can get wrong is caught before it.
package ir

import (
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Gateway is one Envoy fleet and everything it serves.
type Gateway struct {
	Name             string
	NodeID           string
	NodeCluster      string
	Admin            *SocketAddress
	AccessLog        *AccessLog
	TrustedProxyHops uint32
	// XDSDir is the directory on the Envoy host that holds the file-based
	// xDS files; the dynamic bootstrap points there.
	XDSDir string
	SDS    *SDSServer
	// RE2MaxProgramSize, when set, raises Envoy's limit on the size of a
	// regex (runtime key re2.max_program_size.error_level, 100 by default).
	RE2MaxProgramSize uint32
	Listeners         []*Listener // sorted by name
	Clusters          []*Cluster  // sorted by name
	Secrets           []*Secret   // sorted by name

	// What the gateway's security rules refer to, each sorted by name.
	JWTProviders      []*JWTProvider
	AuthServices      []*AuthService
	RateLimitServices []*RateLimitService

	// Observability (http.go).
	RequestID  *RequestID
	Tracing    *Tracing
	AccessLogs []*AccessLogSink // in the order declared
	// Patches are the gateway's EnvoyPatches, sorted by name, applied in
	// that order to the generated resources.
	Patches []*Patch `json:",omitempty"`
}

type SocketAddress struct {
	Address string
	Port    uint32
}

// SDSServer is where certificates of kind sds are fetched from: a gRPC
// server at an address, or on a Unix socket (Pipe).
type SDSServer struct {
	Address string
	Port    uint32
	Pipe    string
}

type AccessLog struct {
	Path   string
	JSON   bool
	Fields []Header // extra JSON fields, sorted by name
}

type Protocol string

const (
	HTTP  Protocol = "HTTP"
	HTTPS Protocol = "HTTPS"
	TCP   Protocol = "TCP"
)

type Listener struct {
	Name     string
	Address  string
	Port     uint32
	Protocol Protocol
	Routes   *RouteTable  // HTTP: every virtual host on the listener
	TLS      *ListenerTLS // HTTPS only
	// StatsPrefix, when set, replaces the listener's name in its HTTP
	// statistics.
	StatsPrefix string
	Chains      []*FilterChain // HTTPS: one per certificate or passthrough, sorted by name
	TCP         *TCPProxy      // TCP only

	ProxyProtocol  bool
	MaxConnections uint64        // 0: no limit
	HTTP           *HTTPSettings // HTTP and HTTPS; nil: DefaultHTTPSettings
	// HTTP3 serves the HTTPS listener's terminated chains over QUIC too,
	// on the same port, and advertises it with alt-svc.
	HTTP3 bool
	// Origin is where the gateway declares the listener (its TLS minimum
	// version when it sets one).
	Origin diag.Pos
}

// HTTPSettings are the connection manager settings of an HTTP or HTTPS
// listener, every one filled in (defaults applied).
type HTTPSettings struct {
	IdleTimeout           time.Duration
	StreamIdleTimeout     time.Duration
	RequestHeadersTimeout time.Duration
	RequestTimeout        time.Duration // 0: none
	MaxConnectionDuration time.Duration // 0: none
	MaxRequestHeadersKB   uint32
	MaxConcurrentStreams  uint32
	InitialStreamWindow   uint32
	InitialConnWindow     uint32
	NormalizePath         bool
	MergeSlashes          bool
	EscapedSlashes        EscapedSlashes
}

// DefaultHTTPSettings are the connection settings of an HTTP or HTTPS
// listener that names none, after Envoy's guidance for an edge proxy
// (docs/listeners.md says why each one). A listener with HTTP nil has
// them.
func DefaultHTTPSettings() *HTTPSettings {
	return &HTTPSettings{
		IdleTimeout:           time.Hour,
		StreamIdleTimeout:     5 * time.Minute,
		RequestHeadersTimeout: 10 * time.Second,
		MaxRequestHeadersKB:   60,
		MaxConcurrentStreams:  100,
		InitialStreamWindow:   64 * 1024,
		InitialConnWindow:     1024 * 1024,
		NormalizePath:         true,
		MergeSlashes:          true,
		EscapedSlashes:        UnescapeAndRedirect,
	}
}

// EscapedSlashes is what happens to %2F and %5C in a path.
type EscapedSlashes string

const (
	UnescapeAndRedirect EscapedSlashes = "UnescapeAndRedirect"
	RejectEscaped       EscapedSlashes = "Reject"
	UnescapeAndForward  EscapedSlashes = "UnescapeAndForward"
	KeepEscaped         EscapedSlashes = "Keep"
)

// TCPProxy forwards connections as bytes.
type TCPProxy struct {
	Clusters    []WeightedCluster // one: no weights
	IdleTimeout *time.Duration    // nil: Envoy's (1h)
}

type ListenerTLS struct {
	MinVersion   string // "1.0" … "1.3"
	MaxVersion   string
	ALPN         []string
	CipherSuites []string
	ECDHCurves   []string
}

// FilterChain serves the virtual hosts of one certificate, selected by SNI,
// or passes connections for its server names through to a backend.
type FilterChain struct {
	Name        string
	ServerNames []string // sorted; none on the fallback chain
	Certificate CertRef
	Routes      *RouteTable
	// ClientCertificates, when set, asks clients for a certificate.
	ClientCertificates *ClientCertificates
	// Passthrough, when set, is a chain that does not terminate TLS:
	// no certificate, no routes. Its virtual host and team are in
	// PassthroughHost and Team.
	Passthrough     *TCPProxy
	PassthroughHost string
	Team            string
	// Fallback is the chain for clients without a known server name.
	Fallback bool
}

// CertRef names TLS material: a Secret of the gateway, or a secret the
// gateway's SDS server holds.
type CertRef struct {
	Name    string // the Certificate document
	SDS     bool   // fetched from Gateway.SDS
	SDSName string // the name the SDS server knows it by
}

// RouteTable becomes one Envoy RouteConfiguration.
type RouteTable struct {
	Name         string
	VirtualHosts []*VirtualHost // sorted by name
	// AltSvc, when set, is the alt-svc response header every response
	// carries: how an HTTPS listener advertises its HTTP/3.
	AltSvc string
}

type VirtualHost struct {
	Name            string
	Team            string   // the team of the virtual host's document
	Domains         []string // sorted
	Routes          []*Route // in precedence order: the first match wins
	RequestHeaders  HeaderOps
	ResponseHeaders HeaderOps
	Security        *Security // effective rules; nil: none
	Compression     *Compression
	GRPCWeb         bool
}

type Route struct {
	Name  string
	Match Match

	// Exactly one action is set.
	Forward  []WeightedCluster
	Redirect *Redirect
	Respond  *Respond

	Timeout         *time.Duration
	IdleTimeout     *time.Duration
	Retry           *Retry
	PrefixRewrite   *string
	RegexRewrite    *RegexRewrite
	HostRewrite     string
	RequestHeaders  HeaderOps
	ResponseHeaders HeaderOps
	Mirror          *Mirror
	Websocket       bool
	Hash            []HashPolicy
	// Security holds the rules the route, or an include enclosing it, sets
	// itself; VirtualHost.Effective merges them with the virtual host's.
	Security *Security
	// Compression set on the route itself; nil inherits the virtual host's.
	Compression *Compression
	Fault       *Fault
	// HedgeOnPerTryTimeout sends a second request when the first exceeds
	// the retry policy's per-try timeout.
	HedgeOnPerTryTimeout bool

	// Origin is where the route was declared, and Team who declared it,
	// for findings and diffs.
	Origin diag.Pos
	Team   string
}

type PathKind string

const (
	PathExact  PathKind = "exact"
	PathRegex  PathKind = "regex"
	PathPrefix PathKind = "prefix"
	// PathSegment matches the path itself or anything below it ("/pay"
	// and "/pay/..." but not "/payx"): the fence of an included route set.
	PathSegment PathKind = "path-prefix"
)

type Match struct {
	PathKind PathKind
	Path     string
	Methods  []string // sorted; empty matches every method
	Headers  []HeaderMatch
	Query    []QueryMatch
}

type MatchKind string

const (
	MatchExact    MatchKind = "exact"
	MatchPrefix   MatchKind = "prefix"
	MatchSuffix   MatchKind = "suffix"
	MatchContains MatchKind = "contains"
	MatchRegex    MatchKind = "regex"
	MatchPresent  MatchKind = "present"
	MatchAbsent   MatchKind = "absent"
)

type StringMatch struct {
	Kind       MatchKind
	Value      string
	IgnoreCase bool
}

type HeaderMatch struct {
	Name string
	StringMatch
	Invert bool
}

type QueryMatch struct {
	Name string
	StringMatch
}

type WeightedCluster struct {
	Cluster string
	Weight  uint32
}

type Redirect struct {
	Scheme     string
	Host       string
	Port       uint32
	Path       string
	Prefix     string
	Code       int
	StripQuery bool
}

type Respond struct {
	Status uint32
	Body   string
}

type Retry struct {
	On            []string
	Attempts      uint32
	PerTryTimeout *time.Duration
	StatusCodes   []uint32
	BackoffBase   *time.Duration
	BackoffMax    *time.Duration
}

type RegexRewrite struct {
	Pattern      string
	Substitution string
}

// HeaderOps changes headers; each list is sorted by name.
type HeaderOps struct {
	Set    []Header
	Add    []Header
	Remove []string
}

type Header struct {
	Name  string
	Value string
}

type Mirror struct {
	Cluster string
	Percent float64
}

type HashPolicy struct {
	Header   string
	Cookie   *HashCookie
	SourceIP bool
	Terminal bool
}

type HashCookie struct {
	Name string
	TTL  *time.Duration
	Path string
}

type Discovery string

const (
	Static    Discovery = "static"
	StrictDNS Discovery = "strict-dns"
	// Kubernetes: the endpoints of a Kubernetes Service, which only an xDS
	// server that watches the cluster (edgectl serve) can give.
	Kubernetes Discovery = "kubernetes"
)

// Service names a Kubernetes Service port. Port is the port's number in
// decimal, or its name.
type Service struct {
	Namespace string
	Name      string
	Port      string
}

type LBPolicy string

const (
	RoundRobin   LBPolicy = "RoundRobin"
	LeastRequest LBPolicy = "LeastRequest"
	Random       LBPolicy = "Random"
	RingHash     LBPolicy = "RingHash"
	Maglev       LBPolicy = "Maglev"
)

type Cluster struct {
	Name           string
	Discovery      Discovery
	Endpoints      []Endpoint
	Service        *Service // with Discovery Kubernetes, instead of Endpoints
	HTTP2          bool
	ConnectTimeout time.Duration
	LB             LBPolicy
	TLS            *UpstreamTLS
	HealthCheck    *HealthCheck
	CircuitBreaker *CircuitBreaker
	Outlier        *Outlier
	// AutoHTTP picks HTTP/2 or HTTP/1.1 by ALPN (with TLS); HTTP2 is false.
	AutoHTTP  bool
	SlowStart *SlowStart
}

type Endpoint struct {
	Address string
	Port    uint32
	Weight  uint32 // 0: unset
	// Priority 0 takes traffic first; the next priority takes it when the
	// endpoints before are unhealthy.
	Priority uint32
}

type UpstreamTLS struct {
	SNI               string
	CA                *CertRef
	SubjectAltNames   []string
	ClientCertificate *CertRef
	MinVersion        string // "": Envoy's
	MaxVersion        string
	CipherSuites      []string
	// Origin is where the backend declares its TLS (its minimum version
	// when it sets one).
	Origin diag.Pos
}

type HealthCheckKind string

const (
	HealthHTTP HealthCheckKind = "http"
	HealthTCP  HealthCheckKind = "tcp"
	HealthGRPC HealthCheckKind = "grpc"
)

type HealthCheck struct {
	Kind               HealthCheckKind
	Path               string
	Host               string
	ExpectedStatuses   []uint32
	Service            string
	Interval           time.Duration
	Timeout            time.Duration
	HealthyThreshold   uint32
	UnhealthyThreshold uint32
}

type CircuitBreaker struct {
	MaxConnections     *uint32
	MaxPendingRequests *uint32
	MaxRequests        *uint32
	MaxRetries         *uint32
	RetryBudget        *RetryBudget
}

type Outlier struct {
	Consecutive5xx           *uint32
	ConsecutiveGatewayErrors *uint32
	Interval                 *time.Duration
	BaseEjectionTime         *time.Duration
	MaxEjectionPercent       *uint32
}

// Secret is TLS material as files on the Envoy host: a key pair, or a CA
// bundle (CA set, Chain and Key empty).
type Secret struct {
	Name  string
	Chain string
	Key   string
	CA    string
}

// RouteAt finds a route by where Envoy has it: the route configuration's
// name, the virtual host's name and the route's position. A route table
// lists its virtual hosts and routes in the order Envoy receives them, so
// what a simulator matched maps back to the route's origin and team.
func (g *Gateway) RouteAt(table, vhost string, index int) (*VirtualHost, *Route) {
	for _, l := range g.Listeners {
		tables := []*RouteTable{l.Routes}
		for _, c := range l.Chains {
			tables = append(tables, c.Routes)
		}
		for _, t := range tables {
			if t == nil || t.Name != table {
				continue
			}
			for _, vh := range t.VirtualHosts {
				if vh.Name != vhost {
					continue
				}
				if index < 0 || index >= len(vh.Routes) {
					return vh, nil
				}
				return vh, vh.Routes[index]
			}
		}
	}
	return nil, nil
}
