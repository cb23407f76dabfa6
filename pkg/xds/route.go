package xds

import (
	"math"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

func routeConfiguration(t *ir.RouteTable) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{Name: t.Name}
	if t.AltSvc != "" {
		rc.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{
			Header:       &corev3.HeaderValue{Key: "alt-svc", Value: t.AltSvc},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}
	}
	for _, vh := range t.VirtualHosts {
		rc.VirtualHosts = append(rc.VirtualHosts, virtualHost(vh))
	}
	hoistFilterConfigs(rc)
	return rc
}

func virtualHost(vh *ir.VirtualHost) *routev3.VirtualHost {
	out := &routev3.VirtualHost{
		Name:                    vh.Name,
		Domains:                 vh.Domains,
		RequestHeadersToAdd:     headersToAdd(vh.RequestHeaders),
		RequestHeadersToRemove:  vh.RequestHeaders.Remove,
		ResponseHeadersToAdd:    headersToAdd(vh.ResponseHeaders),
		ResponseHeadersToRemove: vh.ResponseHeaders.Remove,
		TypedPerFilterConfig:    vhostHTTPConfigs(vh, vhostFilterConfigs(vh)),
	}
	for _, r := range vh.Routes {
		rt := route(r)
		rt.TypedPerFilterConfig = routeHTTPConfigs(vh, r, routeFilterConfigs(vh, r))
		out.Routes = append(out.Routes, rt)
	}
	return out
}

func route(r *ir.Route) *routev3.Route {
	out := &routev3.Route{
		Name:                    r.Name,
		Match:                   routeMatch(&r.Match),
		RequestHeadersToAdd:     headersToAdd(r.RequestHeaders),
		RequestHeadersToRemove:  r.RequestHeaders.Remove,
		ResponseHeadersToAdd:    headersToAdd(r.ResponseHeaders),
		ResponseHeadersToRemove: r.ResponseHeaders.Remove,
	}
	switch {
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(r.Redirect)}
	case r.Respond != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: r.Respond.Status,
			Body:   inlineString(r.Respond.Body),
		}}
	default:
		out.Action = &routev3.Route_Route{Route: routeAction(r)}
	}
	return out
}

func inlineString(s string) *corev3.DataSource {
	if s == "" {
		return nil
	}
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

func routeMatch(m *ir.Match) *routev3.RouteMatch {
	out := &routev3.RouteMatch{}
	switch m.PathKind {
	case ir.PathExact:
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.Path}
	case ir.PathRegex:
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: m.Path}}
	case ir.PathSegment:
		out.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: m.Path}
	default:
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: m.Path}
	}
	switch len(m.Methods) {
	case 0:
	case 1:
		out.Headers = append(out.Headers, &routev3.HeaderMatcher{Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: m.Methods[0]}}}})
	default:
		out.Headers = append(out.Headers, &routev3.HeaderMatcher{Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
					Regex: "^(" + strings.Join(m.Methods, "|") + ")$"}}}}})
	}
	for _, h := range m.Headers {
		hm := &routev3.HeaderMatcher{Name: h.Name, InvertMatch: h.Invert}
		switch h.Kind {
		case ir.MatchPresent:
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
		case ir.MatchAbsent:
			// Absent is "present, inverted"; an inverted absent is present.
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
			hm.InvertMatch = !h.Invert
		default:
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: stringMatcher(h.StringMatch)}
		}
		out.Headers = append(out.Headers, hm)
	}
	for _, q := range m.Query {
		qm := &routev3.QueryParameterMatcher{Name: q.Name}
		if q.Kind == ir.MatchPresent {
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
		} else {
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: stringMatcher(q.StringMatch)}
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	return out
}

func stringMatcher(s ir.StringMatch) *matcherv3.StringMatcher {
	out := &matcherv3.StringMatcher{IgnoreCase: s.IgnoreCase}
	switch s.Kind {
	case ir.MatchExact:
		out.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: s.Value}
	case ir.MatchPrefix:
		out.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: s.Value}
	case ir.MatchSuffix:
		out.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: s.Value}
	case ir.MatchContains:
		out.MatchPattern = &matcherv3.StringMatcher_Contains{Contains: s.Value}
	case ir.MatchRegex:
		out.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: s.Value}}
	}
	return out
}

var redirectCodes = map[int]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

func redirect(r *ir.Redirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{
		HostRedirect: r.Host,
		PortRedirect: r.Port,
		ResponseCode: redirectCodes[r.Code],
		StripQuery:   r.StripQuery,
	}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	switch {
	case r.Path != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.Path}
	case r.Prefix != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.Prefix}
	}
	return out
}

func routeAction(r *ir.Route) *routev3.RouteAction {
	out := &routev3.RouteAction{
		Timeout:     durp(r.Timeout),
		IdleTimeout: durp(r.IdleTimeout),
		HedgePolicy: hedgePolicy(r),
	}
	if r.HostRewrite != "" {
		out.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: r.HostRewrite}
	}
	if len(r.Forward) == 1 {
		out.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: r.Forward[0].Cluster}
	} else {
		wc := &routev3.WeightedCluster{}
		for _, w := range r.Forward {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: w.Cluster, Weight: wrapperspb.UInt32(w.Weight)})
		}
		out.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if r.PrefixRewrite != nil {
		out.PrefixRewrite = *r.PrefixRewrite
	}
	if rr := r.RegexRewrite; rr != nil {
		out.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: rr.Pattern}, Substitution: rr.Substitution}
	}
	if rt := r.Retry; rt != nil {
		p := &routev3.RetryPolicy{
			RetryOn:              strings.Join(rt.On, ","),
			NumRetries:           wrapperspb.UInt32(rt.Attempts),
			PerTryTimeout:        durp(rt.PerTryTimeout),
			RetriableStatusCodes: rt.StatusCodes,
		}
		if rt.BackoffBase != nil {
			p.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durp(rt.BackoffBase), MaxInterval: durp(rt.BackoffMax)}
		}
		out.RetryPolicy = p
	}
	if m := r.Mirror; m != nil {
		out.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{
			Cluster: m.Cluster,
			RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
				Numerator:   uint32(math.Round(m.Percent * 10000)),
				Denominator: typev3.FractionalPercent_MILLION,
			}},
		}}
	}
	if r.Websocket {
		out.UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}}
	}
	for _, h := range r.Hash {
		hp := &routev3.RouteAction_HashPolicy{Terminal: h.Terminal}
		switch {
		case h.Header != "":
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: h.Header}}
		case h.Cookie != nil:
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Cookie_{Cookie: &routev3.RouteAction_HashPolicy_Cookie{
				Name: h.Cookie.Name, Ttl: durp(h.Cookie.TTL), Path: h.Cookie.Path}}
		default:
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_ConnectionProperties_{
				ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
		}
		out.HashPolicy = append(out.HashPolicy, hp)
	}
	return out
}

func headersToAdd(ops ir.HeaderOps) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range ops.Set {
		out = append(out, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD})
	}
	for _, h := range ops.Add {
		out = append(out, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD})
	}
	return out
}
