package bundle

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestJSONToYAML(t *testing.T) {
	t.Parallel()
	in := `{"name":"l","address":{"socket_address":{"address":"0.0.0.0","port_value":8080}},
	  "empty":{},"none":[],"list":[{"a":1,"b":[1,2]},[3,[4]],"x"],
	  "tricky":["on","Yes","null","","8080","1e3"," lead","a: b","#c","-","x:","é","tab\there",
	  "%REQ(:METHOD)%","type.googleapis.com/envoy.config.listener.v3.Listener","@type"],
	  "@type":"t","flag":true,"nothing":null,"f":1.5}`
	got, err := jsonToYAML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `name: l
address:
  socket_address:
    address: "0.0.0.0"
    port_value: 8080
empty: {}
none: []
list:
- a: 1
  b:
  - 1
  - 2
- - 3
  - - 4
- x
tricky:
- "on"
- "Yes"
- "null"
- ""
- "8080"
- "1e3"
- " lead"
- "a: b"
- "#c"
- "-"
- "x:"
- "é"
- "tab\there"
- "%REQ(:METHOD)%"
- type.googleapis.com/envoy.config.listener.v3.Listener
- "@type"
"@type": t
flag: true
nothing: null
f: 1.5
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Whatever the quoting, a YAML reader must get the JSON's values back.
	var fromJSON, fromYAML any
	if err := json.Unmarshal([]byte(in), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(got, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(fromJSON), normalize(fromYAML)) {
		t.Errorf("round trip differs:\njson: %v\nyaml: %v", fromJSON, fromYAML)
	}
}

// normalize maps numbers to float64 so JSON and YAML decodings compare.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	}
	return v
}

func FuzzJSONToYAML(f *testing.F) {
	f.Add(`{"a":[{"b":{}},[]],"c":"on"}`)
	f.Add(`[1,"2",{"x":null}]`)
	f.Fuzz(func(t *testing.T, in string) {
		var fromJSON any
		if json.Unmarshal([]byte(in), &fromJSON) != nil {
			return
		}
		out, err := jsonToYAML([]byte(in))
		if err != nil {
			if strings.Contains(err.Error(), "duplicate key") {
				return // valid for encoding/json, but never produced by protojson
			}
			t.Fatalf("valid JSON %q: %v", in, err)
		}
		var fromYAML any
		if err := yaml.Unmarshal(out, &fromYAML); err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalize(fromJSON), normalize(fromYAML)) {
			t.Fatalf("round trip differs for %q:\n%s", in, out)
		}
	})
}

// TestRateLimitUnitCase pins the rewriting of units between the written
// form (lower case, as the reference ratelimit service documents it) and
// protojson's enum names; a descriptor whose key or value says "unit" is
// left alone.
func TestRateLimitUnitCase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, lower, upper string
	}{
		{"policy", `{"rate_limit":{"unit":"MINUTE","requests_per_unit":5}}`, `{"rate_limit":{"unit":"minute","requests_per_unit":5}}`, `{"rate_limit":{"unit":"MINUTE","requests_per_unit":5}}`},
		{"several", `[{"unit":"Second"},{"unit":"day"}]`, `[{"unit":"second"},{"unit":"day"}]`, `[{"unit":"SECOND"},{"unit":"DAY"}]`},
		{"key named unit", `{"key":"unit","value":"HOUR"}`, `{"key":"unit","value":"HOUR"}`, `{"key":"unit","value":"HOUR"}`},
		{"value quoting unit", `{"value":"\"unit\":\"HOUR\""}`, `{"value":"\"unit\":\"HOUR\""}`, `{"value":"\"unit\":\"HOUR\""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(unitCase([]byte(tc.in), strings.ToLower)); got != tc.lower {
				t.Errorf("lower: %s, want %s", got, tc.lower)
			}
			if got := string(unitCase([]byte(tc.in), strings.ToUpper)); got != tc.upper {
				t.Errorf("upper: %s, want %s", got, tc.upper)
			}
		})
	}
}

// TestHeadLength holds Encode's room for the head of the xDS files to the
// head of every digest: "sha256:" and 64 hexadecimal digits, letters or
// digits alike.
func TestHeadLength(t *testing.T) {
	t.Parallel()
	want, err := headLen()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, hex := range []string{strings.Repeat("f", 64), strings.Repeat("e", 64), "1e10" + strings.Repeat("0", 60), strings.Repeat("9", 64)} {
		if h, _ := discoveryHead("sha256:" + hex); len(h) != want {
			t.Errorf("the head of sha256:%s is %d bytes, not %d", hex, len(h), want)
		}
	}
	for range 2000 {
		var d [32]byte
		for i := range d {
			d[i] = byte(r.IntN(256))
		}
		digest := "sha256:" + fmt.Sprintf("%x", d)
		if h, _ := discoveryHead(digest); len(h) != want {
			t.Fatalf("the head of %s is %d bytes, not %d", digest, len(h), want)
		}
	}
}
