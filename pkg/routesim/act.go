package routesim

import (
	"strconv"
	"strings"
)

// act fills res with what Envoy does once rt is chosen.
func (r *Router) act(res *Result, v *view, vh *vhost, rt *route, h *hcm) {
	res.Route, res.RouteIndex, res.Entry = rt.name, rt.index, rt.entry
	switch {
	case rt.redirect != nil:
		res.Action, res.Status = Redirect, rt.redirect.status
		if v.hasPath {
			res.Location = location(v, rt.redirect, rt, &res.Notes)
		}
		r.responseHeaders(res, vh, rt, nil)
	case rt.direct != nil:
		d := rt.direct
		res.Action, res.Status, res.Body = DirectResponse, d.status, d.body
		if d.file != "" {
			note(&res.Notes, "direct response body is read from "+strconv.Quote(d.file)+" on the Envoy host; not shown")
		}
		// Envoy adds Location to a 201 or 3xx direct response.
		if v.hasPath && (d.status == 201 || d.status >= 300 && d.status < 400) {
			res.Location = location(v, nil, rt, &res.Notes)
		}
		r.responseHeaders(res, vh, rt, nil)
	case rt.nonForwarding:
		res.Action, res.Status = NoRoute, 404
		note(&res.Notes, "the route has a non_forwarding_action: a filter before the router is meant to answer; the router itself answers 404")
	default:
		r.forward(res, v, vh, rt, h)
	}
}

func (r *Router) forward(res *Result, v *view, vh *vhost, rt *route, h *hcm) {
	f := rt.fwd
	res.Action = Forward
	var wc *weightedCluster
	switch {
	case f.weighted != nil:
		wc = r.pickWeighted(res, v, f)
	case f.clusterHeader != "":
		res.Cluster, _ = v.firstHeader(f.clusterHeader)
	default:
		res.Cluster = f.cluster
	}
	if f.unsupported != "" {
		note(&res.Notes, f.unsupported)
	}
	if res.Cluster == "" || h.clusters != nil && !h.clusters[res.Cluster] {
		res.Status = f.notFoundStatus
	}
	res.Timeout, res.Retry = f.timeout, f.retry
	for _, m := range f.mirrors {
		mr := Mirror{Cluster: m.cluster, Percent: 100}
		if m.header != "" {
			c, ok := v.firstHeader(m.header)
			if !ok {
				continue
			}
			mr.Cluster = c
		}
		if m.fraction != nil {
			mr.Percent = m.fraction.percent(v.req)
		}
		res.Mirrors = append(res.Mirrors, mr)
	}
	for i := range vh.vclusters {
		if matchAll(vh.vclusters[i].headers, v) {
			res.VirtualCluster = vh.vclusters[i].name
			break
		}
	}

	// Request headers: the request's own, then the weighted cluster's
	// mutations, then the route's, virtual host's and route
	// configuration's in the configured order.
	mut := mutation{notes: &res.Notes}
	mut.headers = make([]Header, 0, len(v.req.Headers)+4)
	for _, hd := range v.req.Headers {
		name := toLowerASCII(hd.Name)
		if name == "host" || v.isHidden(name) {
			continue
		}
		mut.headers = append(mut.headers, Header{Name: name, Value: hd.Value})
	}
	if wc != nil {
		mut.apply(wc.reqHeaders)
	}
	for _, ops := range r.levels(vh.reqHeaders, rt.reqHeaders) {
		mut.apply(ops)
	}
	res.RequestHeaders, res.RequestHeadersRemoved, res.UpstreamHeaders = mut.added, mut.removed, mut.headers
	r.responseHeaders(res, vh, rt, wc)

	// Host, then path, rewritten after the header mutations as Envoy does.
	host := v.upstreamAuthority
	if wc != nil && wc.hostRewrite != "" {
		host = wc.hostRewrite
	}
	switch {
	case f.hostLiteral != "":
		host = f.hostLiteral
	case f.autoHost:
		note(&res.Notes, "auto_host_rewrite: Host becomes the hostname of the upstream endpoint Envoy picks; not simulated, left unchanged")
	case f.hostHeader != "":
		for _, hd := range mut.headers {
			if hd.Name == f.hostHeader {
				if hd.Value != "" {
					host = hd.Value
				}
				break
			}
		}
	case f.hostRegex != nil:
		host = f.hostRegex.replaceAll(v.pathOnly, &res.Notes)
	case f.hostFormat != "":
		if strings.Contains(f.hostFormat, "%") {
			note(&res.Notes, "host_rewrite "+strconv.Quote(f.hostFormat)+" may hold a formatter; shown unevaluated")
		}
		host = f.hostFormat
	}
	path := v.path
	query := v.path[len(v.pathOnly):]
	switch {
	case f.prefixRewrite != "":
		path = f.prefixRewrite + v.path[rt.matchedLen(v):]
	case f.regexRewrite != nil:
		path = f.regexRewrite.replaceAll(v.pathOnly, &res.Notes) + query
	case f.tmplRewrite != nil:
		if p, ok := f.tmplRewrite.rewrite(rt.tmpl, v.pathOnly); ok {
			path = p
		}
	case f.pathRewrite != "":
		if strings.Contains(f.pathRewrite, "%") {
			note(&res.Notes, "path_rewrite "+strconv.Quote(f.pathRewrite)+" may hold a formatter; shown unevaluated")
		}
		path = f.pathRewrite + query
	}
	res.Path, res.Host = path, host
}

// pickWeighted draws a cluster the way Envoy does: random % total weight
// falls in one cluster's range [sum of earlier weights, + its weight). The
// random value is the request's, or the header named by header_name when
// it holds one integer; weights may come from runtime_key_prefix.
func (r *Router) pickWeighted(res *Result, v *view, f *forward) *weightedCluster {
	random := v.req.Random
	if f.randomHeader != "" {
		if val, ok := v.header(f.randomHeader); ok && !strings.Contains(val, ",") {
			if n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64); err == nil {
				random = n
			}
		}
	}
	weights := make([]Weight, len(f.weighted))
	var total uint64
	for i := range f.weighted {
		w := &f.weighted[i]
		weight := w.weight
		if f.runtimePrefix != "" {
			if n, ok := v.req.Runtime[f.runtimePrefix+"."+w.name]; ok {
				weight = n
			}
		}
		name := w.name
		if w.header != "" {
			name, _ = v.firstHeader(w.header)
		}
		weights[i] = Weight{Cluster: name, Weight: uint32(weight)}
		total += weight
	}
	res.Weights = weights
	if total == 0 {
		return nil
	}
	sel := random % total
	var begin uint64
	for i := range f.weighted {
		end := begin + uint64(weights[i].Weight)
		if sel >= begin && sel < end {
			res.Cluster = weights[i].Cluster
			return &f.weighted[i]
		}
		begin = end
	}
	return nil
}

func matchAll(hs []headerMatcher, v *view) bool {
	for i := range hs {
		if !hs[i].match(v) {
			return false
		}
	}
	return true
}

// levels orders the route, virtual host and route configuration mutations
// as Envoy applies them: most specific first, unless
// most_specific_header_mutations_wins, when the most specific is applied
// last and so wins.
func (r *Router) levels(vh, rt *headerOps) [3]*headerOps {
	if r.mostSpecificWins {
		return [3]*headerOps{r.reqHeaders, vh, rt}
	}
	return [3]*headerOps{rt, vh, r.reqHeaders}
}

func (r *Router) responseHeaders(res *Result, vh *vhost, rt *route, wc *weightedCluster) {
	mut := mutation{notes: &res.Notes}
	if wc != nil {
		mut.apply(wc.respHeaders)
	}
	order := [3]*headerOps{rt.respHeaders, vh.respHeaders, r.respHeaders}
	if r.mostSpecificWins {
		order = [3]*headerOps{r.respHeaders, vh.respHeaders, rt.respHeaders}
	}
	for _, ops := range order {
		mut.apply(ops)
	}

	res.ResponseHeaders, res.ResponseHeadersRemoved = mut.added, mut.removed
}

// location is the URL Envoy composes for a redirect (rd set) or for a
// direct response's Location (rd nil): the scheme, host and path of the
// request unless replaced; a port the new scheme makes default, or a
// port_redirect, replaces the request's port; strip_query drops the query
// unless path_redirect brings its own.
func location(v *view, rd *redirect, rt *route, notes *[]string) string {
	scheme, port, host := v.scheme, "", ""
	path := v.path
	rest := v.path[len(v.pathOnly):]
	if rd != nil {
		if rd.scheme != "" {
			scheme = rd.scheme
		}
		port, host = rd.port, rd.host
		switch {
		case rd.path != "":
			path = rd.path
			if !rd.pathHasQuery {
				if i := strings.IndexByte(v.path, '?'); i >= 0 {
					path += v.path[i:]
				}
			}
		case rd.prefixRewrite != "":
			path = rd.prefixRewrite + v.path[rt.matchedLen(v):]
		case rd.regexRewrite != nil:
			path = rd.regexRewrite.replaceAll(v.pathOnly, notes) + rest
		case rd.pathRewrite != "":
			if strings.Contains(rd.pathRewrite, "%") {
				note(notes, "path_rewrite "+strconv.Quote(rd.pathRewrite)+" may hold a formatter; shown unevaluated")
			}
			path = rd.pathRewrite + rest
		}
	}
	if host == "" {
		host = redirectHost(v.authority, v.scheme, scheme, port)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if rd != nil && rd.stripQuery && !rd.pathHasQuery {
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	return scheme + "://" + host + port + path
}

// redirectHost is the request's host in a redirect: its port goes when a
// port_redirect replaces it, or when the scheme changes and the port was
// the default of the old one (http:80, https:443).
func redirectHost(host, oldScheme, newScheme, newPort string) string {
	var i int
	if strings.HasPrefix(host, "[") {
		i = strings.LastIndex(host, "]:")
		if i >= 0 {
			i++
		}
	} else {
		i = strings.LastIndexByte(host, ':')
	}
	if i < 0 {
		return host
	}
	port := host[i:]
	remove := newPort != ""
	if newScheme != oldScheme {
		remove = remove || oldScheme == "https" && port == ":443" || oldScheme == "http" && port == ":80"
	}
	if remove {
		return host[:i]
	}
	return host
}
