package serve

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgectl/edgectl/internal/gittest"
)

// commitFiles replaces the files under sub of the repository with files,
// and commits.
func commitFiles(r *gittest.Repo, sub string, files map[string]string) string {
	root := filepath.Join(r.Dir, sub)
	des, _ := os.ReadDir(root)
	for _, de := range des {
		if de.Name() != ".git" {
			os.RemoveAll(filepath.Join(root, de.Name()))
		}
	}
	for name, data := range files {
		r.Write(path.Join(sub, name), data)
	}
	return r.Commit("change")
}

// TestGitSource follows a branch of a git remote: the first commit is
// compiled and served, a commit that does not compile is reported with its
// commit and changes nothing, and the next good commit is served.
func TestGitSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  func(dir string) string
		sub  string
	}{
		{"file URL", func(dir string) string { return "file://" + dir }, ""},
		{"local path, project in a subdirectory", func(dir string) string { return dir }, "routing/edge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.New(t)
			files1 := edgeRepo(map[string]string{"a": "1s"})
			c1 := commitFiles(repo, tt.sub, files1)
			repo.Git("checkout", "-q", "-b", "other") // the server follows main, not HEAD
			src := Git{URL: tt.url(repo.Dir), Ref: "main", Subdir: tt.sub, Interval: 100 * time.Millisecond, CacheDir: t.TempDir()}
			s := startServer(t, Options{}, src)
			name := src.String()
			want1 := digest(compileFiles(t, files1), "edge")
			eventually(t, "the first commit", func() bool { return s.servedVersion(t, "edge") == want1 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+strconv.Quote(name)+`,revision="`+c1+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c1)
			}
			if code, _ := s.get(t, "/readyz"); code != 200 {
				t.Errorf("/readyz: %d", code)
			}

			// A commit on another branch is not followed.
			commitFiles(repo, tt.sub, edgeRepo(map[string]string{"a": "5s"}))

			// A commit that does not compile.
			repo.Git("checkout", "-q", "main")
			broken := edgeRepo(map[string]string{"a": "1s"})
			broken["edge.yaml"] = strings.Replace(broken["edge.yaml"], "protocol: HTTP}", "protocol: HTTTP}", 1)
			c2 := commitFiles(repo, tt.sub, broken)
			errors := `edgectl_serve_source_errors_total{source=` + strconv.Quote(name) + `}`
			eventually(t, "the broken commit to be reported", func() bool { return s.metric(t, errors) == 1 })
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{source=`+strconv.Quote(name)+`,revision="`+c2+`"}`); n != 1 {
				t.Errorf("the rejected commit %s is not in the metrics", c2)
			}
			if got := s.servedVersion(t, "edge"); got != want1 {
				t.Errorf("after a broken commit the version is %s, want the last good %s", got, want1)
			}
			if !containsLine(s.log.String(), "keeping the last good version", "revision="+c2, "the repository was rejected", "protocol") {
				t.Errorf("the log does not say why commit %s was rejected", c2)
			}
			time.Sleep(300 * time.Millisecond) // more fetches: the same commit is reported once
			if n := s.metric(t, errors); n != 1 {
				t.Errorf("source errors after re-fetching a broken commit: %v, want 1", n)
			}

			files3 := edgeRepo(map[string]string{"a": "3s"})
			c3 := commitFiles(repo, tt.sub, files3)
			want3 := digest(compileFiles(t, files3), "edge")
			eventually(t, "the fixed commit", func() bool { return s.servedVersion(t, "edge") == want3 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+strconv.Quote(name)+`,revision="`+c3+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c3)
			}
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{`); n != -1 {
				t.Errorf("a rejected commit is still reported after a good one")
			}
		})
	}
}
