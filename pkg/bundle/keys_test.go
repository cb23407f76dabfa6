package bundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/edgectl/edgectl/pkg/xds"
)

// TestKeyNeverWritten feeds the bundle encoder and writer resources that
// hold a private key directly, past the repository scan: the bundle is
// refused with an error and nothing reaches the output directory.
func TestKeyNeverWritten(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	for name, inline := range map[string]string{
		"pem":    string(pemKey),
		"base64": base64.StdEncoding.EncodeToString(pemKey),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			secret := &tlsv3.Secret{Name: "leak", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
				PrivateKey: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: inline}},
			}}}
			in := Input{Gateway: "edge", Static: &bootstrapv3.Bootstrap{}, Dynamic: &bootstrapv3.Bootstrap{},
				Resources: &xds.Resources{Secrets: []*tlsv3.Secret{secret}}}
			if _, err := Encode(in, Meta{}); err == nil || !strings.Contains(err.Error(), "private key material") {
				t.Fatalf("Encode: err = %v, want a refusal", err)
			}

			// A bundle made some other way is refused by the writer.
			clean := Input{Gateway: "edge", Static: &bootstrapv3.Bootstrap{}, Dynamic: &bootstrapv3.Bootstrap{}, Resources: &xds.Resources{}}
			b, err := Encode(clean, Meta{})
			if err != nil {
				t.Fatal(err)
			}
			b.Files = append(b.Files, File{Path: "xds/sds-leak.yaml", Data: []byte("resources:\n- private_key:\n    inline_string: " + inline + "\n")})
			out := filepath.Join(t.TempDir(), "out")
			if err := WriteOutput(out, []*Bundle{b}); err == nil || !strings.Contains(err.Error(), "private key material") {
				t.Fatalf("WriteOutput: err = %v, want a refusal", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output directory exists after a refusal: %v", err)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// TestNoAuthMaterialWritten gives the encoder's final scan and the writer
// bundles whose files carry an htpasswd hash or a JSON Web Key set, as no
// compiled intent can (the repository scan refuses them first): both are
// refused, and nothing is written. Files that only look alike pass.
func TestNoAuthMaterialWritten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data, want string
	}{
		{"htpasswd in a direct response", "body:\n  inline_string: \"admin:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\\n\"\n", "an htpasswd password hash"},
		{"bcrypt hash", "users: \"alice:$2y$05$LxaTb1CxbBB0jHtKtaY7Tu2CZFDiz7Nc1hgdemQy5H8h06W.oijai\"\n", "an htpasswd password hash"},
		{"inline key set", `local_jwks: {inline_string: "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"0vx7\",\"e\":\"AQAB\"}]}"}` + "\n", "a JSON Web Key set"},
		{"key set file", `{"keys": [ {"kid": "k1", "kty": "EC", "crv": "P-256"} ]}`, "a JSON Web Key set"},
		{"users file reference", "users:\n  filename: /etc/envoy/htpasswd/admin\n", ""},
		{"remote key set", "remote_jwks:\n  http_uri: {uri: \"https://id.acme.io/jwks.json\", cluster: idp}\n", ""},
		{"a single key is no set", `{"kty": "RSA", "e": "AQAB"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := secretIn([]byte(tc.data)); got != tc.want {
				t.Errorf("secretIn = %q, want %q", got, tc.want)
			}
			clean := Input{Gateway: "edge", Static: &bootstrapv3.Bootstrap{}, Dynamic: &bootstrapv3.Bootstrap{}, Resources: &xds.Resources{}}
			b, err := Encode(clean, Meta{})
			if err != nil {
				t.Fatal(err)
			}
			b.Files = append(b.Files, File{Path: "xds/rds-leak.yaml", Data: []byte(tc.data)})
			err = checkNoKeys(b)
			if tc.want == "" {
				if err != nil {
					t.Errorf("checkNoKeys: %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "xds/rds-leak.yaml") {
				t.Fatalf("checkNoKeys: err = %v, want a refusal naming the file and %q", err, tc.want)
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := WriteOutput(out, []*Bundle{b}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteOutput: err = %v, want a refusal", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output directory exists after a refusal: %v", err)
			}
		})
	}
}
