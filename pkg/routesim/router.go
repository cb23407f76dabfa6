package routesim

import (
	"fmt"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// Router routes requests through one route configuration. It is safe for
// concurrent use.
type Router struct {
	name    string
	domains domainIndex
	// onlyAny is set when "*" is the only domain: Envoy then routes even a
	// request without :authority.
	onlyAny bool

	internalOnly     []string
	vhostHeader      string
	ignorePort       bool
	ignorePathParams bool
	mostSpecificWins bool
	reqHeaders       *headerOps
	respHeaders      *headerOps
}

type vhost struct {
	name       string
	routes     []*route
	requireTLS routev3.VirtualHost_TlsRequirementType
	vclusters  []vcluster
	retry      *routev3.RetryPolicy
	// mirrors are the virtual host's, else the route configuration's.
	mirrors     []mirror
	reqHeaders  *headerOps
	respHeaders *headerOps
}

type vcluster struct {
	name    string
	headers []headerMatcher
}

// NewRouter indexes a route configuration. It fails on what Envoy would
// refuse to load: a configuration its proto validation rejects, an invalid
// regex or URI template, a domain used twice or with more than one
// wildcard, conflicting rewrites, weights summing to zero, a mutation of a
// pseudo-header or Host, a direct response body over the size limit.
func NewRouter(rc *routev3.RouteConfiguration) (*Router, error) {
	if rc == nil {
		return nil, fmt.Errorf("route configuration missing")
	}
	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	r := &Router{
		name:             rc.GetName(),
		vhostHeader:      toLowerASCII(rc.GetVhostHeader()),
		ignorePort:       rc.GetIgnorePortInHostMatching(),
		ignorePathParams: rc.GetIgnorePathParametersInPathMatching(),
		mostSpecificWins: rc.GetMostSpecificHeaderMutationsWins(),
	}
	for _, h := range rc.GetInternalOnlyHeaders() {
		r.internalOnly = append(r.internalOnly, toLowerASCII(h))
	}
	var err error
	if r.reqHeaders, err = compileHeaderOps(rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	if r.respHeaders, err = compileHeaderOps(rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	rcMirrors, err := compileMirrors(rc.GetRequestMirrorPolicies())
	if err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	maxBody := uint32(4096)
	if m := rc.GetMaxDirectResponseBodySizeBytes(); m != nil {
		maxBody = m.GetValue()
	}
	domains := 0
	for _, pv := range rc.GetVirtualHosts() {
		vh, err := compileVhost(pv, rcMirrors, maxBody)
		if err != nil {
			return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
		}
		for _, d := range pv.GetDomains() {
			if err := r.domains.add(d, vh); err != nil {
				return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
			}
			domains++
		}
	}
	r.onlyAny = r.domains.any != nil && domains == 1
	return r, nil
}

func compileVhost(pv *routev3.VirtualHost, rcMirrors []mirror, maxBody uint32) (*vhost, error) {
	vh := &vhost{
		name:       pv.GetName(),
		requireTLS: pv.GetRequireTls(),
		retry:      pv.GetRetryPolicy(),
	}
	fail := func(err error) (*vhost, error) {
		return nil, fmt.Errorf("virtual host %q: %w", pv.GetName(), err)
	}
	if pv.GetMatcher() != nil {
		return fail(fmt.Errorf("matcher trees are not supported by the simulator"))
	}
	var err error
	if vh.reqHeaders, err = compileHeaderOps(pv.GetRequestHeadersToAdd(), pv.GetRequestHeadersToRemove()); err != nil {
		return fail(err)
	}
	if vh.respHeaders, err = compileHeaderOps(pv.GetResponseHeadersToAdd(), pv.GetResponseHeadersToRemove()); err != nil {
		return fail(err)
	}
	if vh.mirrors, err = compileMirrors(pv.GetRequestMirrorPolicies()); err != nil {
		return fail(err)
	}
	if len(pv.GetRequestMirrorPolicies()) == 0 {
		vh.mirrors = rcMirrors
	}
	for _, pc := range pv.GetVirtualClusters() {
		vc := vcluster{name: pc.GetName()}
		if len(pc.GetHeaders()) == 0 {
			return fail(fmt.Errorf("virtual cluster %q has no headers", pc.GetName()))
		}
		for _, h := range pc.GetHeaders() {
			m, err := compileHeader(h)
			if err != nil {
				return fail(fmt.Errorf("virtual cluster %q: %w", pc.GetName(), err))
			}
			vc.headers = append(vc.headers, m)
		}
		vh.vclusters = append(vh.vclusters, vc)
	}
	for i, pr := range pv.GetRoutes() {
		rt, err := compileRoute(i, pr, vh, maxBody)
		if err != nil {
			name := pr.GetName()
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			return fail(fmt.Errorf("route %q: %w", name, err))
		}
		vh.routes = append(vh.routes, rt)
	}
	return vh, nil
}

// hcm is what the HTTP connection manager in front of a route
// configuration does to a request before routing. The zero value is a
// connection manager with Envoy's defaults.
type hcm struct {
	stripPort     stripPort
	stripHostDot  bool
	normalizePath bool
	mergeSlashes  bool
	escapedSlash  hcmv3.HttpConnectionManager_PathWithEscapedSlashesAction
	tls           bool
	// clusters, when set, are the clusters that exist.
	clusters map[string]bool
}

type stripPort uint8

const (
	keepPort stripPort = iota
	stripMatchingPort
	stripAnyPort
)

// Route routes req; Listener and FilterChain are left empty.
func (r *Router) Route(req *Request) *Result {
	res, _ := r.route(req, &defaultHCM, 0, false)
	return res
}

// Explain routes req and says, for each route before the matched one in
// the chosen virtual host (all of them when none matched), why it did not
// match, in route order.
func (r *Router) Explain(req *Request) (*Result, []Miss) {
	return r.route(req, &defaultHCM, 0, true)
}

// defaultHCM is a connection manager with Envoy's defaults.
var defaultHCM hcm

// route routes req behind the connection manager h of a listener on port.
func (r *Router) route(req *Request, h *hcm, port uint32, explain bool) (*Result, []Miss) {
	res := &Result{RouteConfig: r.name, RouteIndex: -1}
	var vv view
	v := &vv
	r.prepare(v, req, h, port)
	if v.escaped {
		// path_with_escaped_slashes_action answers before routing.
		switch h.escapedSlash {
		case hcmv3.HttpConnectionManager_REJECT_REQUEST:
			res.Action, res.Status = DirectResponse, 400
			res.Notes = []string{"the connection manager rejects a path with escaped slashes (path_with_escaped_slashes_action)"}
			return res, nil
		case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT:
			res.Action, res.Status, res.Location = Redirect, 307, v.path
			res.Notes = []string{"the connection manager redirects a path with escaped slashes to the unescaped path (path_with_escaped_slashes_action)"}
			return res, nil
		}
	}
	vh := r.findVhost(v)
	if vh == nil {
		res.Action, res.Status = NoRoute, 404
		return res, nil
	}
	res.VirtualHost = vh.name
	// require_tls is checked on x-forwarded-proto before any route.
	if vh.requireTLS == routev3.VirtualHost_ALL && v.scheme != "https" ||
		vh.requireTLS == routev3.VirtualHost_EXTERNAL_ONLY && v.scheme != "https" && !req.Internal {
		res.Action, res.Status = Redirect, 301
		res.Location = "https://" + v.authority + v.path
		return res, nil
	}
	var misses []Miss
	for _, rt := range vh.routes {
		if rt.matches(v) {
			r.act(res, v, vh, rt, h)
			return res, misses
		}
		if explain {
			misses = append(misses, Miss{Index: rt.index, Name: rt.name, Reason: rt.miss(v)})
		}
	}
	res.Action, res.Status = NoRoute, 404
	return res, misses
}

// prepare applies what the connection manager does before routing and
// resolves the request's defaults.
func (r *Router) prepare(v *view, req *Request, h *hcm, port uint32) {
	*v = view{req: req, method: req.Method, authority: req.Authority, path: req.Path, hasPath: true}
	if v.method == "" {
		v.method = "GET"
	}
	if v.authority == "" {
		for _, hd := range req.Headers {
			if equalFoldASCII(hd.Name, "host") {
				v.authority = hd.Value
				break
			}
		}
	}
	v.scheme = requestScheme(req, h.tls)
	if v.path == "" {
		if v.method == "CONNECT" {
			v.hasPath = false
		} else {
			v.path = "/"
		}
	}
	// Envoy strips the fragment, which clients should not send.
	if i := strings.IndexByte(v.path, '#'); i >= 0 {
		v.path = v.path[:i]
	}
	switch h.escapedSlash {
	case hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD, hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, hcmv3.HttpConnectionManager_REJECT_REQUEST:
		var p string
		p, v.escaped = unescapeSlashes(v.path)
		if h.escapedSlash != hcmv3.HttpConnectionManager_REJECT_REQUEST {
			v.path = p
		}
	}
	if h.normalizePath || h.mergeSlashes {
		v.path = normalizePath(v.path, h.normalizePath, h.mergeSlashes)
	}
	if h.stripHostDot {
		v.authority = stripTrailingHostDot(v.authority)
	}
	// A stripped port is stripped for routing; a CONNECT gets it back
	// upstream.
	v.upstreamAuthority = v.authority
	if h.stripPort != keepPort {
		if i := portStart(v.authority); i >= 0 && (h.stripPort == stripAnyPort || portIs(v.authority[i+1:], port)) {
			v.authority = v.authority[:i]
			if v.method != "CONNECT" {
				v.upstreamAuthority = v.authority
			}
		}
	}
	v.pathOnly = removeQueryAndFragment(v.path)
	v.matchPath = v.pathOnly
	if r.ignorePathParams {
		if i := strings.IndexByte(v.matchPath, ';'); i >= 0 {
			v.matchPath = v.matchPath[:i]
		}
	}
	if !req.Internal {
		v.hidden = r.internalOnly
	}
}

// requestScheme is the scheme routing sees: the request's, else https for
// TLS, else the x-forwarded-proto header, else http.
func requestScheme(req *Request, tls bool) string {
	if req.Scheme != "" {
		return toLowerASCII(req.Scheme)
	}
	if tls || req.SNI != "" {
		return "https"
	}
	for _, h := range req.Headers {
		if equalFoldASCII(h.Name, "x-forwarded-proto") {
			return toLowerASCII(h.Value)
		}
	}
	return "http"
}

func stripTrailingHostDot(host string) string {
	if i := portStart(host); i > 0 && host[i-1] == '.' {
		return host[:i-1] + host[i:]
	}
	return strings.TrimSuffix(host, ".")
}

func (r *Router) findVhost(v *view) *vhost {
	if r.onlyAny {
		return r.domains.any
	}
	host := v.authority
	if r.vhostHeader != "" {
		host, _ = v.header(r.vhostHeader)
	}
	if host == "" {
		return nil
	}
	if r.ignorePort {
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
	}
	return r.domains.find(toLowerASCII(host))
}

func portIs(s string, port uint32) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && uint32(n) == port
}
