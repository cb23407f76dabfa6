package intent

// The kinds and blocks that protect the edge: who may send requests
// (JWT, external authorization, basic auth, client addresses, client
// certificates), from which origins (CORS) and how often (rate limits).
// docs/security.md explains each field with an example.

// AuthProvider is an issuer of JSON Web Tokens whose tokens gateways
// verify.
type AuthProvider struct {
	Metadata Metadata         `yaml:"metadata"`
	Spec     AuthProviderSpec `yaml:"spec"`
	Doc      *Doc             `yaml:"-"`
}

type AuthProviderSpec struct {
	Issuer          string        `yaml:"issuer"`
	Audiences       []string      `yaml:"audiences"`
	JWKS            JWKS          `yaml:"jwks"`
	Headers         []TokenHeader `yaml:"headers"`
	QueryParams     []string      `yaml:"queryParams"`
	Cookies         []string      `yaml:"cookies"`
	Forward         bool          `yaml:"forward"`
	ClaimsToHeaders []ClaimHeader `yaml:"claimsToHeaders"`
	ClockSkew       string        `yaml:"clockSkew"`
}

// JWKS says where the issuer's key set comes from: fetched from the
// issuer through a backend, or read from a file on the Envoy host.
type JWKS struct {
	Remote *RemoteJWKS `yaml:"remote"`
	File   string      `yaml:"file"`
}

type RemoteJWKS struct {
	Backend       string `yaml:"backend"`
	URI           string `yaml:"uri"`
	Timeout       string `yaml:"timeout"`
	CacheDuration string `yaml:"cacheDuration"`
}

type TokenHeader struct {
	Name   string `yaml:"name"`
	Prefix string `yaml:"prefix"`
}

type ClaimHeader struct {
	Claim  string `yaml:"claim"`
	Header string `yaml:"header"`
}

// AuthService is an external authorization service (ext_authz).
type AuthService struct {
	Metadata Metadata        `yaml:"metadata"`
	Spec     AuthServiceSpec `yaml:"spec"`
	Doc      *Doc            `yaml:"-"`
}

type AuthServiceSpec struct {
	HTTP     *AuthHTTP    `yaml:"http"`
	GRPC     *AuthGRPC    `yaml:"grpc"`
	Timeout  string       `yaml:"timeout"`
	Headers  *AuthHeaders `yaml:"headers"`
	Body     *AuthBody    `yaml:"body"`
	FailOpen bool         `yaml:"failOpen"`
}

type AuthHTTP struct {
	Backend    string `yaml:"backend"`
	PathPrefix string `yaml:"pathPrefix"`
}

type AuthGRPC struct {
	Backend string `yaml:"backend"`
}

type AuthHeaders struct {
	ToService []string `yaml:"toService"`
	ToBackend []string `yaml:"toBackend"`
	ToClient  []string `yaml:"toClient"`
}

type AuthBody struct {
	MaxBytes     int  `yaml:"maxBytes"`
	AllowPartial bool `yaml:"allowPartial"`
}

// RateLimitService is a service speaking Envoy's rate-limit protocol.
type RateLimitService struct {
	Metadata Metadata             `yaml:"metadata"`
	Spec     RateLimitServiceSpec `yaml:"spec"`
	Doc      *Doc                 `yaml:"-"`
}

type RateLimitServiceSpec struct {
	Backend  string `yaml:"backend"`
	Domain   string `yaml:"domain"`
	Timeout  string `yaml:"timeout"`
	FailOpen bool   `yaml:"failOpen"`
}

// Security is the security: block of a gateway's defaults, a virtual
// host, an include or a route. An unset feature is inherited.
type Security struct {
	JWT            *JWTSecurity       `yaml:"jwt"`
	ExtAuth        *ExtAuthSecurity   `yaml:"extAuth"`
	BasicAuth      *BasicAuthSecurity `yaml:"basicAuth"`
	IPFilter       *IPFilter          `yaml:"ipFilter"`
	CORS           *CORS              `yaml:"cors"`
	LocalRateLimit *LocalRateLimit    `yaml:"localRateLimit"`
	RateLimit      *RateLimit         `yaml:"rateLimit"`
}

type JWTSecurity struct {
	Disabled  bool     `yaml:"disabled"`
	Providers []string `yaml:"providers"`
	Optional  bool     `yaml:"optional"`
}

type ExtAuthSecurity struct {
	Disabled bool              `yaml:"disabled"`
	Service  string            `yaml:"service"`
	Context  map[string]string `yaml:"context"`
}

type BasicAuthSecurity struct {
	Disabled  bool   `yaml:"disabled"`
	UsersFile string `yaml:"usersFile"`
}

type IPFilter struct {
	Disabled bool     `yaml:"disabled"`
	Allow    []string `yaml:"allow"`
	Deny     []string `yaml:"deny"`
}

type CORS struct {
	Disabled         bool          `yaml:"disabled"`
	AllowOrigins     []OriginMatch `yaml:"allowOrigins"`
	AllowMethods     []string      `yaml:"allowMethods"`
	AllowHeaders     []string      `yaml:"allowHeaders"`
	ExposeHeaders    []string      `yaml:"exposeHeaders"`
	MaxAge           string        `yaml:"maxAge"`
	AllowCredentials bool          `yaml:"allowCredentials"`
}

type OriginMatch struct {
	Exact  *string `yaml:"exact"`
	Suffix *string `yaml:"suffix"`
	Regex  *string `yaml:"regex"`
}

type LocalRateLimit struct {
	Disabled bool      `yaml:"disabled"`
	Requests *int      `yaml:"requests"`
	Per      string    `yaml:"per"`
	By       *LocalKey `yaml:"by"`
	Status   int       `yaml:"status"`
	Headers  bool      `yaml:"headers"`
}

type LocalKey struct {
	ClientIP bool   `yaml:"clientIP"`
	Header   string `yaml:"header"`
}

type RateLimit struct {
	Disabled bool          `yaml:"disabled"`
	Service  string        `yaml:"service"`
	Limits   []GlobalLimit `yaml:"limits"`
}

type GlobalLimit struct {
	Requests int       `yaml:"requests"`
	Unit     string    `yaml:"unit"`
	By       []RateKey `yaml:"by"`
}

// RateKey is one thing a global limit counts by; exactly one field is set.
type RateKey struct {
	ClientIP   bool   `yaml:"clientIP"`
	Header     string `yaml:"header"`
	Path       bool   `yaml:"path"`
	GenericKey string `yaml:"genericKey"`
	Team       bool   `yaml:"team"`
}

// ClientCertificates asks the clients of a virtual host for a
// certificate (downstream mTLS).
type ClientCertificates struct {
	CA              string       `yaml:"ca"`
	Optional        bool         `yaml:"optional"`
	SubjectAltNames []SANMatch   `yaml:"subjectAltNames"`
	CRLFile         string       `yaml:"crlFile"`
	Forward         *CertForward `yaml:"forward"`
}

type SANMatch struct {
	Type   string  `yaml:"type"`
	Exact  *string `yaml:"exact"`
	Prefix *string `yaml:"prefix"`
	Suffix *string `yaml:"suffix"`
	Regex  *string `yaml:"regex"`
}

type CertForward struct {
	Mode   string   `yaml:"mode"`
	Fields []string `yaml:"fields"`
}
