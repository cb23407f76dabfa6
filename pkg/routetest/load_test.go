package routetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/source"
)

// project is an edgectl.yaml with two teams and test files under each
// team's tests/ directory and under tests/, which no team owns.
const project = `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: p}
spec:
  intents: ["**/*.yaml"]
  tests: ["**/tests/**"]
  teams:
    - name: platform
      platform: true
      paths: [gateway.yaml]
      certificates: ["*"]
    - name: shop
      paths: [shop/**]
      hostnames: [www.example.com]
      certificates: [www]
    - name: search
      paths: [search/**]
      hostnames: [search.example.com]
`

// intents is a repository with one gateway (plain HTTP on 8080, HTTPS on
// 8443) and two virtual hosts, one of them with TLS.
var intents = map[string]string{
	"edgectl.yaml": project,
	"gateway.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  listeners:
    - {name: http, port: 8080, protocol: HTTP}
    - {name: https, port: 8443, protocol: HTTPS}
---
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: www}
spec:
  files: {certificateChain: /tls/www.crt, privateKey: /tls/www.key}
`,
	"shop/www.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: www}
spec:
  gateway: edge
  hostnames: [www.example.com]
  tls: {certificate: www}
  routes:
    - name: beta
      match:
        path: {prefix: /api}
        headers: [{name: x-beta, exact: "1"}]
      backend: api-v2
    - name: api
      match: {path: {prefix: /api}}
      backends:
        - {name: api, weight: 90}
        - {name: api-v2, weight: 10}
    - name: old
      match: {path: {prefix: /old/}}
      redirect: {prefix: /new/, code: 302}
    - name: web
      backend: web
      rewrite: {host: web.internal}
      headers:
        request: {set: {x-edge: "1"}, remove: [x-debug]}
        response: {set: {x-frame-options: DENY}}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: web}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: api}
spec: {endpoints: [{address: 10.0.0.2, port: 80}]}
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: api-v2}
spec: {endpoints: [{address: 10.0.0.3, port: 80}]}
`,
	"search/search.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: search}
spec:
  gateway: edge
  hostnames: [search.example.com]
  routes:
    - name: health
      match: {path: {exact: /healthz}}
      respond: {status: 200, body: ok}
    - name: query
      match: {path: {prefix: /q}}
      backend: search
---
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: search}
spec: {endpoints: [{address: 10.0.1.1, port: 80}]}
`,
}

// repo returns the intents with more files added (or replaced).
func repo(more map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range intents {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	for name, data := range more {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func loadProject(t *testing.T, fsys fstest.MapFS) *intent.Project {
	t.Helper()
	m, diags, err := intent.Load(fsys, intent.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("intents: %v", diags)
	}
	return m.Project
}

func compileRepo(t *testing.T, fsys fstest.MapFS) *compile.Result {
	t.Helper()
	res, diags, err := compile.Compile(context.Background(), &source.Source{FS: fsys}, compile.Options{Workers: 1, ResourcesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("compile: %v", diags)
	}
	return res
}

func lines(l diag.List) string {
	var b strings.Builder
	_ = diag.Write(&b, l, "text", diag.Tool{})
	return b.String()
}

const header = "apiVersion: edgectl.dev/v1alpha1\nkind: RouteTest\n"

// TestLoad checks what is wrong in test files before anything runs: the
// YAML, the schema, the kind, ownership, names and addresses, each at its
// position; and that test files are never read as intents.
func TestLoad(t *testing.T) {
	t.Parallel()
	fsys := repo(map[string]string{
		"shop/tests/ok.yaml": header + `metadata: {name: ok}
spec:
  team: shop
  tests:
    - name: web
      request: {url: "https://www.example.com/"}
      expect: {backend: web}
    - name: web
      request: {url: "https://www.example.com/", clientAddress: 10.1.2.300}
      expect: {backend: web}
`,
		"shop/tests/claims.yaml": header + `metadata: {name: claims}
spec:
  team: search
  tests: []
`,
		"shop/tests/typo.yaml": header + `metadata: {name: typo}
spec:
  team: shopp
  tests: []
`,
		"tests/orphan.yaml": header + `metadata: {name: orphan}
spec:
  tests: []
`,
		"search/tests/broken.yaml": header + `metadata: {name: broken}
spec:
  tests:
    - name: x
      request: {url: "http://search.example.com/q"
`,
		"search/tests/schema.yaml": header + `metadata: {name: schema}
spec:
  tests:
    - name: x
      request: {url: "http://search.example.com/q", method: get}
      expect: {backend: search, weights: {search: -1}}
    - name: y
      request: {url: "http://search.example.com/q"}
`,
		"search/tests/kind.yaml": `apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: b}
spec: {endpoints: [{address: 10.0.0.9, port: 80}]}
`,
	})
	proj := loadProject(t, fsys) // test files are not intents: no finding
	suite, err := Load(fsys, proj)
	if err != nil {
		t.Fatal(err)
	}
	want := `search/tests/broken.yaml:7:16: error: this { is never closed; close it with } [yaml]
search/tests/kind.yaml:2:7: error: a route test file holds only documents of kind RouteTest, not Backend; it is listed under tests in edgectl.yaml [document]
search/tests/schema.yaml:7:61: error: spec.tests[0].request.method: invalid value "get" (must match ^[A-Z]+$) [schema]
search/tests/schema.yaml:8:51: error: spec.tests[0].expect.weights.search: invalid value -1 (must be >= 0) [schema]
search/tests/schema.yaml:9:7: error: spec.tests[1]: missing required field "expect" [schema]
shop/tests/claims.yaml:5:9: error: team "search" may write route tests only under its own paths; shop/tests/claims.yaml lies under the paths of team "shop" [ownership]
edgectl.yaml:13:15: note: team "shop" claims it here
edgectl.yaml:17:7: note: the paths of team "search"
shop/tests/ok.yaml:10:13: error: test "web" is declared twice in this document [duplicate-name]
shop/tests/ok.yaml:7:13: note: first declared here
shop/tests/typo.yaml:5:9: error: unknown team "shopp" (did you mean "shop"?) [unknown-reference]
tests/orphan.yaml:1:1: error: route test file tests/orphan.yaml belongs to no team; put it under the paths of the team that writes it [ownership]
edgectl.yaml:7:3: note: the teams and their paths
`
	// The notes into edgectl's schema move with it; they are the schema
	// checker's to test.
	var got diag.List
	for _, d := range suite.Problems {
		d.Related = slices.DeleteFunc(d.Related, func(r diag.Related) bool { return r.Pos.File == diag.SchemaFile })
		got = append(got, d)
	}
	if got := lines(got); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
	var names []string
	for _, f := range suite.Files {
		names = append(names, f.Path+" "+f.Name+" "+f.Team)
	}
	if got, want := strings.Join(names, "\n"), "shop/tests/claims.yaml claims shop\nshop/tests/ok.yaml ok shop\nshop/tests/typo.yaml typo shop\ntests/orphan.yaml orphan "; got != want {
		t.Errorf("files:\n%s\nwant:\n%s", got, want)
	}
	ok := suite.Files[1]
	if len(ok.Tests) != 2 || len(ok.Tests[0].problems) != 0 {
		t.Fatalf("tests of ok.yaml: %+v", ok.Tests)
	}
	if got, want := lines(ok.Tests[1].problems), "shop/tests/ok.yaml:11:65: error: request.clientAddress: \"10.1.2.300\" is not an IP address [invalid-value]\n"; got != want {
		t.Errorf("problems of the second test: %s, want %s", got, want)
	}
}

// TestLoadWithoutTests: a project that lists no test files has none, and
// an intent file holding a RouteTest is told where those belong.
func TestLoadWithoutTests(t *testing.T) {
	t.Parallel()
	fsys := repo(map[string]string{"edgectl.yaml": strings.Replace(project, `  tests: ["**/tests/**"]`+"\n", "", 1)})
	suite, err := Load(fsys, loadProject(t, fsys))
	if err != nil {
		t.Fatal(err)
	}
	if len(suite.Files) != 0 || len(suite.Problems) != 0 {
		t.Errorf("suite = %+v, want nothing", suite)
	}
	fsys["shop/tests/t.yaml"] = &fstest.MapFile{Data: []byte(header + "metadata: {name: t}\nspec: {tests: []}\n")}
	_, diags, err := intent.Load(fsys, intent.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lines(diags), "shop/tests/t.yaml:2:7: error: kind RouteTest belongs in the files listed under tests in edgectl.yaml [document]\n"; got != want {
		t.Errorf("intents: %s, want %s", got, want)
	}
}

// TestLoadTwoOwners: a test file under the paths of two teams has no owner.
func TestLoadTwoOwners(t *testing.T) {
	t.Parallel()
	fsys := repo(map[string]string{
		"edgectl.yaml":             strings.Replace(project, "      paths: [search/**]", "      paths: [search/**, shared/**]", 1) + "    - name: web\n      paths: [shared/tests/**]\n",
		"shared/tests/common.yaml": header + "metadata: {name: common}\nspec: {tests: []}\n",
	})
	suite, err := Load(fsys, loadProject(t, fsys))
	if err != nil {
		t.Fatal(err)
	}
	want := `shared/tests/common.yaml:1:1: error: route test file shared/tests/common.yaml belongs to 2 teams (search, web); a file must have one owner [ownership]
edgectl.yaml:17:26: note: team "search" claims it here
edgectl.yaml:20:15: note: team "web" claims it here
`
	if got := lines(suite.Problems); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
	if len(suite.Files) != 1 || suite.Files[0].Team != "" {
		t.Errorf("files: %+v, want one without a team", suite.Files)
	}
}

// TestLoadWithoutProjectFile: without edgectl.yaml (a folder of Gateway
// API manifests), the test files are the YAML files that hold a RouteTest
// document, wherever they lie; with one, only those it lists.
func TestLoadWithoutProjectFile(t *testing.T) {
	t.Parallel()
	test := header + "metadata: {name: t}\nspec: {tests: [{name: a, request: {url: http://x/}, expect: {noRoute: true}}]}\n"
	fsys := fstest.MapFS{
		"routes.yaml":                {Data: []byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n")},
		"a/tests.yaml":               {Data: []byte(test)},
		"b/c/more.yml":               {Data: []byte("# tests\n" + strings.Replace(test, "kind: RouteTest", "kind: 'RouteTest'  # quoted", 1))},
		"notes.txt":                  {Data: []byte(test)},
		".hidden/t.yaml":             {Data: []byte(test)},
		"mentions.yaml":              {Data: []byte("# kind: RouteTest is written elsewhere\nkind: ConfigMap\n")},
		"out/" + source.OutputMarker: {Data: nil},
		"out/t.yaml":                 {Data: []byte(test)},
	}
	for _, tc := range []struct {
		name string
		proj *intent.Project
		want []string
	}{
		{"no edgectl.yaml", &intent.Project{}, []string{"a/tests.yaml", "b/c/more.yml"}},
		{"edgectl.yaml without tests", &intent.Project{Doc: &intent.Doc{}}, nil},
		{"no project", nil, nil},
	} {
		suite, err := Load(fsys, tc.proj)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range suite.Files {
			got = append(got, f.Path)
		}
		if !slices.Equal(got, tc.want) || len(suite.Problems) > 0 {
			t.Errorf("%s: files %v, problems %v; want %v", tc.name, got, suite.Problems, tc.want)
		}
	}
}
