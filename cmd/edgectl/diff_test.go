package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edgectl/edgectl/internal/gittest"
)

// TestDiffGolden runs edgectl diff on real git histories. Each
// testdata/diff/*.txtar holds a repository as files under base/, the
// change as files under head/ (added or replaced) and the paths listed in
// "delete" and "rename" (old new), and the expected output of
// `edgectl diff --rev HEAD --against HEAD~1` in want/text, want/markdown
// and want/json. Commit dates are fixed, so commit ids are too.
// EDGECTL_UPDATE_GOLDEN=1 rewrites the want/ sections.
func TestDiffGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/diff/*.txtar")
	if len(files) == 0 {
		t.Fatal("no diff cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			repo := gittest.New(t)
			repo.Date = "2026-01-01T00:00:00Z"
			dir, git := repo.Dir, repo.Git
			write := func(name string, data []byte) { repo.Write(name, string(data)) }
			want := map[string]string{}
			var head []txtar.File
			var del, rename []string
			for _, f := range ar.Files {
				switch name := f.Name; {
				case strings.HasPrefix(name, "base/"):
					write(strings.TrimPrefix(name, "base/"), f.Data)
				case strings.HasPrefix(name, "head/"):
					head = append(head, f)
				case name == "delete":
					del = strings.Fields(string(f.Data))
				case name == "rename":
					rename = strings.Fields(string(f.Data))
				case strings.HasPrefix(name, "want/"):
					want[strings.TrimPrefix(name, "want/")] = string(f.Data)
				}
			}
			git("add", "-A")
			git("commit", "-q", "--allow-empty", "-m", "base")
			for _, f := range head {
				write(strings.TrimPrefix(f.Name, "head/"), f.Data)
			}
			for _, p := range del {
				git("rm", "-q", p)
			}
			for i := 0; i+1 < len(rename); i += 2 {
				git("mv", rename[i], rename[i+1])
			}
			git("add", "-A")
			git("commit", "-q", "--allow-empty", "-m", "head")

			got := map[string]string{}
			for _, format := range []string{"text", "markdown", "json"} {
				var stdout, stderr bytes.Buffer
				code := run([]string{"diff", dir, "--rev", "HEAD", "--against", "HEAD~1", "-o", format}, &stdout, &stderr)
				got[format] = stdout.String()
				if stderr.Len() > 0 {
					got[format] += "[stderr]\n" + strings.ReplaceAll(stderr.String(), dir, "$REPO")
				}
				if code != 0 {
					got[format] += fmt.Sprintf("[exit %d]\n", code)
				}
			}
			if os.Getenv("EDGECTL_UPDATE_GOLDEN") != "" {
				var kept []txtar.File
				for _, f := range ar.Files {
					if !strings.HasPrefix(f.Name, "want/") {
						kept = append(kept, f)
					}
				}
				for _, format := range []string{"text", "markdown", "json"} {
					kept = append(kept, txtar.File{Name: "want/" + format, Data: []byte(got[format])})
				}
				ar.Files = kept
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, format := range []string{"text", "markdown", "json"} {
				if got[format] != want[format] {
					t.Errorf("want/%s differs:\n--- got\n%s\n--- want\n%s", format, got[format], want[format])
				}
			}
		})
	}
}

// TestDiffCacheNeverChangesTheAnswer runs one diff without the cache, with
// a cold cache, with a warm one, and after damaging every cache entry: the
// output must be the same each time.
func TestDiffCacheNeverChangesTheAnswer(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	dir, git := repo.Dir, repo.Git
	ar, err := txtar.ParseFile("testdata/diff/weights-timeouts.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"base/", "head/"} {
		for _, f := range ar.Files {
			if name, ok := strings.CutPrefix(f.Name, phase); ok {
				if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		git("add", "-A")
		git("commit", "-q", "-m", phase)
	}
	cacheDir := t.TempDir()
	diffOut := func(extra ...string) string {
		var stdout, stderr bytes.Buffer
		args := append([]string{"diff", dir, "--rev", "HEAD", "--against", "HEAD~1", "-o", "json"}, extra...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("diff exited %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	want := diffOut("--no-cache")
	if !strings.Contains(want, `"change": 1`) {
		t.Fatalf("unexpected diff:\n%s", want)
	}
	for _, phase := range []string{"cold", "warm"} {
		if got := diffOut("--cache-dir", cacheDir); got != want {
			t.Errorf("%s cache: output differs:\n%s\nwant:\n%s", phase, got, want)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "versions", "*", "*"))
	if len(entries) != 2 {
		t.Fatalf("want 2 cache entries (base and head), found %d", len(entries))
	}
	for _, e := range entries {
		data, _ := os.ReadFile(e)
		data[len(data)/2] ^= 0xff
		if err := os.WriteFile(e, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := diffOut("--cache-dir", cacheDir); got != want {
		t.Errorf("damaged cache: output differs:\n%s", got)
	}

	// One side cached, the other compiled: a zero timeout ("none") must
	// come back from the cache as zero, not as unset.
	zero := `apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: ws}
spec:
  gateway: edge
  hostnames: [ws.example.com]
  routes: [{backend: web, timeout: 0s}]
`
	if err := os.WriteFile(filepath.Join(dir, "ws.yaml"), []byte(zero), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "zero timeout")
	diffOut("--cache-dir", cacheDir, "--against", "HEAD") // caches HEAD
	var stdout, stderr bytes.Buffer
	if code := run([]string{"diff", dir, "--against", "HEAD", "--cache-dir", cacheDir, "--exit-code"}, &stdout, &stderr); code != 0 {
		t.Errorf("the clean working tree against its cached HEAD: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
