package privkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// keys returns PEM texts of private keys of every kind, made now.
func keys(t *testing.T) map[string]string {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	enc := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	return map[string]string{
		"rsa":       enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil),
		"ec":        enc("EC PRIVATE KEY", ecDER, nil),
		"pkcs8":     enc("PRIVATE KEY", pkcs8, nil),
		"encrypted": enc("ENCRYPTED PRIVATE KEY", random(600), nil),
		"proc-type": strings.Replace(enc("RSA PRIVATE KEY", random(600), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}), "RSA PRIVATE KEY", "X", 1),
		"openssh":   enc("OPENSSH PRIVATE KEY", random(400), nil),
		"dsa":       enc("DSA PRIVATE KEY", random(400), nil),
		"pgp":       "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + base64.StdEncoding.EncodeToString(random(300)) + "\n-----END PGP PRIVATE KEY BLOCK-----\n",
	}
}

// publics returns PEM texts that are not key material.
func publics(t *testing.T) map[string]string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop.example.com"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	return map[string]string{
		"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})),
		"public-key":  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		"pgp-public":  "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBF\n-----END PGP PUBLIC KEY BLOCK-----\n",
		"prose":       "Rotate the private key yearly; BEGIN with the PRIVATE KEY of the CA. privateKey: /etc/envoy/tls.key",
	}
}

// forms returns the ways a text can be written into a value.
func forms(s string) map[string]string {
	wrap := func(b64 string, n int) string {
		var lines []string
		for len(b64) > n {
			lines = append(lines, b64[:n])
			b64 = b64[n:]
		}
		return strings.Join(append(lines, b64), "\n")
	}
	return map[string]string{
		"plain":            s,
		"indented":         strings.ReplaceAll(s, "\n", "\n      "),
		"json-escaped":     strings.ReplaceAll(s, "\n", `\n`),
		"folded-header":    strings.Replace(s, " PRIVATE", "\n  PRIVATE", 1),
		"base64":           base64.StdEncoding.EncodeToString([]byte(s)),
		"base64-raw":       base64.RawStdEncoding.EncodeToString([]byte(s)),
		"base64-url":       base64.URLEncoding.EncodeToString([]byte(s)),
		"base64-url-raw":   base64.RawURLEncoding.EncodeToString([]byte(s)),
		"base64-wrapped":   wrap(base64.StdEncoding.EncodeToString([]byte(s)), 64),
		"base64-wrapped76": "    " + strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString([]byte(s)), 76), "\n", "\n    "),
		"base64-json":      strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString([]byte(s)), 64), "\n", `\n`),
		"base64-prefixed1": "k" + base64.StdEncoding.EncodeToString([]byte(s)),
		"base64-prefixed2": "key " + base64.StdEncoding.EncodeToString([]byte("ab"+s)),
		"base64-prefixed3": "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+s)),
	}
}

func TestIndexFindsKeys(t *testing.T) {
	t.Parallel()
	for kind, key := range keys(t) {
		for form, text := range forms(key) {
			in := "body: " + text + "\nnext: value\n"
			// Where the key starts: at most a prefix or a first line
			// after the value's start.
			if i := Index([]byte(in)); i < len("body: ") || i > len("body: ")+40 {
				t.Errorf("%s as %s: Index = %d, want the offset where it starts (6 and a little)\n%s", kind, form, i, in)
			}
		}
	}
}

func TestIndexIgnoresPublicMaterial(t *testing.T) {
	t.Parallel()
	for kind, text := range publics(t) {
		for form, s := range forms(text) {
			if i := Index([]byte(s)); i >= 0 {
				t.Errorf("%s as %s: Index = %d, want -1\n%s", kind, form, i, s)
			}
		}
	}
}

// TestIndexAdversarial runs inputs built to make a naive search slow: they
// must still be answered (linear time is by construction: bounded
// look-back per match, one pass to join, three substring searches).
func TestIndexAdversarial(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]string{
		"many PRIVATE":       strings.Repeat("PRIVATE KEY ", 200000),
		"many BEGIN":         strings.Repeat("-----BEGIN A B C ", 100000),
		"many encodings":     strings.Repeat(base64.StdEncoding.EncodeToString([]byte("xPRIVATE KEY")), 100000),
		"one long base64":    strings.Repeat("QUFB", 1000000),
		"escapes everywhere": strings.Repeat(`\n`, 1000000),
	} {
		if i := Index([]byte(s)); i >= 0 {
			t.Errorf("%s: Index = %d, want -1", name, i)
		}
	}
}

// BenchmarkIndexBundle scans text shaped like a bundle's YAML.
func BenchmarkIndexBundle(b *testing.B) {
	line := "      - match: {prefix: /api/v1/users}\n        route: {cluster: users-v1, timeout: 15s}\n"
	text := []byte(strings.Repeat(line, 20<<20/len(line)))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if Index(text) >= 0 {
			b.Fatal("found a key")
		}
	}
}
