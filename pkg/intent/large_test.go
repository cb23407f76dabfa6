package intent

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/pkg/diag"
)

// largeVirtualHost is a document past largeFile, so it takes the path
// that checks and decodes on several goroutines; extra is appended to its
// last route.
func largeVirtualHost(routes int, extra string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: edgectl.dev/v1alpha1\nkind: VirtualHost\nmetadata:\n  name: big\nspec:\n  gateway: edge\n  hostnames: [big.example.com]\n  routes:\n")
	for i := range routes {
		fmt.Fprintf(&b, "    - name: r%d\n      match:\n        path: {prefix: /r%d/}\n      backend: web\n", i, i)
	}
	b.WriteString(extra)
	return []byte(b.String())
}

// TestLargeFileDecodesAsSmall holds the concurrent path to the sequential
// one: the same document, read whole as a large file and as the first
// document of a small one, gives the same intent and the same findings.
// Run with -race, it also shows the passes only read the tree.
func TestLargeFileDecodesAsSmall(t *testing.T) {
	t.Parallel()
	sch, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", 3)
	// Escaped so that only the decoded value holds a key: the scan of
	// values finds it, not the scan of the raw file (which loadFile runs).
	key := "-----BEGIN PRIV\\x41TE KEY-----\\n" + body + "\\n-----END PRIV\\x41TE KEY-----"
	for _, tc := range []struct {
		name, extra string
		rule        string
	}{
		{"valid", "", ""},
		{"schema error", "      timeout: soon\n", "schema"},
		{"private key", "      headers:\n        request:\n          set: {x-key: \"" + key + "\"}\n", "private-key"},
		{"htpasswd hash", "      headers:\n        request:\n          set: {x-users: \"alice:{SH\\x41}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\"}\n", "htpasswd-hash"},
		{"key set", "      headers:\n        request:\n          set: {x-keys: \"{\\x22keys\\x22: [{\\x22kty\\x22: \\x22EC\\x22}]}\"}\n", "jwks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := largeVirtualHost(4000, tc.extra)
			if len(data) < largeFile {
				t.Fatalf("the document is %d bytes, under largeFile", len(data))
			}
			big, bigDiags := parse(sch, "big.yaml", data, intentFile, true)
			seq, seqDiags := parse(sch, "big.yaml", data, intentFile, false)
			if !reflect.DeepEqual(rules(bigDiags), rules(seqDiags)) || !reflect.DeepEqual(messages(bigDiags), messages(seqDiags)) {
				t.Errorf("findings differ:\nlarge:      %v\nsequential: %v", bigDiags, seqDiags)
			}
			if tc.rule == "" {
				if len(big) != 1 || len(seq) != 1 {
					t.Fatalf("decoded %d and %d documents, want 1", len(big), len(seq))
				}
				a, b := big[0].(*VirtualHost), seq[0].(*VirtualHost)
				if len(a.Spec.Routes) != 4000 || !reflect.DeepEqual(a.Spec, b.Spec) {
					t.Errorf("the large path decoded %d routes, differently from the sequential one", len(a.Spec.Routes))
				}
				return
			}
			if len(big) != 0 || !strings.Contains(strings.Join(rules(bigDiags), " "), tc.rule) {
				t.Errorf("want no document and a %s finding, got %d documents and %v", tc.rule, len(big), bigDiags)
			}
		})
	}
}

func rules(l diag.List) []string {
	var out []string
	for _, d := range l {
		out = append(out, d.Rule)
	}
	return out
}

func messages(l diag.List) []string {
	var out []string
	for _, d := range l {
		out = append(out, d.Pos.String()+" "+d.Message)
	}
	return out
}
