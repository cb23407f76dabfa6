package diag

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestRulesDocumented keeps docs/rules.md and the catalogue in step: every
// rule has a section, and every section is a rule.
func TestRulesDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	var headings []string
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)\s*$`).FindAllSubmatch(doc, -1) {
		headings = append(headings, string(m[1]))
	}
	for _, r := range Rules {
		if !slices.Contains(headings, r.ID) {
			t.Errorf("docs/rules.md has no section \"## %s\"", r.ID)
		}
	}
	for _, h := range headings {
		if !Known(h) {
			t.Errorf("docs/rules.md documents %q, which is not in the catalogue", h)
		}
	}
}
