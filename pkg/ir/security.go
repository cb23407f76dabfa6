package ir

import (
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Security is what protects the requests of a virtual host or a route: one
// rule per feature. Settings inherit, most specific wins, feature by
// feature: gateway defaults, then the virtual host, then each include on the
// way to a route, then the route. A nil rule is inherited from the level
// above; a rule with Disabled set switches the feature off below it.
//
// VirtualHost.Security holds the virtual host's effective rules (the
// gateway's defaults folded in). Route.Security holds only the rules the
// route, or an include enclosing it, sets itself; Effective merges the two.
type Security struct {
	JWT            *JWTRule
	ExtAuth        *ExtAuthRule
	BasicAuth      *BasicAuthRule
	IP             *IPRule
	CORS           *CORSRule
	LocalRateLimit *LocalRateLimitRule
	RateLimit      *RateLimitRule
}

// Empty reports whether no rule is set.
func (s *Security) Empty() bool {
	return s == nil || (s.JWT == nil && s.ExtAuth == nil && s.BasicAuth == nil && s.IP == nil &&
		s.CORS == nil && s.LocalRateLimit == nil && s.RateLimit == nil)
}

// Effective is the rules a request routed by r meets: the route's own, and
// the virtual host's where the route sets none.
func (vh *VirtualHost) Effective(r *Route) Security {
	if s := Inherit(vh.Security, r.Security); s != nil {
		return *s
	}
	return Security{}
}

// Inherit lays the rules of inner over those of outer, feature by feature;
// either may be nil. The result shares rules with both and may be one of
// them.
func Inherit(outer, inner *Security) *Security {
	if outer.Empty() {
		return inner
	}
	if inner.Empty() {
		return outer
	}
	out := *outer
	out.JWT = pick(inner.JWT, out.JWT)
	out.ExtAuth = pick(inner.ExtAuth, out.ExtAuth)
	out.BasicAuth = pick(inner.BasicAuth, out.BasicAuth)
	out.IP = pick(inner.IP, out.IP)
	out.CORS = pick(inner.CORS, out.CORS)
	out.LocalRateLimit = pick(inner.LocalRateLimit, out.LocalRateLimit)
	out.RateLimit = pick(inner.RateLimit, out.RateLimit)
	return &out
}

func pick[T any](own, inherited *T) *T {
	if own != nil {
		return own
	}
	return inherited
}

// SettingLevel says which level of the hierarchy set a rule.
type SettingLevel string

const (
	LevelGateway     SettingLevel = "gateway"
	LevelVirtualHost SettingLevel = "virtualHost"
	LevelInclude     SettingLevel = "include"
	LevelRoute       SettingLevel = "route"
)

// Origin is where a rule was set, for explain, diffs and findings: the
// level, the name of the document (or route) at that level, the position of
// the setting and the team of its file.
type Origin struct {
	Level SettingLevel
	Name  string
	Pos   diag.Pos
	Team  string
}

// JWTRule requires a JSON Web Token from one of the named providers.
type JWTRule struct {
	Disabled  bool
	Providers []string // any of them; sorted
	// Optional lets a request without a token through; a token that is
	// present must still verify.
	Optional bool
	From     Origin
}

// ExtAuthRule asks an external authorization service about each request.
type ExtAuthRule struct {
	Disabled bool
	Service  string   // an AuthService of the gateway
	Context  []Header // context extensions sent to the service; sorted by name
	From     Origin
}

// BasicAuthRule checks a user and password against an htpasswd file on the
// Envoy host.
type BasicAuthRule struct {
	Disabled  bool
	UsersFile string
	From      Origin
}

// IPRule lets requests through by the client's address: the address Envoy
// computes after the gateway's trusted proxy hops. When Allow is set only
// those ranges pass; Deny ranges never pass.
type IPRule struct {
	Disabled bool
	Allow    []string // CIDRs in canonical form, sorted
	Deny     []string // CIDRs in canonical form, sorted
	From     Origin
}

// CORSRule answers cross-origin requests, preflight included.
type CORSRule struct {
	Disabled      bool
	Origins       []StringMatch // exact, suffix or regex; in the order written
	Methods       []string      // sorted
	Headers       []string      // sorted
	ExposeHeaders []string      // sorted
	MaxAge        *time.Duration
	Credentials   bool
	From          Origin
}

// RateKey is one part of what a rate limit counts by.
type RateKeyKind string

const (
	KeyClient  RateKeyKind = "client"  // the client's address
	KeyHeader  RateKeyKind = "header"  // a request header's value
	KeyPath    RateKeyKind = "path"    // the request's path
	KeyGeneric RateKeyKind = "generic" // a fixed value, Value
	KeyTeam    RateKeyKind = "team"    // the team owning the route
)

type RateKey struct {
	Kind   RateKeyKind
	Header string // KeyHeader
	Value  string // KeyGeneric
}

// LocalRateLimitRule is a token bucket in each Envoy: Requests tokens every
// Per. With By set, each distinct value (client address or header value)
// gets a bucket of its own.
type LocalRateLimitRule struct {
	Disabled bool
	Requests uint32
	Per      time.Duration
	By       *RateKey
	Status   uint32 // the status of a limited request; 429 by default
	Headers  bool   // send x-ratelimit-* response headers
	From     Origin
}

// RateLimitRule counts requests at a rate-limit service, shared by every
// Envoy of the gateway.
type RateLimitRule struct {
	Disabled bool
	Service  string // a RateLimitService of the gateway
	Limits   []RateLimit
	From     Origin
}

// RateLimit is one limit: Requests per Unit, counted by the keys in By.
type RateLimit struct {
	Requests uint32
	Unit     string // second, minute, hour or day
	By       []RateKey
}

// ClientCertificates makes a filter chain ask clients for a certificate
// (downstream mTLS).
type ClientCertificates struct {
	CA              CertRef
	Optional        bool // accept clients without a certificate
	SubjectAltNames []SANMatch
	CRLFile         string
	Forward         *ClientCertForwarding
	From            Origin
}

// SANMatch matches one subject alternative name of a client certificate.
type SANMatch struct {
	Type string // DNS, URI, EMAIL or IP_ADDRESS
	StringMatch
}

// ClientCertForwarding is how the x-forwarded-client-cert header reaches
// backends: Mode is sanitize, forward-only, append-forward,
// sanitize-set or always-forward-only; Fields are what is set about the
// client's certificate (subject, cert, chain, dns, uri).
type ClientCertForwarding struct {
	Mode   string
	Fields []string // sorted
}

// JWTProvider is a JSON Web Token issuer a gateway verifies tokens of.
type JWTProvider struct {
	Name      string
	Issuer    string
	Audiences []string // sorted
	// Exactly one of RemoteJWKS and LocalJWKSFile is set.
	RemoteJWKS    *RemoteJWKS
	LocalJWKSFile string
	FromHeaders   []TokenHeader // where the token is looked for; empty: Authorization: Bearer
	FromParams    []string
	FromCookies   []string
	Forward       bool // keep the token in the request sent upstream
	ClaimHeaders  []ClaimHeader
	ClockSkew     *time.Duration
	Origin        diag.Pos
}

// RemoteJWKS fetches the key set over HTTP(S) through a cluster.
type RemoteJWKS struct {
	URI           string
	Cluster       string
	Timeout       *time.Duration
	CacheDuration *time.Duration
}

type TokenHeader struct {
	Name   string
	Prefix string
}

// ClaimHeader copies a claim of a verified token into a request header.
type ClaimHeader struct {
	Claim  string
	Header string
}

// AuthService is an external authorization service (ext_authz).
type AuthService struct {
	Name       string
	GRPC       bool // gRPC; HTTP otherwise
	Cluster    string
	PathPrefix string // HTTP only: prepended to the request's path
	Timeout    time.Duration
	// Headers of the client's request sent to the service (HTTP), headers of
	// the service's answer added to the upstream request, and headers of a
	// denial sent back to the client.
	RequestHeaders  []string // sorted
	UpstreamHeaders []string // sorted
	ClientHeaders   []string // sorted
	Body            *AuthBody
	FailOpen        bool // let requests through when the service fails
	Origin          diag.Pos
}

// AuthBody buffers the request body for the authorization service.
type AuthBody struct {
	MaxBytes     uint32
	AllowPartial bool
}

// RateLimitService is a gRPC service implementing Envoy's rate-limit
// protocol (such as envoyproxy/ratelimit).
type RateLimitService struct {
	Name     string
	Cluster  string
	Domain   string
	Timeout  *time.Duration
	FailOpen bool // let requests through when the service fails
	Origin   diag.Pos
}
