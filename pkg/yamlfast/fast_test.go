package yamlfast

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/internal/genrepo"
)

// typical returns the YAML that edgectl users write: generated
// repositories in both dialects, the example repository and the other
// commented files of the test data as they are, and the inputs of the
// compiler's golden cases that are not meant to fail.
func typical(t *testing.T) []input {
	t.Helper()
	var out []input
	generated := []struct {
		name  string
		files map[string][]byte
	}{
		{"plain", first(genrepo.Generate(genrepo.Options{Routes: 200}))},
		{"governed", first(genrepo.Generate(genrepo.Options{Routes: 200, Governed: true, Security: true, Files: 30}))},
		{"one vhost", first(genrepo.Generate(genrepo.Options{Routes: 200, VirtualHosts: 1}))},
		{"gatewayapi", first(genrepo.GenerateGatewayAPI(genrepo.Options{Routes: 200}))},
	}
	for _, g := range generated {
		for _, name := range slices.Sorted(maps.Keys(g.files)) {
			if isYAML(name) {
				out = append(out, input{g.name + ":" + name, g.files[name]})
			}
		}
	}
	n := len(out)
	err := filepath.WalkDir("../../examples/acme", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAML(p) {
			return err
		}
		data, err := os.ReadFile(p)
		out = append(out, input{p, data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out)-n < 20 {
		t.Fatalf("found %d files in the example repository", len(out)-n)
	}
	commented := 0
	for _, in := range out[n:] {
		if bytes.Contains(in.data, []byte("\n#")) && bytes.Contains(in.data, []byte("  #")) {
			commented++
		}
	}
	if commented < 10 {
		t.Fatalf("found %d files with comment lines and indented comments in the example repository", commented)
	}
	for _, p := range []string{"../routecheck/testdata/shop.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, input{p, data})
	}
	n = len(out)
	goldens, err := filepath.Glob("../compile/testdata/golden/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if strings.HasPrefix(filepath.Base(g), "err-") {
			continue
		}
		ar, err := txtar.ParseFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if isYAML(f.Name) {
				out = append(out, input{g + ":" + f.Name, f.Data})
			}
		}
	}
	if len(out)-n < 100 {
		t.Fatalf("found %d inputs in the compiler's golden cases", len(out)-n)
	}
	return out
}

func first[A, B any](a A, _ B) A { return a }

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// TestFastPathTaken holds the fast parser to reading what users write, so
// that a change which sends everything to yaml.v3 does not pass unseen.
func TestFastPathTaken(t *testing.T) {
	t.Parallel()
	for _, in := range typical(t) {
		docs, ok := parseFast(in.data)
		if !ok {
			t.Errorf("%s: the fast parser gave up on\n%s", in.name, in.data)
			continue
		}
		if len(docs) == 0 && len(bytes.TrimSpace(in.data)) > 0 {
			t.Errorf("%s: no documents", in.name)
		}
		if d := agree(in.data); d != "" {
			t.Errorf("%s: yamlfast and yaml.v3 differ: %s", in.name, d)
		}
	}
}

// TestPlainTag holds the shortcut of plainTag (a scalar that starts with
// a letter other than those of yaml.v3's special words, '/' or '_' is a
// !!str) to yaml.v3's resolution, for every start byte and many tails.
func TestPlainTag(t *testing.T) {
	t.Parallel()
	tails := []string{"", "1", "0", "x", "e3", ".5", "_1", ":1", "-1-1", "rue", "RUE", "alse", "ull", "ULL",
		"es", "o", "n", "ff", "inf", "nan", "x1F", "o17", "b101", "026-01-01", "<", "~", " ", "1.5e3"}
	var p parser
	for c := byte(' ' + 1); c <= '~'; c++ {
		for _, tail := range tails {
			v := string(c) + tail
			want := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
			if got := p.plainTag(v); got != want {
				t.Errorf("plainTag(%q) = %q, want %q", v, got, want)
			}
		}
	}
	// Values resolved to other tags than !!str, asked twice to go
	// through the cache.
	for _, v := range []string{"1", "true", "null", "~", "1.5", ".inf", "2026-11-30", "0x1F", "yes", "Null"} {
		want := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
		for range 2 {
			if got := p.plainTag(v); got != want {
				t.Errorf("plainTag(%q) = %q, want %q", v, got, want)
			}
		}
	}
}

// TestContentAppend checks that an append to one node's Content leaves
// the nodes whose Content shares its array alone.
func TestContentAppend(t *testing.T) {
	t.Parallel()
	docs, ok := parseFast([]byte("a: [1, 2]\nb: [3, 4]\nc: {d: 5}\n"))
	if !ok {
		t.Fatal("the fast parser gave up")
	}
	root := docs[0].Content[0]
	a, b := root.Content[1], root.Content[3]
	extra := &yaml.Node{Kind: yaml.ScalarNode, Value: "x"}
	a.Content = append(a.Content, extra)
	root.Content = append(root.Content, extra, extra)
	if len(b.Content) != 2 || b.Content[0].Value != "3" || b.Content[1].Value != "4" {
		t.Errorf("b changed: %v", b.Content)
	}
	if c := root.Content[5]; len(c.Content) != 2 || c.Content[0].Value != "d" {
		t.Errorf("c changed: %v", c.Content)
	}
	if len(a.Content) != 3 || a.Content[2] != extra {
		t.Errorf("a = %v", a.Content)
	}
}

// FuzzAgreesWithYAMLv3 decodes arbitrary streams with a Decoder and with
// yaml.v3 and wants the same documents and errors; and the same for the
// stream the generator writes with the input as its choices, which is
// more often deep inside the fast parser's subset.
func FuzzAgreesWithYAMLv3(f *testing.F) {
	for _, tt := range cases {
		f.Add([]byte(tt.src))
	}
	for _, in := range corpus(f) {
		if len(in.data) < 4096 {
			f.Add(in.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := agree(data); d != "" {
			t.Errorf("yamlfast and yaml.v3 differ on %q: %s", data, d)
		}
		src := generate(data)
		if d := agree([]byte(src)); d != "" {
			t.Errorf("yamlfast and yaml.v3 differ on the generated %q: %s", src, d)
		}
	})
}

// BenchmarkDecode decodes a virtual host of 20,000 routes, one file of
// 3 MB, with yaml.v3 and with yamlfast.
func BenchmarkDecode(b *testing.B) {
	files, _ := genrepo.Generate(genrepo.Options{VirtualHosts: 1, Routes: 20000})
	var data []byte
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if len(files[name]) > len(data) {
			data = files[name]
		}
	}
	if _, ok := parseFast(data); !ok {
		b.Fatal("the fast parser gave up")
	}
	for _, d := range benchDecoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				decode := d.decode(data)
				for {
					var n yaml.Node
					if err := decode(&n); err != nil {
						break
					}
				}
			}
		})
	}
}

// TestCommentsDropped checks that where yaml.v3 keeps comments in a tree
// and the fast parser reads the stream, the fast parser's tree has none,
// and agrees with yaml.v3's otherwise.
func TestCommentsDropped(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"# head\na: 1 # line\n# foot\n",
		"- a # line\n  # foot\n- b\n",
		"a: [b] # line\n---\n# head\nc: # line\n  d: 'e' # line\n",
	} {
		if !hasComments([]byte(src)) {
			t.Fatalf("yaml.v3 keeps no comment of %q", src)
		}
		docs, ok := parseFast([]byte(src))
		if !ok {
			t.Fatalf("the fast parser gave up on %q", src)
		}
		for _, doc := range docs {
			if hasCommentsNode(doc) {
				t.Errorf("the fast parser kept a comment of %q", src)
			}
		}
		if d := agree([]byte(src)); d != "" {
			t.Errorf("yamlfast and yaml.v3 differ on %q: %s", src, d)
		}
	}
}

// BenchmarkDecodeCommented decodes the files of the example repository,
// comments and all, with yaml.v3 and with yamlfast.
func BenchmarkDecodeCommented(b *testing.B) {
	var files [][]byte
	size := 0
	err := filepath.WalkDir("../../examples/acme", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAML(p) {
			return err
		}
		data, err := os.ReadFile(p)
		if _, ok := parseFast(data); !ok {
			b.Fatalf("the fast parser gave up on %s", p)
		}
		files = append(files, data)
		size += len(data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range benchDecoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range files {
					decode := d.decode(data)
					for {
						var n yaml.Node
						if err := decode(&n); err != nil {
							break
						}
					}
				}
			}
		})
	}
}

// benchDecoders are the decoders the benchmarks compare: each returns the
// Decode of a stream.
var benchDecoders = []struct {
	name   string
	decode func([]byte) func(*yaml.Node) error
}{
	{"yaml.v3", func(data []byte) func(*yaml.Node) error {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		return func(n *yaml.Node) error { return dec.Decode(n) }
	}},
	{"yamlfast", func(data []byte) func(*yaml.Node) error { return NewDecoder(data).Decode }},
}
