package diag

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	names := []string{"shop-api", "shop-web", "payments", "web"}
	tests := []struct{ name, want string }{
		{"shop-apy", "shop-api"},
		{"wbe", "web"}, // a swap is one edit
		{"paymnets", "payments"},
		{"shop", ""}, // too far from any
		{"catalog", ""},
		{"web", "web"},
	}
	for _, tc := range tests {
		if got := Suggest(tc.name, names); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
