package routesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// FuzzRoute builds random route configurations and requests from the
// fuzzer's bytes and checks that the simulator never panics and agrees
// with ref, a linear scan written apart from the simulator: no domain
// index, matchers spelled out from the documentation.
func FuzzRoute(f *testing.F) {
	for _, seed := range []string{
		"", "\x00", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a",
		"\x03\x07\x01\x02\x05\x00\x04\x06\x02\x01\x03\x09\x08\x07\x06\x05\x04\x03\x02\x01",
		strings.Repeat("\x05\x03\x11\x42\x07", 40), strings.Repeat("\xff\x80\x13\x37", 60),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &dice{b: data}
		rc := randomConfig(d)
		r, err := NewRouter(rc)
		if wantErr := refDuplicateDomain(rc); (err != nil) != wantErr {
			t.Fatalf("NewRouter error %v, reference expects an error: %v\n%v", err, wantErr, rc)
		}
		if err != nil {
			return
		}
		for i := 0; i < 8; i++ {
			req := randomRequest(d)
			got := r.Route(req)
			res2, misses := r.Explain(req)
			want := ref(rc, req)
			if g := summary(got); g != want {
				t.Fatalf("request %+v\nsimulator: %s\nreference: %s\nconfig: %v", req, g, want, rc)
			}
			if g := summary(res2); g != want {
				t.Fatalf("Explain disagrees with Route: %s vs %s", g, want)
			}
			if res2.RouteIndex >= 0 && len(misses) != res2.RouteIndex {
				t.Fatalf("%d misses before route %d", len(misses), res2.RouteIndex)
			}
		}
	})
}

// dice reads choices from the fuzzer's bytes; past the end every choice
// is 0.
type dice struct {
	b []byte
	i int
}

func (d *dice) n(k int) int {
	if d.i >= len(d.b) || k <= 1 {
		d.i++
		return 0
	}
	v := int(d.b[d.i]) % k
	d.i++
	return v
}

func (d *dice) pick(xs []string) string { return xs[d.n(len(xs))] }

var (
	fuzzDomains  = []string{"a.com", "*.a.com", "*-b.a.com", "a.*", "*", "b.a.com", "api.a.com:8080", "A.com", "*.com", "x*"}
	fuzzHosts    = []string{"a.com", "b.a.com", "x-b.a.com", "-b.a.com", "a.org", "api.a.com:8080", "A.COM", "", "xyz", "x", "c.com"}
	fuzzPaths    = []string{"/", "/a", "/a/", "/a/b", "/ab", "/A/b", "/a?x=1", "/b/c?q=1&q=2", "/b", "/a/b?q=2"}
	fuzzPrefixes = []string{"", "/", "/a", "/a/", "/b", "/A"}
	fuzzRegexes  = []string{"/a.*", "/[ab]/?.*", "/a/b", "/b/c"}
	fuzzNames    = []string{"x-a", "x-b"}
	fuzzValues   = []string{"1", "2", ""}
	fuzzClusters = []string{"c1", "c2", "c3"}
)

func randomConfig(d *dice) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{Name: "fuzz"}
	for v := 0; v < 1+d.n(4); v++ {
		vh := &routev3.VirtualHost{Name: fmt.Sprintf("vh%d", v)}
		for k := 0; k < 1+d.n(2); k++ {
			vh.Domains = append(vh.Domains, d.pick(fuzzDomains))
		}
		for k := 0; k < 1+d.n(5); k++ {
			vh.Routes = append(vh.Routes, randomRoute(d, k))
		}
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
	}
	return rc
}

func randomRoute(d *dice, i int) *routev3.Route {
	m := &routev3.RouteMatch{}
	switch d.n(4) {
	case 0:
		m.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: d.pick(fuzzPrefixes)}
	case 1:
		m.PathSpecifier = &routev3.RouteMatch_Path{Path: d.pick(fuzzPaths[:6])}
	case 2:
		m.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: d.pick(fuzzRegexes)}}
	case 3:
		m.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: d.pick([]string{"/a", "/b"})}
	}
	if d.n(3) == 0 {
		m.CaseSensitive = wrapperspb.Bool(false)
	}
	for k := d.n(3); k > 0; k-- {
		h := &routev3.HeaderMatcher{Name: d.pick(fuzzNames), InvertMatch: d.n(4) == 0}
		switch d.n(4) {
		case 0:
			h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: d.pick(fuzzValues)}}}
		case 1:
			h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "1"}}}
		case 2:
			h.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: d.n(2) == 0}
		case 3:
			h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "1,2"}}}
		}
		m.Headers = append(m.Headers, h)
	}
	if d.n(4) == 0 {
		m.QueryParameters = []*routev3.QueryParameterMatcher{{Name: d.pick([]string{"q", "x"}),
			QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: d.pick([]string{"1", "2"})}}}}}
	}
	if d.n(4) == 0 {
		m.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: uint32(d.n(101))}}
	}
	r := &routev3.Route{Name: fmt.Sprintf("r%d", i), Match: m}
	if d.n(3) == 0 {
		wc := &routev3.WeightedCluster{}
		for k := 0; k < 2+d.n(2); k++ {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: fuzzClusters[k], Weight: wrapperspb.UInt32(uint32(1 + d.n(50)))})
		}
		r.Action = &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}}
	} else {
		r.Action = &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: d.pick(fuzzClusters)}}}
	}
	return r
}

func randomRequest(d *dice) *Request {
	req := &Request{Authority: d.pick(fuzzHosts), Path: d.pick(fuzzPaths), Random: uint64(d.n(256)) * 7}
	for k := d.n(4); k > 0; k-- {
		req.Headers = append(req.Headers, Header{Name: d.pick([]string{"x-a", "X-A", "x-b", "x-c"}), Value: d.pick(fuzzValues)})
	}
	return req
}

func summary(res *Result) string {
	return fmt.Sprintf("vhost=%q route=%d action=%s cluster=%q", res.VirtualHost, res.RouteIndex, res.Action, res.Cluster)
}

// refDuplicateDomain: a domain, lowercase, may appear once in a route
// configuration.
func refDuplicateDomain(rc *routev3.RouteConfiguration) bool {
	seen := map[string]bool{}
	for _, vh := range rc.VirtualHosts {
		for _, d := range vh.Domains {
			d = strings.ToLower(d)
			if seen[d] {
				return true
			}
			seen[d] = true
		}
	}
	return false
}

// ref routes by scanning: the virtual host with the best-ranked domain
// (exact, then the longest suffix wildcard, then the longest prefix
// wildcard, then "*"), then the first route whose every criterion holds.
func ref(rc *routev3.RouteConfiguration, req *Request) string {
	host := strings.ToLower(req.Authority)
	var best *routev3.VirtualHost
	bestClass, bestLen := 5, 0
	domains := 0
	for _, vh := range rc.VirtualHosts {
		for _, dom := range vh.Domains {
			domains++
			dom = strings.ToLower(dom)
			class := -1
			switch {
			case dom == "*":
				class = 3
			case dom == host:
				class = 0
			case strings.HasPrefix(dom, "*") && len(host) > len(dom)-1 && strings.HasSuffix(host, dom[1:]):
				class = 1
			case strings.HasSuffix(dom, "*") && len(host) > len(dom)-1 && strings.HasPrefix(host, dom[:len(dom)-1]):
				class = 2
			}
			if class >= 0 && (class < bestClass || class == bestClass && len(dom) > bestLen) {
				best, bestClass, bestLen = vh, class, len(dom)
			}
		}
	}
	if host == "" && !(domains == 1 && bestClass == 3) {
		best = nil
	}
	if best == nil {
		return fmt.Sprintf("vhost=%q route=%d action=%s cluster=%q", "", -1, NoRoute, "")
	}
	path := req.Path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	for i, r := range best.Routes {
		if refMatches(r.Match, req, path) {
			return fmt.Sprintf("vhost=%q route=%d action=%s cluster=%q", best.Name, i, Forward, refCluster(r.GetRoute(), req.Random))
		}
	}
	return fmt.Sprintf("vhost=%q route=%d action=%s cluster=%q", best.Name, -1, NoRoute, "")
}

func refMatches(m *routev3.RouteMatch, req *Request, path string) bool {
	p := path
	fold := m.CaseSensitive != nil && !m.CaseSensitive.Value
	if fold {
		p = strings.ToLower(p)
	}
	lower := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch {
	case m.GetSafeRegex() != nil:
		if !regexp.MustCompile("^(?:" + m.GetSafeRegex().Regex + ")$").MatchString(path) {
			return false
		}
	case m.GetPathSeparatedPrefix() != "":
		pre := lower(m.GetPathSeparatedPrefix())
		if p != pre && !strings.HasPrefix(p, pre+"/") {
			return false
		}
	case m.GetPath() != "":
		if p != lower(m.GetPath()) {
			return false
		}
	default:
		if !strings.HasPrefix(p, lower(m.GetPrefix())) {
			return false
		}
	}
	if f := m.RuntimeFraction; f != nil && req.Random%100 >= uint64(f.DefaultValue.Numerator) {
		return false
	}
	for _, h := range m.Headers {
		var vals []string
		for _, rh := range req.Headers {
			if strings.EqualFold(rh.Name, h.Name) {
				vals = append(vals, rh.Value)
			}
		}
		present := len(vals) > 0
		val := strings.Join(vals, ",")
		var ok bool
		switch s := h.HeaderMatchSpecifier.(type) {
		case *routev3.HeaderMatcher_PresentMatch:
			ok = present == s.PresentMatch
		case *routev3.HeaderMatcher_StringMatch:
			if !present {
				return false
			}
			if e, isExact := s.StringMatch.MatchPattern.(*matcherv3.StringMatcher_Exact); isExact {
				ok = val == e.Exact
			} else {
				ok = strings.HasPrefix(val, s.StringMatch.GetPrefix())
			}
		}
		if ok == h.InvertMatch {
			return false
		}
	}
	for _, q := range m.QueryParameters {
		i := strings.IndexByte(req.Path, '?')
		if i < 0 {
			return false
		}
		found := false
		for _, kv := range strings.Split(req.Path[i+1:], "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == q.Name {
				found = true
				if v != q.GetStringMatch().GetExact() {
					return false
				}
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func refCluster(a *routev3.RouteAction, random uint64) string {
	if a.GetCluster() != "" {
		return a.GetCluster()
	}
	total := uint64(0)
	for _, c := range a.GetWeightedClusters().Clusters {
		total += uint64(c.Weight.Value)
	}
	x := random % total
	for _, c := range a.GetWeightedClusters().Clusters {
		if x < uint64(c.Weight.Value) {
			return c.Name
		}
		x -= uint64(c.Weight.Value)
	}
	return "none: " + strconv.FormatUint(total, 10)
}
