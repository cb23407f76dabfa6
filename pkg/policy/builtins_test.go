package policy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
)

// TestEveryBuiltinIsClassified fails when the OPA release edgectl is built
// with has a built-in that is neither allowed nor refused: an upgrade must
// be reviewed before its new built-ins reach policies.
func TestEveryBuiltinIsClassified(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		known[b.Name] = true
		_, refused := refusedBuiltins[b.Name]
		if Allowed(b.Name) == refused {
			t.Errorf("built-in %s: allowed %v, refused %v; classify it exactly once in builtins.go", b.Name, Allowed(b.Name), refused)
		}
		if b.Nondeterministic && Allowed(b.Name) {
			t.Errorf("built-in %s is allowed, but OPA marks it non-deterministic", b.Name)
		}
	}
	for _, name := range allowedBuiltins {
		if !known[name] {
			t.Errorf("allowed built-in %s does not exist in this OPA release; remove it", name)
		}
	}
	for name := range refusedBuiltins {
		if !known[name] {
			t.Errorf("refused built-in %s does not exist in this OPA release; remove it", name)
		}
	}
	if dup := len(allowedBuiltins) - len(slices.Compact(slices.Sorted(slices.Values(allowedBuiltins)))); dup != 0 {
		t.Errorf("%d built-ins are listed twice as allowed", dup)
	}
}

const project = "apiVersion: edgectl.dev/v1alpha1\nkind: Project\nmetadata: {name: p}\n"

const backendDoc = `apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: b}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`

// evaluate loads, prepares and evaluates the policies of a repository
// over its documents, and returns every diagnostic as text lines.
func evaluate(t *testing.T, files map[string]string) []string {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	if _, ok := fsys["edgectl.yaml"]; !ok {
		fsys["edgectl.yaml"] = &fstest.MapFile{Data: []byte(project)}
	}
	m, diags, err := intent.Load(fsys, intent.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	mods, all, err := Load(fsys, m.Project, false)
	if err != nil {
		t.Fatal(err)
	}
	e, pd, err := Prepare(context.Background(), mods, m.Project, m)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, pd...)
	if !all.HasErrors() {
		fd, err := e.Documents(context.Background(), m.Docs)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, fd...)
	}
	return lines(all)
}

func lines(l diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		out = append(out, d.Pos.String()+": "+d.Severity.String()+": "+d.Message+" ["+d.Rule+"]")
	}
	return out
}

func TestRefusedBuiltins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"clock", `time.now_ns() > 0`, "policies/p.rego:6:2: error: time.now_ns is refused: it reads the clock;"},
		{"network", `http.send({"method": "GET", "url": "http://x"}).status_code == 200`, "policies/p.rego:6:2: error: http.send is refused: it reaches the network;"},
		{"random signature", `io.jwt.encode_sign({"alg": "ES256"}, {}, {}) != ""`, "policies/p.rego:6:2: error: io.jwt.encode_sign is refused: its signatures can differ on every run"},
		{"clock in jwt", `[ok, _, _] := io.jwt.decode_verify("a.b.c", {"secret": "s"})`, "policies/p.rego:6:16: error: io.jwt.decode_verify is refused: it reads the clock to check exp and nbf"},
		{"uuid", `x := uuid.rfc4122("k")`, "policies/p.rego:6:7: error: uuid.rfc4122 is refused: it is random;"},
		{"private key", `x := crypto.x509.parse_rsa_private_key("k")`, "policies/p.rego:6:7: error: crypto.x509.parse_rsa_private_key is refused: it reads private keys"},
		{"schema by URL", `json.match_schema({}, {"$ref": "http://x"})`, "policies/p.rego:6:2: error: json.match_schema is refused: it may fetch schemas over the network"},
		{"nested in a comprehension", `count([x | some x in [1]; rand.intn("k", x) > 0]) > 0`, "policies/p.rego:6:28: error: rand.intn is refused: it is random;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := evaluate(t, map[string]string{
				"b.yaml":          backendDoc,
				"policies/p.rego": "package p\n\nimport rego.v1\n\ndeny contains \"x\" if {\n\t" + tc.body + "\n}\n",
			})
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) || !strings.HasSuffix(got[0], "[policy]") {
				t.Errorf("got\n%s\nwant one finding starting with\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

func TestAllowedBuiltinsCompile(t *testing.T) {
	t.Parallel()
	got := evaluate(t, map[string]string{
		"b.yaml": backendDoc,
		"policies/p.rego": `package p

import rego.v1

deny contains msg if {
	input.kind == "Backend"
	net.cidr_contains("10.0.0.0/8", input.spec.endpoints[0].address)
	time.parse_duration_ns("1s") == 1000000000
	[_, payload, _] := io.jwt.decode("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln")
	msg := sprintf("%s %d %s", [input.metadata.name, payload.a, time.format([0, "Europe/Paris"])])
}
`,
	})
	want := []string{"b.yaml:3:18: error: b 1 1970-01-01T01:00:00+01:00 [p.deny]"}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
