package intent

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestScanOfAllValuesMissesNothing holds scanValues' shortcut to what it
// relies on: whenever some value holds material on its own, the values
// joined as joinValue joins them hold some too.
func TestScanOfAllValuesMissesNothing(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pieces := []string{
		keyPEM, keyPEM[:40], keyPEM[20:], base64.StdEncoding.EncodeToString([]byte(keyPEM)),
		base64.URLEncoding.EncodeToString([]byte(keyPEM))[3:], strings.ReplaceAll(keyPEM, "\n", `\n`),
		"-----BEGIN", "RSA", "PRIVATE", "KEY-----", "Proc-Type: 4,ENCRYPTED", "PuTTY-User-Key-File-2",
		"$apr1$abcdefgh$0123456789abcdefghijkl", "$2y$10$", "{SHA}", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
		`{"keys": [{"kty": "RSA"}]}`, `"keys":[`, `{"kty":`, `\"keys\": [{\"kty\":`,
		"hello", "/api/v1", " ", "\n", "\t", `\n`, "\x00", "-", "_", "=", "+", "/", "{", "}", "[", "]", ":", `"`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	found := 0
	for range 20000 {
		values := make([]string, 1+r.IntN(4))
		for i := range values {
			var b strings.Builder
			for range r.IntN(4) {
				p := pieces[r.IntN(len(pieces))]
				if r.IntN(3) == 0 && len(p) > 2 {
					lo := r.IntN(len(p))
					p = p[lo : lo+r.IntN(len(p)-lo)+1]
				}
				b.WriteString(p)
			}
			values[i] = b.String()
		}
		var all []byte
		for _, v := range values {
			all = joinValue(all, v)
		}
		for _, m := range materials {
			for _, v := range values {
				if m.index([]byte(v)) >= 0 {
					found++
					if m.index(all) < 0 {
						t.Fatalf("%s is in the value %q alone, but not in all values %q", m.rule, v, all)
					}
				}
			}
		}
	}
	if found < 1000 {
		t.Fatalf("only %d values held material; the test proves little", found)
	}
}
