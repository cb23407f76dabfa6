package routetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/diag"
)

// TestCoverage counts each route once where it is written, although the
// virtual host without TLS is served on one listener and the one with TLS
// on two, and leaves out the redirect to HTTPS edgectl adds.
func TestCoverage(t *testing.T) {
	t.Parallel()
	res := compileRepo(t, repo(nil))
	generated := generatedRoutes(res.Gateways[0])
	if len(generated) != 1 {
		t.Fatalf("%d generated routes, want the one redirect of www on the plain listener", len(generated))
	}
	for r := range generated {
		if r.Redirect == nil || r.Redirect.Scheme != "https" || r.Origin.File != "shop/www.yaml" {
			t.Errorf("generated route %+v is not the redirect of www", r)
		}
	}
	reached := map[diag.Pos]bool{}
	for _, g := range res.Gateways {
		for _, l := range g.Listeners {
			for _, tb := range tablesOf(l) {
				for _, vh := range tb.VirtualHosts {
					for _, r := range vh.Routes {
						if r.Name == "api" || r.Name == "health" || generated[r] {
							reached[r.Origin] = true
						}
					}
				}
			}
		}
	}
	c := coverage(res.Gateways, reached)
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d %.1f%%\n", c.Reached, c.Routes, c.Percent())
	for _, tc := range c.Teams {
		fmt.Fprintf(&b, "%s %d/%d %.1f%%\n", tc.Team, tc.Reached, tc.Routes, tc.Percent())
		for _, r := range tc.Unreached {
			fmt.Fprintf(&b, "  %s %s/%s %s\n", r.Origin, r.VirtualHost, r.Name, r.Listener)
		}
	}
	want := `2/6 33.3%
search 1/2 50.0%
  search/search.yaml:11:7 search/query http
shop 1/4 25.0%
  shop/www.yaml:9:7 www/beta https
  shop/www.yaml:19:7 www/old https
  shop/www.yaml:22:7 www/web https
`
	if got := b.String(); got != want {
		t.Errorf("coverage:\n%s\nwant:\n%s", got, want)
	}
	if got := (&Coverage{}).Percent(); got != 100 {
		t.Errorf("coverage of no routes = %v, want 100", got)
	}
}
