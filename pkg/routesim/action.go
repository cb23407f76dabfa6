package routesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritemplaterewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// defaultTimeout is Envoy's route timeout when none is set.
const defaultTimeout = 15 * time.Second

// forward is a compiled RouteAction.
type forward struct {
	cluster       string
	clusterHeader string
	weighted      []weightedCluster
	totalWeight   uint64
	randomHeader  string
	runtimePrefix string
	// unsupported names a cluster specifier the simulator cannot follow.
	unsupported    string
	notFoundStatus int

	prefixRewrite string
	regexRewrite  *regexRewrite
	tmplRewrite   *rewriteTemplate
	pathRewrite   string

	hostLiteral string
	autoHost    bool
	hostHeader  string
	hostRegex   *regexRewrite
	hostFormat  string

	timeout time.Duration
	retry   *routev3.RetryPolicy
	mirrors []mirror
}

type weightedCluster struct {
	name, header string
	weight       uint64
	hostRewrite  string
	reqHeaders   *headerOps
	respHeaders  *headerOps
}

type mirror struct {
	cluster, header string
	fraction        *fraction
}

func compileForward(a *routev3.RouteAction, rt *route, vh *vhost) (*forward, error) {
	f := &forward{timeout: defaultTimeout, retry: a.GetRetryPolicy(), notFoundStatus: 503}
	if f.retry == nil {
		f.retry = vh.retry
	}
	if a.GetTimeout() != nil {
		f.timeout = a.GetTimeout().AsDuration()
	}
	switch a.GetClusterNotFoundResponseCode() {
	case routev3.RouteAction_NOT_FOUND:
		f.notFoundStatus = 404
	case routev3.RouteAction_INTERNAL_SERVER_ERROR:
		f.notFoundStatus = 500
	}
	switch c := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		f.cluster = c.Cluster
	case *routev3.RouteAction_ClusterHeader:
		f.clusterHeader = toLowerASCII(c.ClusterHeader)
	case *routev3.RouteAction_WeightedClusters:
		wc := c.WeightedClusters
		f.runtimePrefix = wc.GetRuntimeKeyPrefix()
		f.randomHeader = toLowerASCII(wc.GetHeaderName())
		if wc.GetUseHashPolicy() != nil && wc.GetUseHashPolicy().GetValue() {
			f.unsupported = "weighted_clusters.use_hash_policy: the split is drawn from Request.Random instead of the hash"
		}
		for _, cw := range wc.GetClusters() {
			if (cw.GetName() == "") == (cw.GetClusterHeader() == "") {
				return nil, fmt.Errorf("weighted cluster: exactly one of name and cluster_header must be set")
			}
			w := weightedCluster{
				name:        cw.GetName(),
				header:      toLowerASCII(cw.GetClusterHeader()),
				weight:      uint64(cw.GetWeight().GetValue()),
				hostRewrite: cw.GetHostRewriteLiteral(),
			}
			var err error
			if w.reqHeaders, err = compileHeaderOps(cw.GetRequestHeadersToAdd(), cw.GetRequestHeadersToRemove()); err != nil {
				return nil, err
			}
			if w.respHeaders, err = compileHeaderOps(cw.GetResponseHeadersToAdd(), cw.GetResponseHeadersToRemove()); err != nil {
				return nil, err
			}
			f.weighted = append(f.weighted, w)
			f.totalWeight += w.weight
		}
		if f.totalWeight == 0 {
			return nil, fmt.Errorf("sum of weights in weighted_clusters must be greater than 0")
		}
	case *routev3.RouteAction_ClusterSpecifierPlugin:
		f.unsupported = fmt.Sprintf("cluster_specifier_plugin %q is not simulated; the cluster is unknown", c.ClusterSpecifierPlugin)
	case *routev3.RouteAction_InlineClusterSpecifierPlugin:
		f.unsupported = fmt.Sprintf("inline cluster specifier plugin %q is not simulated; the cluster is unknown", c.InlineClusterSpecifierPlugin.GetExtension().GetName())
	default:
		return nil, fmt.Errorf("route action has no cluster specifier")
	}

	rewrites := 0
	if a.GetPrefixRewrite() != "" {
		f.prefixRewrite = a.GetPrefixRewrite()
		rewrites++
	}
	if rr := a.GetRegexRewrite(); rr != nil {
		var err error
		if f.regexRewrite, err = compileRegexRewrite(rr); err != nil {
			return nil, fmt.Errorf("regex_rewrite: %w", err)
		}
		rewrites++
	}
	if a.GetPathRewrite() != "" {
		f.pathRewrite = a.GetPathRewrite()
		rewrites++
	}
	if p := a.GetPathRewritePolicy(); p != nil {
		cfg := &uritemplaterewritev3.UriTemplateRewriteConfig{}
		if err := p.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			return nil, fmt.Errorf("path_rewrite_policy: only the uri_template extension is supported: %w", err)
		}
		if rt.tmpl == nil {
			return nil, fmt.Errorf("path_rewrite_policy needs a uri_template path_match_policy")
		}
		var err error
		if f.tmplRewrite, err = compileRewrite(cfg.GetPathTemplateRewrite(), rt.tmpl); err != nil {
			return nil, err
		}
		rewrites++
	}
	if rewrites > 1 {
		return nil, fmt.Errorf("only one of prefix_rewrite, regex_rewrite, path_rewrite and path_rewrite_policy may be set")
	}
	if f.prefixRewrite != "" && rt.pathKind == pathTemplate {
		return nil, fmt.Errorf("prefix_rewrite cannot be used with a path_match_policy")
	}

	switch h := a.GetHostRewriteSpecifier().(type) {
	case *routev3.RouteAction_HostRewriteLiteral:
		f.hostLiteral = h.HostRewriteLiteral
	case *routev3.RouteAction_AutoHostRewrite:
		f.autoHost = h.AutoHostRewrite.GetValue()
	case *routev3.RouteAction_HostRewriteHeader:
		f.hostHeader = toLowerASCII(h.HostRewriteHeader)
	case *routev3.RouteAction_HostRewritePathRegex:
		var err error
		if f.hostRegex, err = compileRegexRewrite(h.HostRewritePathRegex); err != nil {
			return nil, fmt.Errorf("host_rewrite_path_regex: %w", err)
		}
	case *routev3.RouteAction_HostRewrite:
		f.hostFormat = h.HostRewrite
	}

	var err error
	if f.mirrors, err = compileMirrors(a.GetRequestMirrorPolicies()); err != nil {
		return nil, err
	}
	if len(a.GetRequestMirrorPolicies()) == 0 {
		f.mirrors = vh.mirrors
	}
	return f, nil
}

func compileMirrors(ps []*routev3.RouteAction_RequestMirrorPolicy) ([]mirror, error) {
	var out []mirror
	for _, p := range ps {
		if (p.GetCluster() == "") == (p.GetClusterHeader() == "") {
			return nil, fmt.Errorf("request mirror policy: exactly one of cluster and cluster_header must be set")
		}
		m := mirror{cluster: p.GetCluster(), header: toLowerASCII(p.GetClusterHeader())}
		if p.GetRuntimeFraction() != nil {
			fr := compileFraction(p.GetRuntimeFraction())
			m.fraction = &fr
		}
		out = append(out, m)
	}
	return out, nil
}

// regexRewrite is a RegexMatchAndSubstitute: every match of the pattern
// replaced, RE2 style, \0 to \9 naming groups and \\ a backslash.
type regexRewrite struct {
	re  *regexp.Regexp
	sub string
	// bad says why the substitution is invalid; RE2 then leaves the input
	// unchanged.
	bad string
}

func compileRegexRewrite(m *matcherv3.RegexMatchAndSubstitute) (*regexRewrite, error) {
	re, err := regexp.Compile(m.GetPattern().GetRegex())
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", m.GetPattern().GetRegex(), err)
	}
	rr := &regexRewrite{re: re, sub: m.GetSubstitution()}
	s := rr.sub
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		switch {
		case i == len(s):
			rr.bad = fmt.Sprintf("substitution %q ends with a backslash", rr.sub)
		case s[i] == '\\':
		case s[i] >= '0' && s[i] <= '9':
			if int(s[i]-'0') > re.NumSubexp() {
				rr.bad = fmt.Sprintf("substitution %q names group %c of a regex with %d", rr.sub, s[i], re.NumSubexp())
			}
		default:
			rr.bad = fmt.Sprintf("substitution %q has an invalid escape", rr.sub)
		}
	}
	return rr, nil
}

func (rr *regexRewrite) replaceAll(s string, notes *[]string) string {
	if rr.bad != "" {
		note(notes, rr.bad+"; the value is left unchanged")
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range rr.re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		for i := 0; i < len(rr.sub); i++ {
			c := rr.sub[i]
			if c != '\\' {
				b.WriteByte(c)
				continue
			}
			i++
			if rr.sub[i] == '\\' {
				b.WriteByte('\\')
				continue
			}
			g := int(rr.sub[i] - '0')
			if m[2*g] >= 0 {
				b.WriteString(s[m[2*g]:m[2*g+1]])
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redirect is a compiled RedirectAction.
type redirect struct {
	scheme        string
	host          string
	port          string
	path          string
	pathHasQuery  bool
	prefixRewrite string
	regexRewrite  *regexRewrite
	pathRewrite   string
	stripQuery    bool
	status        int
}

func compileRedirect(a *routev3.RedirectAction, rt *route) (*redirect, error) {
	rd := &redirect{host: a.GetHostRedirect(), stripQuery: a.GetStripQuery(), status: 301}
	switch s := a.GetSchemeRewriteSpecifier().(type) {
	case *routev3.RedirectAction_HttpsRedirect:
		if s.HttpsRedirect {
			rd.scheme = "https"
		}
	case *routev3.RedirectAction_SchemeRedirect:
		rd.scheme = toLowerASCII(s.SchemeRedirect)
	}
	if a.GetPortRedirect() != 0 {
		rd.port = ":" + strconv.FormatUint(uint64(a.GetPortRedirect()), 10)
	}
	switch p := a.GetPathRewriteSpecifier().(type) {
	case *routev3.RedirectAction_PathRedirect:
		rd.path = p.PathRedirect
		rd.pathHasQuery = strings.Contains(p.PathRedirect, "?")
	case *routev3.RedirectAction_PrefixRewrite:
		rd.prefixRewrite = p.PrefixRewrite
	case *routev3.RedirectAction_RegexRewrite:
		var err error
		if rd.regexRewrite, err = compileRegexRewrite(p.RegexRewrite); err != nil {
			return nil, fmt.Errorf("redirect regex_rewrite: %w", err)
		}
	case *routev3.RedirectAction_PathRewrite:
		rd.pathRewrite = p.PathRewrite
	}
	switch a.GetResponseCode() {
	case routev3.RedirectAction_FOUND:
		rd.status = 302
	case routev3.RedirectAction_SEE_OTHER:
		rd.status = 303
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		rd.status = 307
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		rd.status = 308
	}
	return rd, nil
}

// direct is a compiled DirectResponseAction.
type direct struct {
	status int
	body   string
	file   string
}

func compileDirect(a *routev3.DirectResponseAction, maxBody uint32) (*direct, error) {
	d := &direct{status: int(a.GetStatus())}
	if b := a.GetBody(); b != nil {
		d.file = b.GetFilename()
		d.body = b.GetInlineString()
		if len(b.GetInlineBytes()) > 0 {
			d.body = string(b.GetInlineBytes())
		}
		if b.GetEnvironmentVariable() != "" {
			d.file = "$" + b.GetEnvironmentVariable()
		}
	}
	if uint32(len(d.body)) > maxBody {
		return nil, fmt.Errorf("direct response body is %d bytes, over the %d-byte limit", len(d.body), maxBody)
	}
	return d, nil
}
