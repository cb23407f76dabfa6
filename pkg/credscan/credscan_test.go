package credscan

import (
	"strings"
	"testing"
)

func TestHtpasswdIndex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       int
	}{
		{"sha", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", 6},
		{"apr1", "bob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n", 4},
		{"bcrypt 2y", "x: $2y$05$LxaTb1CxbBB0jHtKtaY7Tu2CZFDiz7Nc1hgdemQy5H8h06W.oijai", 3},
		{"bcrypt 2b in yaml", `password: "$2b$12$KIXQJQ8Ue2Gm7lJrqj0Uuu3vSVOeQ7v6hl6fBBkLcp1K8Hci7dO6e"`, 11},
		{"sha512 crypt", "u:$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", 2},
		{"prefix alone in prose", "htpasswd writes hashes such as $apr1$ and {SHA}", -1},
		{"short sha", "{SHA}abc=", -1},
		{"regex using dollars", `regex: "^\$2y\$[0-9]+$"`, -1},
		{"nothing", "just text", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := HtpasswdIndex([]byte(tc.text)); got != tc.want {
				t.Errorf("HtpasswdIndex(%q) = %d, want %d", tc.text, got, tc.want)
			}
		})
	}
}

func TestJWKSIndex(t *testing.T) {
	t.Parallel()
	set := `{"keys":[{"kty":"RSA","kid":"k1","n":"0vx7","e":"AQAB"}]}`
	for _, tc := range []struct {
		name, text string
		want       int
	}{
		{"compact", set, 1},
		{"kty later in the key", `{"keys": [ {"kid": "k1", "use": "sig", "kty": "EC"} ]}`, 1},
		{"pretty", "{\n  \"keys\": [\n    {\n      \"kty\": \"RSA\"\n    }\n  ]\n}", 4},
		{"escaped in a JSON string", `"{\"keys\":[{\"kty\":\"RSA\"}]}"`, 2},
		{"in yaml value", "jwks: '" + set + "'", 8},
		{"keys of something else", `{"keys": [{"name": "a"}], "kty": "RSA"}`, -1},
		{"one key is not a set", `{"kty":"RSA","n":"0vx7","e":"AQAB"}`, -1},
		{"prose", "a JWKS has keys, each with a kty", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := JWKSIndex([]byte(tc.text)); got != tc.want {
				t.Errorf("JWKSIndex(%q) = %d, want %d", tc.text, got, tc.want)
			}
		})
	}
}

// TestNearMisses: texts that start like material many times over, and
// never finish it, are not taken for material.
func TestNearMisses(t *testing.T) {
	t.Parallel()
	text := strings.Repeat(`"keys": [{"a": 1}, `, 5000) + strings.Repeat("$apr1$abc$", 5000)
	if HtpasswdIndex([]byte(text)) != -1 || JWKSIndex([]byte(text)) != -1 {
		t.Error("near misses were taken for material")
	}
}

// TestHtpasswdIndexLargeText finds a hash at the end of a large text, and
// none in a large text with only dollar signs and braces, as the scan of a
// bundle meets them.
func TestHtpasswdIndexLargeText(t *testing.T) {
	t.Parallel()
	filler := strings.Repeat("price: $5 {x} regex: \"^\\\\$[0-9]+$\"\n", 20000)
	hash := "admin:$2y$05$LxaTb1CxbBB0jHtKtaY7Tu2CZFDiz7Nc1hgdemQy5H8h06W.oijai"
	for _, tc := range []struct {
		name, text string
		want       int
	}{
		{"no hash", filler, -1},
		{"hash at the end", filler + hash, len(filler) + 6},
	} {
		if got := HtpasswdIndex([]byte(tc.text)); got != tc.want {
			t.Errorf("%s: HtpasswdIndex = %d, want %d", tc.name, got, tc.want)
		}
	}
}
