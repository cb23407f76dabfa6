package bundle

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// unmarshalJSON is yamlToJSON as it was before yamlfast: yaml.Unmarshal
// into a node, then nodeJSON.
func unmarshalJSON(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	if len(n.Content) == 0 {
		return []byte("{}"), nil
	}
	var b bytes.Buffer
	if err := nodeJSON(&b, n.Content[0]); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func dropComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestFirstDocument holds firstDocument and yamlToJSON to what
// yaml.Unmarshal gives, on one document, several, none, and on errors in
// the first document and after it.
func TestFirstDocument(t *testing.T) {
	t.Parallel()
	route, err := jsonToYAML([]byte(`{"version_info":"1","resources":[{"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
	  "name":"https","virtual_hosts":[{"name":"shop","domains":["shop.example.com","*.shop.example.com"],
	  "routes":[{"name":"cart","match":{"prefix":"/cart","headers":[{"name":":method","string_match":{"exact":"GET"}}]},
	  "route":{"cluster":"cart","timeout":"5s","retry_policy":{"retry_on":"5xx,reset","num_retries":2}}},
	  {"match":{"safe_regex":{"regex":"^/img/[0-9]+\\.(png|jpg)$"}},"route":{"weighted_clusters":{"clusters":[{"name":"a","weight":90},{"name":"b","weight":10}]}}},
	  {"match":{"prefix":"/"},"direct_response":{"status":403,"body":{"inline_string":"denied: \"x\"\n"}}}]}]}],
	  "type_url":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","nonce":"","on":"yes","n":null,"f":-1.5e3}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		err  bool // whether yaml.Unmarshal fails
	}{
		{"empty", "", false},
		{"blank", "\n\n", false},
		{"comment only", "# nothing\n", false},
		{"empty document", "---\n", false},
		{"empty documents", "---\n---\n", false},
		{"edgectl's output", string(route), false},
		{"comments", "# head\na: 1 # line\nb:\n  - c # line\n", false},
		{"second document", "a: 1\n---\nb: 2\n", false},
		{"second document broken", "a: 1\n---\nb: [2\n", false},
		{"second document's first token broken", "a: 1\n---\n'b\n", true},
		{"document end then text", "a: 1\n...\nb: [\n", false},
		{"scalar", "hello\n", false},
		{"sequence", "- 1\n- two\n", false},
		{"alias", "a: &x 1\nb: *x\n", false},
		{"beyond ASCII", "a: é\n", false},
		{"unclosed flow", "a: [1\n", true},
		{"bad mapping", "a: b: c\n", true},
		{"tab", "a:\n\tb: 1\n", true},
		{"unknown alias", "a: *x\n", true},
		{"control character", "a: \x01\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.data)
			var want yaml.Node
			wantErr := yaml.Unmarshal(data, &want)
			if (wantErr != nil) != tt.err {
				t.Fatalf("yaml.Unmarshal: %v; the case expects an error: %v", wantErr, tt.err)
			}
			got, err := firstDocument(data)
			if errText(err) != errText(wantErr) {
				t.Fatalf("firstDocument error %q, want %q", errText(err), errText(wantErr))
			}
			dropComments(&got)
			dropComments(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("firstDocument gives\n%s\nwant\n%s", dump(&got), dump(&want))
			}
			js, err := yamlToJSON(data)
			wantJS, wantJSErr := unmarshalJSON(data)
			if errText(err) != errText(wantJSErr) || !bytes.Equal(js, wantJS) {
				t.Errorf("yamlToJSON = %s, %v; want %s, %v", js, err, wantJS, wantJSErr)
			}
		})
	}
}

func dump(n *yaml.Node) string {
	var b strings.Builder
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%s%d %s %q %d:%d\n", strings.Repeat("  ", depth), n.Kind, n.Tag, n.Value, n.Line, n.Column)
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}
