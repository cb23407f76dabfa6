package intent

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestJSONOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml, want, err string
	}{
		{"{b: 1, a: [true, null, 1.5, x]}", `{"a":[true,null,1.5,"x"],"b":1}`, ""},
		{"v: 0x10", `{"v":16}`, ""},
		{`v: "1"`, `{"v":"1"}`, ""},
		{"v: 2024-01-02", `{"v":"2024-01-02"}`, ""},
		{"v: 18446744073709551615", `{"v":18446744073709551615}`, ""},
		{"base: &b {x: 1}\nuse: *b", `{"base":{"x":1},"use":{"x":1}}`, ""},
		{"v: .inf", "", "not a JSON number"},
		{"? [a]\n: 1", "", "keys are strings"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			got, err := JSONOf(&n)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err == "" && string(got) != tt.want:
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
