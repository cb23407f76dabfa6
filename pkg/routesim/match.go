package routesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// compileRegex compiles an RE2 pattern as Envoy's safe_regex matchers use
// it: the whole input must match.
func compileRegex(m *matcherv3.RegexMatcher) (*regexp.Regexp, error) {
	if m == nil {
		return nil, fmt.Errorf("regex missing")
	}
	re, err := regexp.Compile(`^(?:` + m.GetRegex() + `)$`)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", m.GetRegex(), err)
	}
	return re, nil
}

type strKind uint8

const (
	strExact strKind = iota
	strPrefix
	strSuffix
	strContains
	strRegex
	strUnsupported
)

// strMatch is a compiled StringMatcher. With ignore_case, val is
// lowercase; ignore_case has no effect on regexes, as documented.
type strMatch struct {
	kind       strKind
	val        string
	ignoreCase bool
	re         *regexp.Regexp
}

func compileString(m *matcherv3.StringMatcher) (strMatch, error) {
	s := strMatch{ignoreCase: m.GetIgnoreCase()}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		s.kind, s.val = strExact, p.Exact
	case *matcherv3.StringMatcher_Prefix:
		s.kind, s.val = strPrefix, p.Prefix
	case *matcherv3.StringMatcher_Suffix:
		s.kind, s.val = strSuffix, p.Suffix
	case *matcherv3.StringMatcher_Contains:
		s.kind, s.val = strContains, p.Contains
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := compileRegex(p.SafeRegex)
		if err != nil {
			return s, err
		}
		s.kind, s.re, s.val, s.ignoreCase = strRegex, re, p.SafeRegex.GetRegex(), false
	default:
		s.kind = strUnsupported
	}
	if s.ignoreCase {
		s.val = toLowerASCII(s.val)
	}
	return s, nil
}

func (m *strMatch) match(s string) bool {
	switch m.kind {
	case strExact:
		if m.ignoreCase {
			return equalFoldASCII(s, m.val)
		}
		return s == m.val
	case strPrefix:
		if m.ignoreCase {
			return hasPrefixFoldASCII(s, m.val)
		}
		return strings.HasPrefix(s, m.val)
	case strSuffix:
		if m.ignoreCase {
			return hasSuffixFoldASCII(s, m.val)
		}
		return strings.HasSuffix(s, m.val)
	case strContains:
		if m.ignoreCase {
			return strings.Contains(toLowerASCII(s), m.val)
		}
		return strings.Contains(s, m.val)
	case strRegex:
		return m.re.MatchString(s)
	}
	return false
}

// wants says what the matcher wants, for a human: `exactly "GET"`.
func (m *strMatch) wants() string {
	ic := ""
	if m.ignoreCase {
		ic = " (any case)"
	}
	switch m.kind {
	case strExact:
		return fmt.Sprintf("exactly %q%s", m.val, ic)
	case strPrefix:
		return fmt.Sprintf("prefix %q%s", m.val, ic)
	case strSuffix:
		return fmt.Sprintf("suffix %q%s", m.val, ic)
	case strContains:
		return fmt.Sprintf("to contain %q%s", m.val, ic)
	case strRegex:
		return fmt.Sprintf("to match regex %q", m.val)
	}
	return "a custom string matcher (not simulated)"
}

type hdrKind uint8

const (
	hdrString hdrKind = iota
	hdrPresent
	hdrRange
)

// headerMatcher is a compiled HeaderMatcher.
type headerMatcher struct {
	name         string
	kind         hdrKind
	str          strMatch
	present      bool
	lo, hi       int64
	invert       bool
	missingEmpty bool
}

func compileHeader(h *routev3.HeaderMatcher) (headerMatcher, error) {
	m := headerMatcher{
		name:         toLowerASCII(h.GetName()),
		invert:       h.GetInvertMatch(),
		missingEmpty: h.GetTreatMissingHeaderAsEmpty(),
	}
	var err error
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		if s.ExactMatch == "" {
			// The deprecated exact_match with no value takes any value.
			m.kind, m.present = hdrPresent, true
		} else {
			m.str = strMatch{kind: strExact, val: s.ExactMatch}
		}
	case *routev3.HeaderMatcher_PrefixMatch:
		m.str = strMatch{kind: strPrefix, val: s.PrefixMatch}
	case *routev3.HeaderMatcher_SuffixMatch:
		m.str = strMatch{kind: strSuffix, val: s.SuffixMatch}
	case *routev3.HeaderMatcher_ContainsMatch:
		m.str = strMatch{kind: strContains, val: s.ContainsMatch}
	case *routev3.HeaderMatcher_SafeRegexMatch:
		m.str.kind, m.str.val = strRegex, s.SafeRegexMatch.GetRegex()
		m.str.re, err = compileRegex(s.SafeRegexMatch)
	case *routev3.HeaderMatcher_StringMatch:
		m.str, err = compileString(s.StringMatch)
	case *routev3.HeaderMatcher_RangeMatch:
		m.kind, m.lo, m.hi = hdrRange, s.RangeMatch.GetStart(), s.RangeMatch.GetEnd()
	case *routev3.HeaderMatcher_PresentMatch:
		m.kind, m.present = hdrPresent, s.PresentMatch
	default:
		// No specifier: the header must be present.
		m.kind, m.present = hdrPresent, true
	}
	if err != nil {
		return m, fmt.Errorf("header %q: %w", h.GetName(), err)
	}
	return m, nil
}

// match follows Envoy: a present_match compares presence; any other
// matcher fails on a missing header (even inverted) unless
// treat_missing_header_as_empty, and is inverted by invert_match.
func (m *headerMatcher) match(v *view) bool {
	val, ok := v.header(m.name)
	if m.kind == hdrPresent {
		return (ok == m.present) != m.invert
	}
	if !ok && !m.missingEmpty {
		return false
	}
	return m.value(val) != m.invert
}

func (m *headerMatcher) value(val string) bool {
	if m.kind == hdrRange {
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		return err == nil && n >= m.lo && n < m.hi
	}
	return m.str.match(val)
}

// miss says why the matcher rejected the request.
func (m *headerMatcher) miss(v *view) string {
	val, ok := v.header(m.name)
	what := fmt.Sprintf("header %q", m.name)
	switch m.name {
	case ":method":
		what = "method"
	case ":path":
		what = "path"
	case ":authority":
		what = "authority"
	case ":scheme":
		what = "scheme"
	}
	if m.kind == hdrPresent {
		if ok {
			return what + " is present, route wants it absent"
		}
		return what + " is missing"
	}
	if !ok && !m.missingEmpty {
		if m.invert {
			return what + " is missing (an inverted match still needs the header)"
		}
		return what + " is missing"
	}
	wants := ""
	if m.kind == hdrRange {
		wants = fmt.Sprintf("an integer in [%d, %d)", m.lo, m.hi)
	} else {
		wants = m.str.wants()
	}
	if m.invert {
		return fmt.Sprintf("%s is %q, route wants it not %s", what, val, wants)
	}
	if m.name == ":method" && m.str.kind == strExact && !m.str.ignoreCase {
		return fmt.Sprintf("method is %s, route wants %s", val, m.str.val)
	}
	if m.name == ":method" && m.str.kind == strRegex {
		if alts := methodAlternatives(m.str.val); alts != "" {
			return fmt.Sprintf("method is %s, route wants %s", val, alts)
		}
	}
	return fmt.Sprintf("%s is %q, route wants %s", what, val, wants)
}

var methodList = regexp.MustCompile(`^\^?\(?([A-Z]+(?:\|[A-Z]+)*)\)?\$?$`)

// methodAlternatives reads "^(GET|HEAD)$" as "GET or HEAD".
func methodAlternatives(re string) string {
	m := methodList.FindStringSubmatch(re)
	if m == nil {
		return ""
	}
	alts := strings.Split(m[1], "|")
	if len(alts) == 1 {
		return alts[0]
	}
	return strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}

// queryMatcher is a compiled QueryParameterMatcher.
type queryMatcher struct {
	name string
	// present is set for a present_match; hasStr for a string_match.
	hasPresent, present bool
	hasStr              bool
	str                 strMatch
}

func compileQuery(q *routev3.QueryParameterMatcher) (queryMatcher, error) {
	m := queryMatcher{name: q.GetName()}
	switch s := q.GetQueryParameterMatchSpecifier().(type) {
	case *routev3.QueryParameterMatcher_PresentMatch:
		m.hasPresent, m.present = true, s.PresentMatch
	case *routev3.QueryParameterMatcher_StringMatch:
		var err error
		m.hasStr = true
		if m.str, err = compileString(s.StringMatch); err != nil {
			return m, fmt.Errorf("query parameter %q: %w", q.GetName(), err)
		}
	}
	return m, nil
}

// match reads only the first value of the parameter, as documented. A
// present_match compares presence (present_match: false matches an absent
// parameter); with no specifier the parameter must be present.
func (m *queryMatcher) match(v *view) bool {
	val, ok := v.queryParam(m.name)
	if m.hasPresent {
		return ok == m.present
	}
	if !ok {
		return false
	}
	return !m.hasStr || m.str.match(val)
}

func (m *queryMatcher) miss(v *view) string {
	val, ok := v.queryParam(m.name)
	switch {
	case m.hasPresent && ok:
		return fmt.Sprintf("query parameter %q is present, route wants it absent", m.name)
	case !ok:
		return fmt.Sprintf("query parameter %q is missing", m.name)
	}
	return fmt.Sprintf("query parameter %q is %q, route wants %s", m.name, val, m.str.wants())
}

// cookieMatcher is a compiled CookieMatcher: a missing cookie does not
// match, so invert_match takes it.
type cookieMatcher struct {
	name   string
	str    strMatch
	hasStr bool
	invert bool
}

func compileCookie(c *routev3.CookieMatcher) (cookieMatcher, error) {
	m := cookieMatcher{name: c.GetName(), invert: c.GetInvertMatch()}
	if c.GetStringMatch() != nil {
		var err error
		m.hasStr = true
		if m.str, err = compileString(c.GetStringMatch()); err != nil {
			return m, fmt.Errorf("cookie %q: %w", c.GetName(), err)
		}
	}
	return m, nil
}

func (m *cookieMatcher) match(v *view) bool {
	val, ok := v.cookie(m.name)
	matched := ok && (!m.hasStr || m.str.match(val))
	return matched != m.invert
}

func (m *cookieMatcher) miss(v *view) string {
	val, ok := v.cookie(m.name)
	switch {
	case m.invert && ok:
		return fmt.Sprintf("cookie %q is %q, route wants it not %s", m.name, val, m.str.wants())
	case !ok:
		return fmt.Sprintf("cookie %q is missing", m.name)
	}
	return fmt.Sprintf("cookie %q is %q, route wants %s", m.name, val, m.str.wants())
}

// fraction is a RuntimeFractionalPercent: numerator out of denominator,
// the numerator overridable by a runtime key.
type fraction struct {
	key         string
	numerator   uint64
	denominator uint64
}

func compileFraction(f *corev3.RuntimeFractionalPercent) fraction {
	return fraction{
		key:         f.GetRuntimeKey(),
		numerator:   uint64(f.GetDefaultValue().GetNumerator()),
		denominator: denominator(f.GetDefaultValue().GetDenominator()),
	}
}

func denominator(d typev3.FractionalPercent_DenominatorType) uint64 {
	switch d {
	case typev3.FractionalPercent_TEN_THOUSAND:
		return 10000
	case typev3.FractionalPercent_MILLION:
		return 1000000
	}
	return 100
}

func (f *fraction) numeratorFor(req *Request) uint64 {
	if f.key != "" {
		if n, ok := req.Runtime[f.key]; ok {
			return n
		}
	}
	return f.numerator
}

// drawn is Envoy's featureEnabled: random % denominator < numerator.
func (f *fraction) drawn(req *Request) bool {
	return req.Random%f.denominator < f.numeratorFor(req)
}

func (f *fraction) percent(req *Request) float64 {
	return float64(f.numeratorFor(req)) * 100 / float64(f.denominator)
}
