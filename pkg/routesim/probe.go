package routesim

import (
	"net/url"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// Probe makes a request that a route's match accepts, as a reviewer would
// write it to exercise the route: a host of the virtual host, a path the
// path matcher takes, the method and headers it requires, and the query
// parameters it wants. The request is representative, not proven: an
// earlier route may still take it, which is what a diff wants to know.
// ok is false when no such request can be made (a matcher edgectl cannot
// invert, such as a regex that matches nothing printable).
func Probe(vh *routev3.VirtualHost, r *routev3.Route) (req *Request, ok bool) {
	m := r.GetMatch()
	if m == nil || m.GetConnectMatcher() != nil || len(m.GetDynamicMetadata()) > 0 || m.GetFilterState() != nil {
		return nil, false
	}
	req = &Request{Method: "GET", Authority: probeHost(vh.GetDomains())}
	if req.Authority == "" {
		return nil, false
	}
	var path string
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		path = p.Prefix
	case *routev3.RouteMatch_Path:
		path = p.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		path = p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		path, ok = regexSample(p.SafeRegex.GetRegex())
		if !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	var query url.Values
	for _, q := range m.GetQueryParameters() {
		if query == nil {
			query = url.Values{}
		}
		if q.GetPresentMatch() {
			query.Set(q.GetName(), "1")
			continue
		}
		v, ok := stringSample(q.GetStringMatch())
		if !ok {
			return nil, false
		}
		query.Set(q.GetName(), v)
	}
	if query != nil {
		path += "?" + query.Encode()
	}
	req.Path = path
	if m.GetGrpc() != nil {
		req.Method = "POST"
		req.Headers = append(req.Headers, Header{"content-type", "application/grpc"})
	}
	for _, h := range m.GetHeaders() {
		v, present, ok := headerSample(h)
		if !ok {
			return nil, false
		}
		if !present {
			continue
		}
		switch strings.ToLower(h.GetName()) {
		case ":method":
			req.Method = v
		case ":authority", ":path", ":scheme":
			return nil, false
		default:
			req.Headers = append(req.Headers, Header{strings.ToLower(h.GetName()), v})
		}
	}
	return req, true
}

// probeHost picks the first exact domain of a virtual host, else makes a
// name its first wildcard accepts.
func probeHost(domains []string) string {
	for _, d := range domains {
		if !strings.Contains(d, "*") {
			return d
		}
	}
	for _, d := range domains {
		switch {
		case d == "*":
			return "any.example"
		case strings.HasPrefix(d, "*"):
			return "probe" + d[1:]
		case strings.HasSuffix(d, "*"):
			return d[:len(d)-1] + "probe"
		}
	}
	return ""
}

// headerSample makes a value a header matcher accepts; present is false
// when the matcher is satisfied by leaving the header out.
func headerSample(h *routev3.HeaderMatcher) (v string, present, ok bool) {
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case nil:
		// Presence: any value.
		v, present = "1", true
	case *routev3.HeaderMatcher_PresentMatch:
		v, present = "1", s.PresentMatch
	case *routev3.HeaderMatcher_ExactMatch:
		v, present = s.ExactMatch, true
	case *routev3.HeaderMatcher_PrefixMatch:
		v, present = s.PrefixMatch+"x", true
	case *routev3.HeaderMatcher_SuffixMatch:
		v, present = "x"+s.SuffixMatch, true
	case *routev3.HeaderMatcher_ContainsMatch:
		v, present = s.ContainsMatch, true
	case *routev3.HeaderMatcher_SafeRegexMatch:
		v, ok = regexSample(s.SafeRegexMatch.GetRegex())
		if !ok {
			return "", false, false
		}
		present = true
	case *routev3.HeaderMatcher_RangeMatch:
		v, present = strconv.FormatInt(s.RangeMatch.GetStart(), 10), true
	case *routev3.HeaderMatcher_StringMatch:
		v, ok = stringSample(s.StringMatch)
		if !ok {
			return "", false, false
		}
		present = true
	default:
		return "", false, false
	}
	if h.GetInvertMatch() {
		// Whatever the matcher wanted, a missing header does not have it
		// (unless a missing header counts as empty and empty matches).
		if h.GetTreatMissingHeaderAsEmpty() {
			return "", false, false
		}
		return "", !present, true
	}
	return v, present, true
}

func stringSample(s *matcherv3.StringMatcher) (string, bool) {
	switch p := s.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return p.Exact, true
	case *matcherv3.StringMatcher_Prefix:
		return p.Prefix + "x", true
	case *matcherv3.StringMatcher_Suffix:
		return "x" + p.Suffix, true
	case *matcherv3.StringMatcher_Contains:
		return p.Contains, true
	case *matcherv3.StringMatcher_SafeRegex:
		return regexSample(p.SafeRegex.GetRegex())
	}
	return "", false
}

// regexSample makes a short string the whole of which the RE2 expression
// matches, as Envoy's safe_regex does: the first alternative, each repeat
// its minimum, each class a character that needs no escaping in a URL.
func regexSample(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !sample(&b, re.Simplify(), 0) {
		return "", false
	}
	full, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil || !full.MatchString(b.String()) {
		return "", false
	}
	return b.String(), true
}

const preferred = "a0-_.~"

func sample(b *strings.Builder, re *syntax.Regexp, depth int) bool {
	if depth > 100 {
		return false
	}
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
		return true
	case syntax.OpCharClass:
		r, ok := classRune(re.Rune)
		if ok {
			b.WriteRune(r)
		}
		return ok
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
		return true
	case syntax.OpCapture:
		return sample(b, re.Sub[0], depth+1)
	case syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpPlus:
		return sample(b, re.Sub[0], depth+1)
	case syntax.OpRepeat:
		for range re.Min {
			if !sample(b, re.Sub[0], depth+1) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !sample(b, s, depth+1) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			var alt strings.Builder
			if sample(&alt, s, depth+1) {
				b.WriteString(alt.String())
				return true
			}
		}
		return false
	}
	return false
}

// classRune picks a rune of a class (pairs of ranges), preferring ones
// that read well in a URL or header.
func classRune(ranges []rune) (rune, bool) {
	if len(ranges) == 0 {
		return 0, false
	}
	for _, p := range preferred {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= p && p <= ranges[i+1] {
				return p, true
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := max(ranges[i], '!'); r <= ranges[i+1] && r < 0x7f; r++ {
			if r != '?' && r != '#' && r != '%' {
				return r, true
			}
		}
	}
	return ranges[0], true
}
