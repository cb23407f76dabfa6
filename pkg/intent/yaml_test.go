package intent

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edgectl/edgectl/pkg/diag"
)

// updateGolden names the environment variable that rewrites golden files.
const updateGolden = "EDGECTL_UPDATE_GOLDEN"

// TestBrokenYAML loads every case of the shared corpus of broken YAML,
// ../../testdata/yaml-broken/*.txtar. A case holds one file (any name not
// "want"; a name ending in " (escaped)" is written with \xHH, \r, \t, \\
// escapes and \{N*TEXT} repetitions, for bytes a text file cannot show)
// and, under "want", the findings edgectl prints for it. With
// EDGECTL_UPDATE_GOLDEN=1 the want sections are rewritten.
func TestBrokenYAML(t *testing.T) {
	files, err := filepath.Glob("../../testdata/yaml-broken/*.txtar")
	if err != nil || len(files) < 40 {
		t.Fatalf("want at least 40 cases, found %d (%v)", len(files), err)
	}
	sch, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(ar.Comment)) == "" {
				t.Errorf("the comment must say what the case shows")
			}
			name, data, want, err := brokenCase(ar)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := parseFile(sch, name, data, intentFile)
			checkPositions(t, name, data, diags)
			var got bytes.Buffer
			if err := diag.Write(&got, diags.Sorted(), "text", diag.Tool{}); err != nil {
				t.Fatal(err)
			}
			if os.Getenv(updateGolden) != "" {
				for i := range ar.Files {
					if ar.Files[i].Name == "want" {
						ar.Files[i].Data = got.Bytes()
					}
				}
				if want == nil {
					ar.Files = append(ar.Files, txtar.File{Name: "want", Data: got.Bytes()})
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got.String() != string(want) {
				t.Errorf("findings differ\n--- got\n%s--- want\n%s", got.String(), want)
			}
		})
	}
}

// brokenCase returns the input file of a corpus case and its expected
// findings.
func brokenCase(ar *txtar.Archive) (name string, data, want []byte, err error) {
	for _, f := range ar.Files {
		switch {
		case f.Name == "want":
			want = f.Data
		case strings.HasSuffix(f.Name, " (escaped)"):
			name = strings.TrimSuffix(f.Name, " (escaped)")
			if data, err = unescape(f.Data); err != nil {
				return "", nil, nil, err
			}
		default:
			name, data = f.Name, f.Data
		}
	}
	return name, data, want, nil
}

// unescape reads the escaped form of a corpus file: \xHH is a byte, \r,
// \t and \\ what they are in Go, and \{N*TEXT} is TEXT N times. The final
// newline txtar adds is dropped when the text ends with \z.
func unescape(src []byte) ([]byte, error) {
	s := string(src)
	if t, ok := strings.CutSuffix(s, "\\z\n"); ok {
		s = t
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'x':
			b, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, err
			}
			out = append(out, byte(b))
			i += 2
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '\\':
			out = append(out, '\\')
		case '{':
			end := strings.IndexByte(s[i:], '}')
			n, text, _ := strings.Cut(s[i+1:i+end], "*")
			count, err := strconv.Atoi(n)
			if err != nil {
				return nil, err
			}
			out = append(out, strings.Repeat(text, count)...)
			i += end
		default:
			out = append(out, '\\', s[i])
		}
	}
	return out, nil
}

// checkPositions holds every finding about the file to a position inside
// it: a line, a column, both within the text.
func checkPositions(t *testing.T, name string, data []byte, diags diag.List) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	for _, d := range diags {
		if d.Pos.File != name {
			continue
		}
		if d.Pos.Line < 1 || d.Pos.Line > len(lines) {
			t.Errorf("line out of the file (%d lines): %s", len(lines), d)
			continue
		}
		line := bytes.TrimSuffix(lines[d.Pos.Line-1], []byte("\r"))
		if n := utf8.RuneCount(line); d.Pos.Col < 1 || d.Pos.Col > n+1 {
			t.Errorf("column out of line %d (%d characters): %s", d.Pos.Line, n, d)
		}
	}
}

// FuzzParseFile feeds arbitrary bytes to the loader as an intent file.
// Whatever the input: no panic, and every finding about the file has a
// line and a column within it.
func FuzzParseFile(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/yaml-broken/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if _, data, _, err := brokenCase(ar); err == nil && len(data) < 1<<16 {
			f.Add(data)
		}
	}
	sch, err := compiledSchema()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, diags := parseFile(sch, "intents.yaml", data, intentFile)
		checkPositions(t, "intents.yaml", data, diags)
	})
}
