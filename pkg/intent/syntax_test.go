package intent

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestRepeatedKeys finds every key given again in a mapping, small
// (compared key by key) or large (indexed), and points each at the first.
func TestRepeatedKeys(t *testing.T) {
	t.Parallel()
	for _, keys := range []int{3, smallMapping, smallMapping + 1, 50} {
		t.Run(fmt.Sprint(keys), func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			for i := range keys {
				fmt.Fprintf(&b, "k%d: %d\n", i, i)
			}
			// k1 again twice, and k0 again, as the last keys; the
			// mapping is still larger than smallMapping when it was.
			b.WriteString("k1: again\nk0: again\nk1: thrice\n")
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
				t.Fatal(err)
			}
			diags := checkNodes(newText("f.yaml", []byte(b.String())), doc.Content[0])
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%d:%d %s (first %d:%d)", d.Pos.Line, d.Pos.Col, d.Message, d.Related[0].Pos.Line, d.Related[0].Pos.Col))
			}
			want := []string{
				fmt.Sprintf(`%d:1 key "k1" is given twice in this mapping (first 2:1)`, keys+1),
				fmt.Sprintf(`%d:1 key "k0" is given twice in this mapping (first 1:1)`, keys+2),
				fmt.Sprintf(`%d:1 key "k1" is given twice in this mapping (first 2:1)`, keys+3),
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
