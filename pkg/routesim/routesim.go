// Package routesim answers what Envoy does with an HTTP request, reading the
// xDS resources Envoy receives (listeners, route configurations, clusters),
// never edgectl's intents: what is tested is what Envoy runs.
package routesim

import (
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgectl/edgectl/pkg/xds"
)

// Request is one HTTP request as it reaches Envoy.
type Request struct {
	// Scheme is "http" or "https". Empty means https when SNI is set or the
	// request is sent to a TLS listener, else the x-forwarded-proto header,
	// else http.
	Scheme string
	// Authority is the :authority (Host) header, host[:port].
	Authority string
	// Method defaults to GET.
	Method string
	// Path is the :path header, query string included. Empty means "/".
	Path string
	// Headers are further request headers, in order; names are matched
	// case-insensitively, and a name may repeat.
	Headers []Header
	// ClientAddress is the downstream peer's IP address ("" when unknown).
	ClientAddress string
	// SNI is the TLS server name the client sent ("" for plaintext or no
	// SNI).
	SNI string
	// Port is the destination port of the connection. Zero means the port
	// of Authority, else 443 for https and 80 for http.
	Port uint32
	// Random is the random value Envoy draws per request, for weighted
	// clusters and runtime fractions.
	Random uint64
	// Runtime overrides runtime keys (the numerator out of the fraction's
	// own denominator), as Envoy's router_check_tool does.
	Runtime map[string]uint64
	// Internal marks a request from an internal address (x-envoy-internal).
	Internal bool
}

// Header is one HTTP header.
type Header struct {
	Name, Value string
}

// Action is what Envoy does with a request once routed.
type Action int

const (
	// NoRoute: no virtual host or no route matched; Envoy answers 404.
	NoRoute Action = iota
	// Forward: the request goes to Cluster.
	Forward
	// Redirect: Envoy answers Status with Location.
	Redirect
	// DirectResponse: Envoy answers Status with Body.
	DirectResponse
	// NoListener: no listener or filter chain takes the connection; Envoy
	// closes it.
	NoListener
)

func (a Action) String() string {
	return [...]string{"no-route", "forward", "redirect", "direct-response", "no-listener"}[a]
}

// Weight is one cluster of a weighted split.
type Weight struct {
	Cluster string
	Weight  uint32
}

// Mirror is a shadow copy of the request.
type Mirror struct {
	Cluster string
	// Percent of requests mirrored, 0–100.
	Percent float64
}

// Result is the simulator's verdict on one request.
type Result struct {
	Listener    string
	FilterChain string
	RouteConfig string
	// VirtualHost is empty when no virtual host matched.
	VirtualHost string
	// Route is the matched route's name; RouteIndex its position in the
	// virtual host's routes, -1 when none matched.
	Route      string
	RouteIndex int
	// Entry is the matched route as Envoy has it (nil when none matched).
	Entry *routev3.Route

	Action Action
	// Status is the response status Envoy produces itself: 404 for no
	// route, the redirect or direct response code; 0 when forwarded.
	Status int
	// Cluster is where a forwarded request goes: the cluster of the route,
	// or the one chosen from Weights by Request.Random.
	Cluster string
	Weights []Weight
	// Location is the full URL of a redirect.
	Location string
	// Body is a direct response's inline body.
	Body string

	// Path and Host are the :path and :authority the upstream receives,
	// after rewrites.
	Path, Host string
	// RequestHeaders are the headers added to the request, and
	// RequestHeadersRemoved those removed, by the route, virtual host and
	// route configuration, in the order Envoy applies them.
	RequestHeaders        []Header
	RequestHeadersRemoved []string
	// ResponseHeaders and ResponseHeadersRemoved are the same for the
	// response.
	ResponseHeaders        []Header
	ResponseHeadersRemoved []string

	// Timeout is the route timeout (Envoy's default of 15 s when unset; 0
	// disables it).
	Timeout time.Duration
	Retry   *routev3.RetryPolicy
	Mirrors []Mirror
	// VirtualCluster is the name of the virtual cluster the request falls
	// in, if any.
	VirtualCluster string
}

// Miss is why one route did not take a request.
type Miss struct {
	Index  int
	Name   string
	Reason string
}

// Router routes requests through one route configuration.
type Router struct{}

// NewRouter indexes a route configuration. It fails on what Envoy would
// refuse to load (an invalid regex, duplicate domains).
func NewRouter(rc *routev3.RouteConfiguration) (*Router, error) { panic("unimplemented") }

// Route routes req; Listener and FilterChain are left empty.
func (r *Router) Route(req *Request) *Result { panic("unimplemented") }

// Explain routes req and says, for each route before the matched one in
// the chosen virtual host (all of them when none matched), why it did not
// match, in route order.
func (r *Router) Explain(req *Request) (*Result, []Miss) { panic("unimplemented") }

// Gateway routes requests through the listeners of one gateway.
type Gateway struct{}

// NewGateway indexes the resources of one gateway: listeners with their
// filter chains, and the route configurations they use, by RDS name or
// inline.
func NewGateway(res *xds.Resources) (*Gateway, error) { panic("unimplemented") }

// Route picks the listener by port, the filter chain by SNI and transport,
// then routes like Router.Route.
func (g *Gateway) Route(req *Request) *Result { panic("unimplemented") }

// Explain is Router.Explain through the gateway's listeners.
func (g *Gateway) Explain(req *Request) (*Result, []Miss) { panic("unimplemented") }

// ParseURL makes a request from a URL as a user writes it
// ("https://api.acme.io/v1/orders?id=7"): the scheme, the authority as
// written (port included) and the path with its query. A URL without a
// scheme is http; without a path, "/".
func ParseURL(method, raw string) (*Request, error) { panic("unimplemented") }
