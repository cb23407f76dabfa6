package yamlfast

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// input is a stream to decode, named for messages.
type input struct {
	name string
	data []byte
}

// corpusDirs are the repository's directories of test data and examples,
// relative to this package.
var corpusDirs = []string{
	"../../testdata",
	"../../cmd/edgectl/testdata",
	"../../examples",
}

// corpus returns every file under the repository's test data directories
// and examples; a .txtar archive gives each of its files (also the escaped
// form of a broken-YAML case unescaped).
func corpus(t testing.TB) []input {
	t.Helper()
	dirs := append([]string(nil), corpusDirs...)
	pkgs, err := filepath.Glob("../*/testdata")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, pkgs...)
	var out []input
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(p, ".txtar") {
				out = append(out, input{p, data})
				return nil
			}
			for _, f := range txtar.Parse(data).Files {
				out = append(out, input{p + ":" + f.Name, f.Data})
				if strings.HasSuffix(f.Name, " (escaped)") {
					out = append(out, input{p + ":" + f.Name + " unescaped", unescape(f.Data)})
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 500 {
		t.Fatalf("found %d inputs under %v; want the repository's test data", len(out), dirs)
	}
	return out
}

// unescape reads the \xHH, \r, \t and \\ escapes of the broken-YAML cases
// well enough to feed their bytes to both parsers.
func unescape(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); i++ {
		if src[i] != '\\' || i+1 == len(src) {
			out = append(out, src[i])
			continue
		}
		switch src[i+1] {
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '\\':
			out = append(out, '\\')
		case 'x':
			if b, err := strconv.ParseUint(string(src[i+2:min(i+4, len(src))]), 16, 8); err == nil {
				out = append(out, byte(b))
				i += 2
				break
			}
			out = append(out, '\\', 'x')
		default:
			out = append(out, '\\', src[i+1])
		}
		i++
	}
	return out
}

// TestCorpus decodes every file of the repository's test data with a
// Decoder and with yaml.v3.
func TestCorpus(t *testing.T) {
	t.Parallel()
	fast := 0
	for _, in := range corpus(t) {
		if d := agree(in.data); d != "" {
			t.Errorf("%s: yamlfast and yaml.v3 differ: %s", in.name, d)
		}
		if _, ok := parseFast(in.data); ok {
			fast++
		}
	}
	t.Logf("the fast parser read %d inputs", fast)
}
