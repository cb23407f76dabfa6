package lower

import (
	"regexp/syntax"
	"testing"
)

// re2Sizes are RE2's own program sizes (RE2::ProgramSize, libre2
// 2022-06-01 as Debian 12 ships it, default options as Envoy uses them),
// measured with a ten-line C++ program reading one pattern a line. The
// random ones come from a generator over literals, classes, ".", groups,
// alternations and repetitions: of 2389 such patterns none had a bound
// above RE2's size, and 54 of the 319 above 100 had a bound above 100.
var re2Sizes = []struct {
	pattern string
	size    int
}{
	{`/a`, 6},
	{`/asdf/.*`, 18},
	{`[a-z]+`, 6},
	{`/(alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu)/[0-9]{1,8}/(items|orders|users|accounts)`, 105},
	{`/api/v[0-9]+/users/[0-9]+`, 21},
	{`^/static/.*\.(css|js|png)$`, 23},
	{`/users/[^/]+/orders`, 27},
	{`/a{1,50}`, 104},
	{`.*`, 12},
	{`\S+`, 15},
	{`\d{3}-\d{4}`, 12},
	{`(?i)/Admin/.*`, 19},
	{`/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+`, 16},
	{`^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|CONNECT|TRACE)$`, 47},
	{`/v1/(foo|bar)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, 85},
	{`é+`, 7},
	{`[^a]`, 12},
	{`\w+@\w+\.com`, 17},
	{`/x/(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p)`, 10},
	{`(a+)+b`, 10},
	{`/.{10}`, 85},
	{`\pL+`, 1198},
	{`[[:alpha:]]+`, 6},
	{`/api/.*/v2`, 20},
	{`é{0,0}`, 4},
	{`\w`, 7},
	{`[^/]`, 12},
	{`b{2,2}`, 6},
	{`(?:foo)+`, 8},
	{`.*`, 12},
	{`(abc+|x{1,})`, 15},
	{`\d`, 5},
	{`x+`, 6},
	{`(x?|x*(?:a)(a|foo)*)((?:(?:b)*)*|(foo?|[0-9a-f]*\d*a{6,12}|é+ab{3,}foo|[a-z]{2,}bx.?)|((?:foo)|b{6,10}\d+b+|A|/ab*)|(?:abc{3,9}))?[^/](?:(?:(?:(?i)k{1,6})))`, 163},
	{`(\d|/|[a-z]{6,9})`, 19},
	{`(?:\w)x/x+/\w{2,6}é*(A|(abc|foo))((?:a)|(/|/*|ab{2,6}|x*){0,0}|aé??)*b[^/](?:é)(?:(?i)k{2,})+é+\d[^/]+é*.abc?[^/]?`, 118},
	{`x{4,10}`, 20},
	{`foo`, 7},
	{`(?:.){4,5}[a-z]{2,3}ab\d{3,}\wabc*x[a-z][a-z]{1,}.(\d{3,8}|(.|foo)+|/*fooabcfoo|(?:foo)){2,}abc{5,9}[^/]?xab[a-z]{1,}a?A{0,0}.?(?i)k*(x?|\w*){0,2}(?:b?)`, 240},
	{`\wA{3,}[a-z](?i)kfoo(?:(?:b*))*`, 20},
	{`ab`, 6},
	{`(?:(?:(?:\w)\d+)?)`, 11},
	{`[^/](?:(?:(?:abc)?){2,})`, 19},
	{`/{0,6}`, 16},
	{`(?:(?:(\d|[^/]|\w|A{2,6})(?i)k+?))?`, 31},
	{`.{4,5}(?:A)\w(ab|é|(?:[a-z]{1,}){4,10}|abc*){0,6}`, 325},
	{`(A|(?i)k+)`, 14},
	{`/`, 5},
	{`(?:é){6,6}`, 16},
	{`[^/]*`, 12},
	{`(?:.)((?i)k|[0-9a-f]?|a{3,3})x+`, 26},
	{`.`, 12},
	{`((b|(\d{2,}|(?:a+)?|(/|a){3,}|[^/]*)|(ab|(.|b))+)|/)?`, 61},
	{`((?:(?:A)+(?:\w)?(?:/?){3,8}){2,8}|.+|\d)`, 239},
}

// TestRE2MinSizeIsALowerBound: the bound never exceeds RE2's count, or a
// regex Envoy accepts would be refused.
func TestRE2MinSizeIsALowerBound(t *testing.T) {
	t.Parallel()
	for _, tc := range re2Sizes {
		re, err := syntax.Parse(tc.pattern, syntax.Perl)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := re2MinSize(re); got > tc.size {
			t.Errorf("re2MinSize(%q) = %d, above RE2's %d", tc.pattern, got, tc.size)
		}
	}
}

// TestRE2MinSizeCatches: patterns whose size is certain to be over 100.
func TestRE2MinSizeCatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern string
		atLeast int
	}{
		{`/x\d{120}`, 124},             // RE2: 126
		{`a{101}`, 103},                // RE2: 105
		{`(abcdefghij){11}`, 134},      // RE2: 136
		{`/(?:[0-9a-f]{8}-){13}`, 120}, // RE2: 226
	} {
		re, err := syntax.Parse(tc.pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := re2MinSize(re); got != tc.atLeast {
			t.Errorf("re2MinSize(%q) = %d, want %d", tc.pattern, got, tc.atLeast)
		}
	}
}
