package routecheck

import (
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/edgectl/edgectl/pkg/routesim"
)

// headerMap holds a request's or a response's headers as Envoy does: names
// in lower case, in order, a name possibly repeated.
type headerMap []routesim.Header

func (h headerMap) values(name string) []string {
	name = strings.ToLower(name)
	var out []string
	for _, e := range h {
		if e.Name == name {
			out = append(out, e.Value)
		}
	}
	return out
}

// first is the header's first value, "" when absent (Envoy's get_).
func (h headerMap) first(name string) string {
	if v := h.values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h *headerMap) add(name, value string) {
	*h = append(*h, routesim.Header{Name: strings.ToLower(name), Value: value})
}

func (h *headerMap) del(name string) {
	name = strings.ToLower(name)
	out := (*h)[:0]
	for _, e := range *h {
		if e.Name != name {
			out = append(out, e)
		}
	}
	*h = out
}

// set replaces every value of name with one, where the first was.
func (h *headerMap) set(name, value string) {
	name = strings.ToLower(name)
	var out headerMap
	done := false
	for _, e := range *h {
		if e.Name == name {
			if done {
				continue
			}
			e.Value, done = value, true
		}
		out = append(out, e)
	}
	if !done {
		out = append(out, routesim.Header{Name: name, Value: value})
	}
	*h = out
}

// headerOps are one level's header changes.
type headerOps struct {
	add    []*corev3.HeaderValueOption
	remove []string
}

// responseOps are the response header changes of the route a result came
// from, in the order Envoy applies them: the chosen weighted cluster's,
// then the route's, the virtual host's and the configuration's (the other
// way round with most_specific_header_mutations_wins).
func responseOps(rc *routev3.RouteConfiguration, res *routesim.Result) []headerOps {
	rt := res.Entry
	var vh *routev3.VirtualHost
	for _, v := range rc.GetVirtualHosts() {
		if v.GetName() == res.VirtualHost {
			vh = v
			break
		}
	}
	var out []headerOps
	if res.Action == routesim.Forward {
		for _, w := range rt.GetRoute().GetWeightedClusters().GetClusters() {
			if w.GetName() == res.Cluster {
				out = append(out, headerOps{w.GetResponseHeadersToAdd(), w.GetResponseHeadersToRemove()})
				break
			}
		}
	}
	levels := []headerOps{
		{rt.GetResponseHeadersToAdd(), rt.GetResponseHeadersToRemove()},
		{vh.GetResponseHeadersToAdd(), vh.GetResponseHeadersToRemove()},
		{rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()},
	}
	if rc.GetMostSpecificHeaderMutationsWins() {
		levels[0], levels[2] = levels[2], levels[0]
	}
	return append(out, levels...)
}

// apply makes one level's changes as Envoy's header parser does: removals
// first, then additions, each decided against the headers as they were
// before them, overwrites before appends. An empty value is not added
// unless keep_empty_value says so.
func (h *headerMap) apply(ops headerOps) {
	for _, name := range ops.remove {
		h.del(name)
	}
	before := slices.Clone(*h)
	var overwrite, appends []routesim.Header
	for _, o := range ops.add {
		name, value := strings.ToLower(o.GetHeader().GetKey()), o.GetHeader().GetValue()
		if value == "" && len(o.GetHeader().GetRawValue()) > 0 {
			value = string(o.GetHeader().GetRawValue())
		}
		if value == "" && !o.GetKeepEmptyValue() {
			continue
		}
		e := routesim.Header{Name: name, Value: value}
		action := o.GetAppendAction()
		if o.GetAppend() != nil && !o.GetAppend().GetValue() {
			action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		}
		present := len(before.values(name)) > 0
		switch action {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			appends = append(appends, e)
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !present {
				appends = append(appends, e)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if present {
				overwrite = append(overwrite, e)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			overwrite = append(overwrite, e)
		}
	}
	for _, e := range overwrite {
		h.del(e.Name)
		h.add(e.Name, e.Value)
	}
	for _, e := range appends {
		h.add(e.Name, e.Value)
	}
}

// matchHeader reports whether h satisfies m, as the simulator's route
// matching does. ParseTests has compiled every expression once already.
func matchHeader(h headerMap, m *routev3.HeaderMatcher) bool {
	ok, err := routesim.MatchHeaders(m, h)
	return err == nil && ok
}

// matcherKind names a header matcher's kind for a failure's test type, as
// Envoy's tool does ("string_match.exact", "present_match").
func matcherKind(m *routev3.HeaderMatcher) string {
	switch s := m.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		return "exact_match"
	case *routev3.HeaderMatcher_SafeRegexMatch:
		return "safe_regex_match"
	case *routev3.HeaderMatcher_RangeMatch:
		return "range_match"
	case *routev3.HeaderMatcher_PrefixMatch:
		return "prefix_match"
	case *routev3.HeaderMatcher_SuffixMatch:
		return "suffix_match"
	case *routev3.HeaderMatcher_ContainsMatch:
		return "contains_match"
	case *routev3.HeaderMatcher_StringMatch:
		switch s.StringMatch.GetMatchPattern().(type) {
		case *matcherv3.StringMatcher_Exact:
			return "string_match.exact"
		case *matcherv3.StringMatcher_Prefix:
			return "string_match.prefix"
		case *matcherv3.StringMatcher_Suffix:
			return "string_match.suffix"
		case *matcherv3.StringMatcher_Contains:
			return "string_match.contains"
		case *matcherv3.StringMatcher_SafeRegex:
			return "string_match.safe_regex"
		}
		return "string_match"
	}
	return "present_match"
}
