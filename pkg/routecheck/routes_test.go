package routecheck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadRoutes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		vhosts     []string // the virtual hosts loaded, when it loads
	}{
		{"yaml", `
name: local
virtual_hosts:
- name: www
  domains: ["www.example.com"]
  routes:
  - match: {prefix: /}
    route: {cluster: web, timeout: 5s}
`, []string{"www"}},
		{"json", `{"name": "local", "virtualHosts": [
  {"name": "www", "domains": ["*"], "routes": [{"match": {"path": "/"}, "directResponse": {"status": 200}}]},
  {"name": "api", "domains": ["api"], "routes": []}]}`, []string{"www", "api"}},
		// A route file of an edgectl bundle: a DiscoveryResponse holding
		// one route configuration.
		{"discovery response", `
version_info: "sha256:0000"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: http
  virtual_hosts:
  - name: www
    domains: [www.example.com]
    routes:
    - match: {prefix: /}
      redirect: {https_redirect: true}
type_url: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
`, []string{"www"}},
		// Messages packed in an Any are read and validated too.
		{"typed per filter config", `
name: local
virtual_hosts:
- name: www
  domains: ["*"]
  typed_per_filter_config:
    envoy.filters.http.cors:
      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
      allow_origin_string_match: [{exact: "https://example.com"}]
  routes:
  - match: {prefix: /}
    route: {cluster: web}
`, []string{"www"}},
		{"empty configuration", "name: nothing\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt, problems := LoadRoutes("r.yaml", []byte(tc.file))
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			var got []string
			for _, vh := range rt.Config.GetVirtualHosts() {
				got = append(got, vh.GetName())
			}
			if diff := cmp.Diff(tc.vhosts, got); diff != "" {
				t.Errorf("virtual hosts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadRoutesProblems: what Envoy would refuse to load is a finding,
// at the position of the fault when it has one.
func TestLoadRoutesProblems(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, file, want string }{
		{"empty", "", "r.yaml: error: not a route configuration: expected a YAML or JSON object"},
		{"list", "- name: a\n", "r.yaml:1:1: error: not a route configuration: expected a YAML or JSON object"},
		{"bad yaml", "name: [a\n", "r.yaml:1:7: error: this [ is never closed; close it with ] [yaml]"},
		{"bad json", `{"name": "a"`, "r.yaml:1:1: error: this { is never closed; close it with } [yaml]"},
		{"unknown field", "name: a\nvirtual_hosts:\n- name: www\n  domain: [x]\n",
			`r.yaml:4:3: error: unknown field "domain"`},
		{"wrong type", "name: a\nvirtual_hosts:\n- name: www\n  domains: [x]\n  routes:\n  - match: {prefix: /}\n    route: {cluster: c, timeout: 5}\n",
			"r.yaml:7:25: error: syntax error: unexpected token 5"},
		{"validation", "name: a\nvirtual_hosts:\n- name: www\n  domains: [x]\n  routes:\n  - match: {}\n    route: {cluster: c}\n",
			"r.yaml:6:12: error: virtual_hosts[0].routes[0].match.path_specifier: value is required"},
		{"validation of a list", "name: a\nvirtual_hosts:\n- name: www\n  domains: []\n",
			"r.yaml:4:12: error: virtual_hosts[0].domains: value must contain at least 1 item(s)"},
		{"unknown extension", `
name: a
virtual_hosts:
- name: www
  domains: [x]
  typed_per_filter_config:
    f: {"@type": type.googleapis.com/example.Unknown}
`, `r.yaml:7:9: error: unable to resolve "type.googleapis.com/example.Unknown": "not found"`},
		{"invalid extension", `
name: a
virtual_hosts:
- name: www
  domains: [x]
  typed_per_filter_config:
    envoy.filters.http.local_ratelimit:
      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
`, `r.yaml: error: virtual_hosts[0].typed_per_filter_config["envoy.filters.http.local_ratelimit"]: invalid LocalRateLimit.StatPrefix: value length must be at least 1 runes`},
		{"refused by the simulator", `
name: a
virtual_hosts:
- name: one
  domains: [x.example.com]
- name: two
  domains: [x.example.com]
`, "r.yaml: error: Envoy would refuse this route configuration: "},
		{"two resources", `
resources:
- {"@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration, name: a}
- {"@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration, name: b}
`, "r.yaml:2:1: error: a discovery response for routecheck must hold exactly one route configuration, not 2"},
		{"not routes", `
resources:
- {"@type": type.googleapis.com/envoy.config.cluster.v3.Cluster, name: a}
`, "r.yaml:2:1: error: resources[0] is a envoy.config.cluster.v3.Cluster, not a route configuration"},
		{"unknown field in resource", `
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: a
  virtual_host: []
`, `r.yaml:5:3: error: unknown field "virtual_host"`},
		{"validation in resource", `
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: a
  virtual_hosts: [{name: "", domains: [x]}]
`, "r.yaml:5:26: error: virtual_hosts[0].name: value length must be at least 1 runes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt, problems := LoadRoutes("r.yaml", []byte(tc.file))
			if rt != nil {
				t.Errorf("loaded despite problems")
			}
			if len(problems) != 1 {
				t.Fatalf("want one problem, got %v", problems)
			}
			got := problems[0].String()
			if tc.name == "refused by the simulator" {
				got = got[:min(len(got), len(tc.want))]
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
