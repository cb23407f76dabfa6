package routetest

import (
	"regexp"
	"strings"
	"testing"
)

// suiteFile is a test file of the shop team with passing tests, failing
// ones, and tests that cannot run.
const suiteFile = header + `metadata: {name: www}
spec:
  tests:
    - name: beta testers get v2
      request:
        url: https://www.example.com/api/orders
        headers: {x-beta: "1"}
      expect: {route: beta, backend: api-v2}
    - name: the split
      request: {url: "https://www.example.com/api/orders", method: POST}
      expect:
        route: api
        weights: {api: 90, api-v2: 10}
    - name: the site
      request: {url: "https://www.example.com/about", clientAddress: 192.0.2.1}
      expect:
        backend: web
        host: web.internal
        path: /about
        requestHeaders: {x-edge: "1", x-debug: null}
        responseHeaders: {x-frame-options: DENY}
    - name: old pages move
      request: {url: "https://www.example.com/old/a?b=c"}
      expect:
        redirect: {location: "https://www.example.com/new/a?b=c", code: 302}
    - name: plain HTTP is redirected
      request: {url: "http://www.example.com/about"}
      expect:
        redirect: {location: "https://www.example.com:8443/about", code: 301}
    - name: health
      request: {url: "http://search.example.com/healthz"}
      expect: {route: health, respond: {status: 200, body: ok}}
    - name: nothing else
      request: {url: "http://search.example.com/elsewhere"}
      expect: {noRoute: true, virtualHost: search}
    - name: wrong beta
      request:
        url: https://www.example.com/api/orders
        headers: {x-beta: "2"}
      expect: {route: beta, backend: api-v2}
    - name: wrong redirect
      request: {url: "https://www.example.com/old/a"}
      expect: {redirect: {code: 301}}
    - name: a typo
      request: {url: "https://www.example.com/"}
      expect: {backend: wbe}
    - name: no host
      request: {url: "/about"}
      expect: {backend: web}
`

func runSuite(t *testing.T, more map[string]string, opts Options) *Report {
	t.Helper()
	fsys := repo(more)
	res := compileRepo(t, fsys)
	suite, err := Load(fsys, res.Model.Project)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(res, suite, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRun sends each test's request through the compiled gateway and
// reports every failed expectation at its position, with the route that
// matched, where it is defined, and why the expected one did not match.
func TestRun(t *testing.T) {
	t.Parallel()
	rep := runSuite(t, map[string]string{"shop/tests/www.yaml": suiteFile}, Options{})
	var b strings.Builder
	for _, f := range rep.Files {
		for _, tr := range f.Tests {
			route := "-"
			if r := tr.Route; r != nil {
				route = r.Listener + "/" + r.VirtualHost + "/" + r.Name + " " + r.Origin.String()
				if r.Generated {
					route += " (generated)"
				}
			}
			b.WriteString(string(tr.Status) + " | " + tr.Name + " | " + tr.Outcome + " | " + route + "\n")
		}
	}
	want := `pass | beta testers get v2 | forwarded to api-v2 | https/www/beta shop/www.yaml:9:7
pass | the split | forwarded to a split between api 90%, api-v2 10% | https/www/api shop/www.yaml:14:7
pass | the site | forwarded to web | https/www/web shop/www.yaml:22:7
pass | old pages move | a redirect (302) to https://www.example.com/new/a?b=c | https/www/old shop/www.yaml:19:7
pass | plain HTTP is redirected | a redirect (301) to https://www.example.com:8443/about | http/www/ shop/www.yaml:7:8 (generated)
pass | health | a direct response 200 | http/search/health search/search.yaml:8:7
pass | nothing else | no route of virtual host search matches (404) | -
fail | wrong beta | forwarded to a split between api 90%, api-v2 10% | https/www/api shop/www.yaml:14:7
fail | wrong redirect | a redirect (302) to https://www.example.com/new/a | https/www/old shop/www.yaml:19:7
error | a typo | not run: unknown backend "wbe" (did you mean "web"?) | -
error | no host | not run: request.url: parse url "/about": no host | -
`
	if got := b.String(); got != want {
		t.Errorf("results:\n%s\nwant:\n%s", got, want)
	}
	if rep.Passed != 7 || rep.Failed != 2 || rep.NotRun != 2 {
		t.Errorf("passed %d, failed %d, not run %d; want 7, 2, 2", rep.Passed, rep.Failed, rep.NotRun)
	}
	wantDiags := `shop/tests/www.yaml:42:23: error: test "wrong beta": route: want beta, got route api [route-test]
shop/www.yaml:14:7: note: the request matched route "api" of virtual host www
shop/www.yaml:9:7: note: route "beta" did not match: REASON
shop/tests/www.yaml:42:38: error: test "wrong beta": backend: want api-v2, got a split between api 90%, api-v2 10% (expect weights instead) [route-test]
shop/www.yaml:14:7: note: the request matched route "api" of virtual host www
shop/tests/www.yaml:45:33: error: test "wrong redirect": redirect.code: want 301, got 302 [route-test]
shop/www.yaml:19:7: note: the request matched route "old" of virtual host www
shop/tests/www.yaml:48:25: error: unknown backend "wbe" (did you mean "web"?) [unknown-reference]
shop/tests/www.yaml:50:22: error: request.url: parse url "/about": no host [invalid-value]
`
	// Why a route did not match is the simulator's to word.
	got := regexp.MustCompile(`did not match: .*x-beta.*`).ReplaceAllString(lines(rep.Diagnostics()), "did not match: REASON")
	if got != wantDiags {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, wantDiags)
	}
}

// TestRunGateway: the gateway a document names must exist, and a
// repository of one gateway needs no name.
func TestRunGateway(t *testing.T) {
	t.Parallel()
	rep := runSuite(t, map[string]string{
		"search/tests/a.yaml": header + `metadata: {name: a}
spec:
  gateway: egde
  tests:
    - name: health
      request: {url: "http://search.example.com/healthz"}
      expect: {respond: {status: 200}}
`,
		"search/tests/b.yaml": header + `metadata: {name: b}
spec:
  gateway: edge
  tests:
    - name: health
      request: {url: "http://search.example.com/healthz"}
      expect: {respond: {status: 200}}
`,
	}, Options{})
	if got, want := lines(rep.Diagnostics()), "search/tests/a.yaml:5:12: error: unknown gateway \"egde\" (did you mean \"edge\"?) [unknown-reference]\n"; got != want {
		t.Errorf("diagnostics: %s, want %s", got, want)
	}
	if rep.NotRun != 1 || rep.Passed != 1 {
		t.Errorf("not run %d, passed %d; want 1, 1", rep.NotRun, rep.Passed)
	}
}

// TestRunFilter runs only the tests whose names match, and counts
// coverage from those alone.
func TestRunFilter(t *testing.T) {
	t.Parallel()
	rep := runSuite(t, map[string]string{"shop/tests/www.yaml": suiteFile}, Options{Run: regexp.MustCompile("^(health|the site)$")})
	var names []string
	for _, f := range rep.Files {
		for _, tr := range f.Tests {
			names = append(names, tr.Name)
		}
	}
	if got, want := strings.Join(names, ", "), "the site, health"; got != want {
		t.Errorf("ran %s, want %s", got, want)
	}
	if c := rep.Coverage; c.Reached != 2 || c.Routes != 6 {
		t.Errorf("coverage %d of %d, want 2 of 6", c.Reached, c.Routes)
	}
}

// TestJUnit writes one testsuite per file, one testcase per test, a
// failure with expected and actual, an error for a test that did not
// run, and the problems of a file as a testcase of their own.
func TestJUnit(t *testing.T) {
	t.Parallel()
	rep := runSuite(t, map[string]string{
		"shop/tests/www.yaml": header + `metadata: {name: www}
spec:
  tests:
    - name: the site
      request: {url: "https://www.example.com/about"}
      expect: {backend: web}
    - name: wrong <beta>
      request:
        url: https://www.example.com/api/orders
        headers: {x-beta: "2"}
      expect: {backend: api-v2}
    - name: a typo
      request: {url: "https://www.example.com/"}
      expect: {route: wbe}
`,
		"search/tests/broken.yaml": header + "metadata: {name: broken}\nspec: {tests: [{name: x}]}\n",
	}, Options{})
	var b strings.Builder
	if err := WriteJUnit(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="edgectl test" tests="4" failures="1" errors="2">
  <testsuite name="search/tests/broken.yaml" tests="1" failures="0" errors="1">
    <testcase name="(file)" classname="search/tests/broken.yaml" file="search/tests/broken.yaml">
      <error message="spec.tests[0]: missing required field &#34;expect&#34;" type="schema">search/tests/broken.yaml:4:16: error: spec.tests[0]: missing required field &#34;expect&#34; [schema]&#xA;(edgectl schema):SCHEMA: note: the RouteTest schema constrains it here: line SCHEMA of what edgectl schema prints&#xA;search/tests/broken.yaml:4:16: error: spec.tests[0]: missing required field &#34;request&#34; [schema]&#xA;(edgectl schema):SCHEMA: note: the RouteTest schema constrains it here: line SCHEMA of what edgectl schema prints&#xA;</error>
    </testcase>
  </testsuite>
  <testsuite name="shop/tests/www.yaml" tests="3" failures="1" errors="1">
    <testcase name="the site" classname="shop/tests/www.yaml" file="shop/tests/www.yaml" line="6"></testcase>
    <testcase name="wrong &lt;beta&gt;" classname="shop/tests/www.yaml" file="shop/tests/www.yaml" line="9">
      <failure message="backend: want api-v2, got a split between api 90%, api-v2 10% (expect weights instead)" type="route-test">shop/tests/www.yaml:13:25: error: test &#34;wrong &lt;beta&gt;&#34;: backend: want api-v2, got a split between api 90%, api-v2 10% (expect weights instead) [route-test]&#xA;shop/www.yaml:14:7: note: the request matched route &#34;api&#34; of virtual host www&#xA;</failure>
    </testcase>
    <testcase name="a typo" classname="shop/tests/www.yaml" file="shop/tests/www.yaml" line="14">
      <error message="not run: unknown route &#34;wbe&#34; on gateway &#34;edge&#34; (did you mean &#34;web&#34;?)" type="unknown-reference">shop/tests/www.yaml:16:23: error: unknown route &#34;wbe&#34; on gateway &#34;edge&#34; (did you mean &#34;web&#34;?) [unknown-reference]&#xA;</error>
    </testcase>
  </testsuite>
</testsuites>
`
	got := regexp.MustCompile(`\(edgectl schema\):\d+:\d+: note: the RouteTest schema constrains it here: line \d+`).ReplaceAllString(b.String(), "(edgectl schema):SCHEMA: note: the RouteTest schema constrains it here: line SCHEMA")
	if got != want {
		t.Errorf("JUnit:\n%s\nwant:\n%s", got, want)
	}
}

// TestWithPrefix moves every path of a report under a directory.
func TestWithPrefix(t *testing.T) {
	t.Parallel()
	rep := runSuite(t, map[string]string{"shop/tests/www.yaml": suiteFile}, Options{})
	rep.WithPrefix("edge")
	d := rep.Diagnostics()
	if len(d) == 0 || !strings.HasPrefix(d[0].Pos.File, "edge/shop/tests/") || !strings.HasPrefix(d[0].Related[0].Pos.File, "edge/shop/") {
		t.Errorf("diagnostics not prefixed: %v", d)
	}
	f := rep.Files[0]
	if f.Path != "edge/shop/tests/www.yaml" || f.Tests[0].Pos.File != f.Path || f.Tests[0].Route.Origin.File != "edge/shop/www.yaml" {
		t.Errorf("results not prefixed: %s %s %s", f.Path, f.Tests[0].Pos, f.Tests[0].Route.Origin)
	}
	if u := rep.Coverage.Teams[0].Unreached; len(u) == 0 || !strings.HasPrefix(u[0].Origin.File, "edge/") {
		t.Errorf("coverage not prefixed: %+v", rep.Coverage.Teams[0])
	}
}
