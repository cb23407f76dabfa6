package intent

// The typed form of each kind. Field names and meaning follow
// schemas/edgectl.cue, which is the authority on what is valid; docs/ explains
// each field with an example. Absent optional values are zero values, or nil
// where absence differs from zero.

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Metadata is common to every kind.
type Metadata struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Project is edgectl.yaml.
type Project struct {
	Metadata Metadata    `yaml:"metadata"`
	Spec     ProjectSpec `yaml:"spec"`
	Doc      *Doc        `yaml:"-"`
}

type ProjectSpec struct {
	Intents      []string          `yaml:"intents"`
	Exclude      []string          `yaml:"exclude"`
	Tests        []string          `yaml:"tests"`
	EnvoyVersion string            `yaml:"envoyVersion"`
	Teams        []Team            `yaml:"teams"`
	Policies     *Policies         `yaml:"policies"`
	Acknowledge  []Acknowledgement `yaml:"acknowledge"`
	Regex        *RegexOptions     `yaml:"regex"`
}

// RegexOptions sets how large a regex the gateways accept.
type RegexOptions struct {
	MaxProgramSize int `yaml:"maxProgramSize"`
}

// Team owns files, and through them what those files may declare.
type Team struct {
	Name         string   `yaml:"name" json:"name"`
	Paths        []string `yaml:"paths" json:"paths"`
	Hostnames    []string `yaml:"hostnames" json:"hostnames"`
	Certificates []string `yaml:"certificates" json:"certificates"`
	Backends     []string `yaml:"backends" json:"backends"` // nil: any backend
	// The shared security definitions the team may use; nil: any.
	AuthProviders     []string `yaml:"authProviders" json:"authProviders"`
	AuthServices      []string `yaml:"authServices" json:"authServices"`
	RateLimitServices []string `yaml:"rateLimitServices" json:"rateLimitServices"`
	Platform          bool     `yaml:"platform" json:"platform"`
	RequireTLS        bool     `yaml:"requireTLS" json:"requireTLS"`
	// Namespaces (or globs) of the Gateway API objects the team owns.
	Namespaces []string `yaml:"namespaces" json:"namespaces"`
}

// Policies configures policy as code: the repository's Rego files and the
// built-in library.
type Policies struct {
	Paths   []string        `yaml:"paths"`
	Builtin BuiltinPolicies `yaml:"builtin"`
	Limits  *PolicyLimits   `yaml:"limits"`
}

// PolicyLimits bound each evaluation of the policies; empty fields keep
// edgectl's defaults.
type PolicyLimits struct {
	Timeout string `yaml:"timeout"` // a duration, such as "10s"
	Memory  string `yaml:"memory"`  // a size, such as "512Mi"
}

// BuiltinPolicies switches on and parameterises the embedded policies; a
// nil field is off. The JSON names are what the policies read as params.
type BuiltinPolicies struct {
	TLSRequired   *BuiltinParams `yaml:"tlsRequired"`
	MaxTimeout    *BuiltinParams `yaml:"maxTimeout"`
	MaxRetries    *BuiltinParams `yaml:"maxRetries"`
	WildcardHosts *BuiltinParams `yaml:"wildcardHosts"`
	HealthChecks  *BuiltinParams `yaml:"healthChecks"`
	UpstreamTLS   *BuiltinParams `yaml:"upstreamTLS"`
	RedirectHosts *BuiltinParams `yaml:"redirectHosts"`
	// The security built-ins read the lowered gateways, with inherited
	// rules, so they are written in Go (pkg/policy/security.go).
	AuthRequired      *BuiltinParams `yaml:"authRequired"`
	RateLimitRequired *BuiltinParams `yaml:"rateLimitRequired"`
	CORSOrigins       *BuiltinParams `yaml:"corsOrigins"`
	IPAllowlist       *BuiltinParams `yaml:"ipAllowlist"`
	ExtAuthFailOpen   *BuiltinParams `yaml:"extAuthFailOpen"`
	// FaultInjection allows fault injection only on the listed gateways.
	FaultInjection *BuiltinParams `yaml:"faultInjection"`

	// EnvoyPatches governs the platform team's EnvoyPatches (Go, over the
	// lowered gateways; pkg/policy/patches.go).
	EnvoyPatches *EnvoyPatchesPolicy `yaml:"envoyPatches"`
	// TLSFloor reads the lowered listeners and clusters, with defaults
	// applied (pkg/policy/tlsfloor.go).
	TLSFloor *BuiltinParams `yaml:"tlsFloor"`
}

// EnvoyPatchesPolicy forbids EnvoyPatches (Allowed false), or allows them
// on the listed gateways only.
type EnvoyPatchesPolicy struct {
	Allowed  *bool    `yaml:"allowed"`
	Gateways []string `yaml:"gateways"`
	Severity string   `yaml:"severity"`
}

// BuiltinParams holds the parameters of every built-in policy; each uses
// the ones its schema allows.
type BuiltinParams struct {
	Hosts    []string `yaml:"hosts" json:"hosts,omitempty"`
	Max      any      `yaml:"max" json:"max,omitempty"`
	Teams    []string `yaml:"teams" json:"teams,omitempty"`
	Exclude  []string `yaml:"exclude" json:"exclude,omitempty"`
	Allowed  []string `yaml:"allowed" json:"allowed,omitempty"`
	Min      string   `yaml:"min" json:"min,omitempty"`
	Paths    []string `yaml:"paths" json:"paths,omitempty"`
	Gateways []string `yaml:"gateways" json:"gateways,omitempty"`
	Severity string   `yaml:"severity" json:"-"`
}

// Acknowledgement accepts a known warning, with the reason why.
type Acknowledgement struct {
	Rule    string   `yaml:"rule"`
	Files   []string `yaml:"files"`
	Message string   `yaml:"message"`
	Reason  string   `yaml:"reason"`
}

// Gateway is one Envoy fleet.
type Gateway struct {
	Metadata Metadata    `yaml:"metadata"`
	Spec     GatewaySpec `yaml:"spec"`
	Doc      *Doc        `yaml:"-"`
}

type GatewaySpec struct {
	Node             *NodeSpec  `yaml:"node"`
	Admin            *Admin     `yaml:"admin"`
	Listeners        []Listener `yaml:"listeners"`
	AccessLog        *AccessLog `yaml:"accessLog"`
	TrustedProxyHops int        `yaml:"trustedProxyHops"`
	HTTPSRedirect    *bool      `yaml:"httpsRedirect"`
	XDS              *XDSSpec   `yaml:"xds"`
	SDS              *SDSServer `yaml:"sds"`
	Defaults         *Defaults  `yaml:"defaults"`
	// Observability (docs/reference.md, issue 10).
	RequestID  *RequestID      `yaml:"requestID"`
	Tracing    *Tracing        `yaml:"tracing"`
	AccessLogs []AccessLogSink `yaml:"accessLogs"`
	// HTTP3 is the default of every HTTPS listener's http3.
	HTTP3 bool `yaml:"http3"`
}

type NodeSpec struct {
	ID      string `yaml:"id"`
	Cluster string `yaml:"cluster"`
}

type Admin struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
}

type Listener struct {
	Name     string       `yaml:"name"`
	Port     int          `yaml:"port"`
	Protocol string       `yaml:"protocol"`
	Address  string       `yaml:"address"`
	TLS      *ListenerTLS `yaml:"tls"`
	// StatsPrefix names the listener's connection manager statistics.
	StatsPrefix string `yaml:"statsPrefix"`

	// Connection settings (docs/listeners.md).
	ProxyProtocol       bool               `yaml:"proxyProtocol"`
	MaxConnections      int                `yaml:"maxConnections"`
	Timeouts            *ListenerTimeouts  `yaml:"timeouts"`
	MaxRequestHeadersKB int                `yaml:"maxRequestHeadersKB"`
	HTTP2               *HTTP2Settings     `yaml:"http2"`
	Paths               *PathNormalization `yaml:"paths"`
	HTTP3               *bool              `yaml:"http3"`
	// TCP is where a TCP listener sends its connections.
	TCP *TCPProxy `yaml:"tcp"`
}

type ListenerTLS struct {
	MinVersion   string   `yaml:"minVersion"`
	MaxVersion   string   `yaml:"maxVersion"`
	ALPN         []string `yaml:"alpn"`
	CipherSuites []string `yaml:"cipherSuites"`
	ECDHCurves   []string `yaml:"ecdhCurves"`
}

// ListenerTimeouts bound how long a client may hold a connection or a
// request of an HTTP listener.
type ListenerTimeouts struct {
	Idle                  string `yaml:"idle"`
	StreamIdle            string `yaml:"streamIdle"`
	RequestHeaders        string `yaml:"requestHeaders"`
	Request               string `yaml:"request"`
	MaxConnectionDuration string `yaml:"maxConnectionDuration"`
}

type HTTP2Settings struct {
	MaxConcurrentStreams        int `yaml:"maxConcurrentStreams"`
	InitialStreamWindowSize     int `yaml:"initialStreamWindowSize"`
	InitialConnectionWindowSize int `yaml:"initialConnectionWindowSize"`
}

// PathNormalization is what the connection manager does to a path before
// routing.
type PathNormalization struct {
	Normalize      *bool  `yaml:"normalize"`
	MergeSlashes   *bool  `yaml:"mergeSlashes"`
	EscapedSlashes string `yaml:"escapedSlashes"`
}

// TCPProxy forwards connections, as bytes, to one or more backends.
type TCPProxy struct {
	Backend     string            `yaml:"backend"`
	Backends    []WeightedBackend `yaml:"backends"`
	IdleTimeout string            `yaml:"idleTimeout"`
}

type AccessLog struct {
	Path   string            `yaml:"path"`
	Format string            `yaml:"format"`
	Fields map[string]string `yaml:"fields"`
}

type XDSSpec struct {
	Directory string `yaml:"directory"`
}

type SDSServer struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	Pipe    string `yaml:"pipe"`
}

type Defaults struct {
	Timeout     string    `yaml:"timeout"`
	IdleTimeout string    `yaml:"idleTimeout"`
	Retries     *Retries  `yaml:"retries"`
	Security    *Security `yaml:"security"`
}

// VirtualHost is a set of hostnames on a gateway and their routes.
type VirtualHost struct {
	Metadata Metadata        `yaml:"metadata"`
	Spec     VirtualHostSpec `yaml:"spec"`
	Doc      *Doc            `yaml:"-"`
}

type VirtualHostSpec struct {
	Gateway       string          `yaml:"gateway"`
	Hostnames     []string        `yaml:"hostnames"`
	Listeners     []string        `yaml:"listeners"`
	TLS           *VirtualHostTLS `yaml:"tls"`
	HTTPSRedirect *bool           `yaml:"httpsRedirect"`
	Headers       *HeaderChanges  `yaml:"headers"`
	Routes        []Route         `yaml:"routes"`
	Includes      []Include       `yaml:"includes"`
	Security      *Security       `yaml:"security"`
	Compression   *Compression    `yaml:"compression"`
	GRPCWeb       bool            `yaml:"grpcWeb"`
	// Passthrough sends TLS connections for the hostnames (by SNI) to
	// backends without terminating them.
	Passthrough *TCPProxy `yaml:"passthrough"`
}

// Include hands the requests matching its conditions to a route set.
type Include struct {
	RouteSet string    `yaml:"routeSet"`
	Match    *Match    `yaml:"match"`
	Security *Security `yaml:"security"`
}

// RouteSet is routes with no hostnames of their own, included by a virtual
// host or another route set: how a platform team delegates a path prefix.
type RouteSet struct {
	Metadata Metadata     `yaml:"metadata"`
	Spec     RouteSetSpec `yaml:"spec"`
	Doc      *Doc         `yaml:"-"`
}

type RouteSetSpec struct {
	IncludableBy *IncludableBy `yaml:"includableBy"`
	Routes       []Route       `yaml:"routes"`
	Includes     []Include     `yaml:"includes"`
}

// IncludableBy is who, besides its own team and the platform team, may
// include a route set.
type IncludableBy struct {
	Teams []string `yaml:"teams"`
	Hosts []string `yaml:"hosts"`
}

type VirtualHostTLS struct {
	Certificate string `yaml:"certificate"`
	// Fallback serves this certificate, and these routes, to clients
	// that send no server name (SNI) or one no filter chain knows.
	Fallback           bool                `yaml:"fallback"`
	ClientCertificates *ClientCertificates `yaml:"clientCertificates"`
}

type Route struct {
	Name  string `yaml:"name"`
	Match *Match `yaml:"match"`

	Backend  string            `yaml:"backend"`
	Backends []WeightedBackend `yaml:"backends"`
	Redirect *Redirect         `yaml:"redirect"`
	Respond  *Respond          `yaml:"respond"`

	Timeout     string         `yaml:"timeout"`
	IdleTimeout string         `yaml:"idleTimeout"`
	Retries     *Retries       `yaml:"retries"`
	Rewrite     *Rewrite       `yaml:"rewrite"`
	Headers     *HeaderChanges `yaml:"headers"`
	Mirror      *Mirror        `yaml:"mirror"`
	Websocket   bool           `yaml:"websocket"`
	Hash        []Hash         `yaml:"hash"`
	Security    *Security      `yaml:"security"`

	// HTTP features (docs/reference.md, issue 10).
	Compression *Compression `yaml:"compression"`
	Fault       *Fault       `yaml:"fault"`
	Hedge       *Hedge       `yaml:"hedge"`
}

type Match struct {
	Path    *PathMatch    `yaml:"path"`
	Methods []string      `yaml:"methods"`
	Headers []HeaderMatch `yaml:"headers"`
	Query   []QueryMatch  `yaml:"query"`
	GRPC    *GRPCMatch    `yaml:"grpc"`
}

type PathMatch struct {
	Prefix *string `yaml:"prefix"`
	Exact  *string `yaml:"exact"`
	Regex  *string `yaml:"regex"`
}

// StringMatch is the shared shape of header and query parameter matches.
type StringMatch struct {
	Exact      *string `yaml:"exact"`
	Prefix     *string `yaml:"prefix"`
	Suffix     *string `yaml:"suffix"`
	Contains   *string `yaml:"contains"`
	Regex      *string `yaml:"regex"`
	Present    *bool   `yaml:"present"`
	IgnoreCase bool    `yaml:"ignoreCase"`
}

type HeaderMatch struct {
	Name        string `yaml:"name"`
	StringMatch `yaml:",inline"`
	Invert      bool `yaml:"invert"`
}

type QueryMatch struct {
	Name        string `yaml:"name"`
	StringMatch `yaml:",inline"`
}

type WeightedBackend struct {
	Name   string `yaml:"name"`
	Weight *int   `yaml:"weight"`
}

type Redirect struct {
	Scheme     string `yaml:"scheme"`
	Host       string `yaml:"host"`
	Port       int    `yaml:"port"`
	Path       string `yaml:"path"`
	Prefix     string `yaml:"prefix"`
	Code       int    `yaml:"code"`
	StripQuery bool   `yaml:"stripQuery"`
}

type Respond struct {
	Status int    `yaml:"status"`
	Body   string `yaml:"body"`
}

type Retries struct {
	Attempts      *int     `yaml:"attempts"`
	On            []string `yaml:"on"`
	PerTryTimeout string   `yaml:"perTryTimeout"`
	StatusCodes   []int    `yaml:"statusCodes"`
	Backoff       *Backoff `yaml:"backoff"`
}

type Backoff struct {
	Base string `yaml:"base"`
	Max  string `yaml:"max"`
}

type Rewrite struct {
	Prefix *string       `yaml:"prefix"`
	Regex  *RegexRewrite `yaml:"regex"`
	Host   string        `yaml:"host"`
}

type RegexRewrite struct {
	Pattern      string `yaml:"pattern"`
	Substitution string `yaml:"substitution"`
}

type HeaderChanges struct {
	Request  *HeaderOps `yaml:"request"`
	Response *HeaderOps `yaml:"response"`
}

type HeaderOps struct {
	Set    map[string]string `yaml:"set"`
	Add    map[string]string `yaml:"add"`
	Remove []string          `yaml:"remove"`
}

type Mirror struct {
	Backend string   `yaml:"backend"`
	Percent *float64 `yaml:"percent"`
}

type Hash struct {
	Header   string      `yaml:"header"`
	Cookie   *HashCookie `yaml:"cookie"`
	SourceIP bool        `yaml:"sourceIP"`
	Terminal bool        `yaml:"terminal"`
}

type HashCookie struct {
	Name string `yaml:"name"`
	TTL  string `yaml:"ttl"`
	Path string `yaml:"path"`
}

// Backend is an upstream service.
type Backend struct {
	Metadata Metadata    `yaml:"metadata"`
	Spec     BackendSpec `yaml:"spec"`
	Doc      *Doc        `yaml:"-"`
}

type BackendSpec struct {
	Endpoints        []Endpoint         `yaml:"endpoints"`
	Kubernetes       *KubernetesService `yaml:"kubernetes"`
	Protocol         string             `yaml:"protocol"`
	ConnectTimeout   string             `yaml:"connectTimeout"`
	LoadBalancing    string             `yaml:"loadBalancing"`
	TLS              *UpstreamTLS       `yaml:"tls"`
	HealthCheck      *HealthCheck       `yaml:"healthCheck"`
	CircuitBreaker   *CircuitBreaker    `yaml:"circuitBreaker"`
	OutlierDetection *OutlierDetection  `yaml:"outlierDetection"`
	SlowStart        *SlowStart         `yaml:"slowStart"`
}

type Endpoint struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	Weight  int    `yaml:"weight"`
	// Priority 0 takes traffic first; higher priorities take it when the
	// lower ones are unhealthy.
	Priority int `yaml:"priority"`
}

// KubernetesService names a Service whose EndpointSlices give a backend
// its endpoints, through edgectl serve.
type KubernetesService struct {
	Namespace string      `yaml:"namespace"`
	Service   string      `yaml:"service"`
	Port      ServicePort `yaml:"port"`
}

// ServicePort is a port of a Service, by number or by name; the schema
// allows nothing else.
type ServicePort struct {
	Number int
	Name   string
}

func (p *ServicePort) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		return n.Decode(&p.Number)
	}
	return n.Decode(&p.Name)
}

// String is the port as the user wrote it.
func (p ServicePort) String() string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(p.Number)
}

type UpstreamTLS struct {
	SNI               string   `yaml:"sni"`
	CA                string   `yaml:"ca"`
	SubjectAltNames   []string `yaml:"subjectAltNames"`
	ClientCertificate string   `yaml:"clientCertificate"`
	MinVersion        string   `yaml:"minVersion"`
	MaxVersion        string   `yaml:"maxVersion"`
	CipherSuites      []string `yaml:"cipherSuites"`
}

type HealthCheck struct {
	HTTP               *HTTPHealthCheck `yaml:"http"`
	TCP                *struct{}        `yaml:"tcp"`
	GRPC               *GRPCHealthCheck `yaml:"grpc"`
	Interval           string           `yaml:"interval"`
	Timeout            string           `yaml:"timeout"`
	HealthyThreshold   int              `yaml:"healthyThreshold"`
	UnhealthyThreshold int              `yaml:"unhealthyThreshold"`
}

type HTTPHealthCheck struct {
	Path             string `yaml:"path"`
	Host             string `yaml:"host"`
	ExpectedStatuses []int  `yaml:"expectedStatuses"`
}

type GRPCHealthCheck struct {
	Service string `yaml:"service"`
}

type CircuitBreaker struct {
	MaxConnections     *int         `yaml:"maxConnections"`
	MaxPendingRequests *int         `yaml:"maxPendingRequests"`
	MaxRequests        *int         `yaml:"maxRequests"`
	MaxRetries         *int         `yaml:"maxRetries"`
	RetryBudget        *RetryBudget `yaml:"retryBudget"`
}

type OutlierDetection struct {
	Consecutive5xx           *int   `yaml:"consecutive5xx"`
	ConsecutiveGatewayErrors *int   `yaml:"consecutiveGatewayErrors"`
	Interval                 string `yaml:"interval"`
	BaseEjectionTime         string `yaml:"baseEjectionTime"`
	MaxEjectionPercent       *int   `yaml:"maxEjectionPercent"`
}

// Certificate is a reference to TLS material that lives on the Envoy host or
// at an SDS server, never in the repository.
type Certificate struct {
	Metadata Metadata        `yaml:"metadata"`
	Spec     CertificateSpec `yaml:"spec"`
	Doc      *Doc            `yaml:"-"`
}

type CertificateSpec struct {
	Files *CertificateFiles `yaml:"files"`
	CA    *CAFile           `yaml:"ca"`
	SDS   *SDSRef           `yaml:"sds"`
}

type CertificateFiles struct {
	CertificateChain string `yaml:"certificateChain"`
	PrivateKey       string `yaml:"privateKey"`
}

type CAFile struct {
	File string `yaml:"file"`
}

type SDSRef struct {
	Name string `yaml:"name"`
}
