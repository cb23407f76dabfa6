package glob

import "testing"

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**/*.yaml", "a.yaml", true},
		{"**/*.yaml", "teams/pay/a.yaml", true},
		{"**/*.yaml", "teams/pay/a.yml", false},
		{"teams/pay/**", "teams/pay/a.yaml", true},
		{"teams/pay/**", "teams/pay/sub/a.yaml", true},
		{"teams/pay/**", "teams/payments/a.yaml", false},
		{"teams/*.yaml", "teams/sub/a.yaml", false},
		{"teams/**/routes.yaml", "teams/routes.yaml", true},
		{"teams/**/routes.yaml", "teams/a/b/routes.yaml", true},
		{"gateways/edge.yaml", "gateways/edge.yaml", true},
		{"gateways/[a-c]*.yaml", "gateways/edge.yaml", false},
		{"gateways/[", "gateways/[", false},
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "/abs/**", "a**/b", "a/[", "a/**x"} {
		if Valid(p) == nil {
			t.Errorf("Valid(%q) = nil, want an error", p)
		}
	}
	for _, p := range []string{"**", "a/**/b/*.yaml", "teams/pay/**"} {
		if err := Valid(p); err != nil {
			t.Errorf("Valid(%q) = %v", p, err)
		}
	}
}
