package routecheck

import (
	"regexp"
	"strconv"
	"strings"

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

// matchHeader reports whether h satisfies m, with the semantics of Envoy's
// HeaderMatcher: several values of one header are joined with commas; a
// missing header matches only a presence check for absence (or, inverted,
// for presence), unless treat_missing_header_as_empty reads it as "".
func matchHeader(h headerMap, m *routev3.HeaderMatcher) bool {
	vals := h.values(m.GetName())
	wantPresent := true
	presence := false
	switch s := m.GetHeaderMatchSpecifier().(type) {
	case nil:
		presence = true
	case *routev3.HeaderMatcher_PresentMatch:
		presence, wantPresent = true, s.PresentMatch
	}
	if len(vals) == 0 && !m.GetTreatMissingHeaderAsEmpty() {
		if m.GetInvertMatch() {
			return presence && wantPresent
		}
		return presence && !wantPresent
	}
	value := strings.Join(vals, ",")
	var match bool
	switch s := m.GetHeaderMatchSpecifier().(type) {
	case nil, *routev3.HeaderMatcher_PresentMatch:
		match = wantPresent
	case *routev3.HeaderMatcher_ExactMatch:
		match = s.ExactMatch == "" || value == s.ExactMatch
	case *routev3.HeaderMatcher_SafeRegexMatch:
		match = fullMatch(s.SafeRegexMatch.GetRegex(), value)
	case *routev3.HeaderMatcher_RangeMatch:
		n, err := strconv.ParseInt(value, 10, 64)
		match = err == nil && n >= s.RangeMatch.GetStart() && n < s.RangeMatch.GetEnd()
	case *routev3.HeaderMatcher_PrefixMatch:
		match = strings.HasPrefix(value, s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		match = strings.HasSuffix(value, s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		match = strings.Contains(value, s.ContainsMatch)
	case *routev3.HeaderMatcher_StringMatch:
		match = matchString(s.StringMatch, value)
	}
	return match != m.GetInvertMatch()
}

// matchString applies a StringMatcher; ignore_case has no effect on a
// regular expression, as in Envoy.
func matchString(m *matcherv3.StringMatcher, v string) bool {
	fold := func(s string) string {
		if m.GetIgnoreCase() {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fold(v) == fold(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(fold(v), fold(p.Prefix))
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(fold(v), fold(p.Suffix))
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(fold(v), fold(p.Contains))
	case *matcherv3.StringMatcher_SafeRegex:
		return fullMatch(p.SafeRegex.GetRegex(), v)
	}
	return false
}

// fullMatch matches the whole of v, as Envoy's safe_regex does. ParseTests
// has compiled every expression once already.
func fullMatch(re, v string) bool {
	r, err := regexp.Compile(`^(?:` + re + `)$`)
	return err == nil && r.MatchString(v)
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
