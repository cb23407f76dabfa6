// Package routesim answers what Envoy does with an HTTP request, reading the
// xDS resources Envoy receives (listeners, route configurations, clusters),
// never edgectl's intents: what is tested is what Envoy runs.
//
// The rules follow Envoy's documented router semantics (route_components.proto,
// the HTTP connection manager's route matching, listener filter chain
// matching); where the documentation is silent or inexact the simulator
// does what Envoy's router does:
//
//   - prefix, path, safe_regex and path_separated_prefix are matched
//     against :path without its query string and fragment;
//   - a runtime fraction N/D takes the request when Random % D < N;
//   - a header present several times is matched as its values joined
//     with ","; a missing header fails every matcher but present_match,
//     even an inverted one, unless treat_missing_header_as_empty;
//   - query parameters are compared as sent, without percent-decoding,
//     first value only; present_match: false takes an absent parameter;
//   - a redirect's Location drops the port when the scheme changes and the
//     port was the old scheme's default, or when port_redirect replaces it;
//   - a uri_template rewrite yields a path without query string.
//
// What cannot be known from the configuration alone is reported in
// Result.Notes, never guessed: dynamic metadata and filter state matchers
// (such routes never match), formatters in header values and rewrites
// (shown unevaluated), auto_host_rewrite, cluster specifier plugins, bodies
// read from files. Not simulated at all: HTTP filters other than the
// router (RBAC, JWT, CORS, rate limits, ext_authz can still refuse a
// request), retries and timeouts beyond reporting the policy, VHDS (only
// the configuration's own virtual hosts are seen); virtual host matcher
// trees, scoped routes and the listener filter_chain_matcher are refused
// by NewRouter or NewGateway.
package routesim

import (
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
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
	// External requests lose the route configuration's
	// internal_only_headers before routing.
	Internal bool

	// DestinationAddress is the IP address the client connected to, for
	// filter chains that match on destination prefix ranges ("" when
	// unknown: such chains then do not match).
	DestinationAddress string
	// ALPN lists the application protocols the client offered in its TLS
	// handshake, for filter chains matching application_protocols.
	ALPN []string
	// ClientCertPresented and ClientCertValidated describe the client's
	// TLS certificate, for routes with a tls_context match.
	ClientCertPresented, ClientCertValidated bool
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
	// route, the redirect or direct response code; 0 when forwarded, unless
	// the cluster is unknown (a cluster_header that is absent, or through a
	// Gateway a cluster it does not define): then the route's
	// cluster_not_found_response_code, 503 by default.
	Status int
	// Cluster is where a forwarded request goes: the cluster of the route,
	// or the one chosen from Weights by Request.Random.
	Cluster string
	Weights []Weight
	// Location is the full URL of a redirect, and of a direct response
	// with status 201 or 3xx (Envoy adds it from the request's URL).
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
	// UpstreamHeaders are all the headers a forwarded request carries
	// upstream besides :path and :authority: the request's own, without the
	// internal-only headers of an external request, after the route
	// configuration's removals and additions. Headers the connection
	// manager adds itself (x-forwarded-for, x-request-id, x-envoy-*) are not
	// listed.
	UpstreamHeaders []Header

	// Timeout is the route timeout (Envoy's default of 15 s when unset; 0
	// disables it).
	Timeout time.Duration
	Retry   *routev3.RetryPolicy
	Mirrors []Mirror
	// VirtualCluster is the name of the virtual cluster the request falls
	// in, if any.
	VirtualCluster string

	// Notes are what the simulator could not decide from the configuration
	// alone, for a human to check (an unsupported matcher, a header value
	// with a formatter, a body read from a file).
	Notes []string
}

// Miss is why one route did not take a request.
type Miss struct {
	Index  int
	Name   string
	Reason string
}
