package serve

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitRepo is a real repository made with the git CLI.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("these tests need the git CLI")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit replaces the files under sub with files and commits.
func (r *gitRepo) commit(sub string, files map[string]string) string {
	r.t.Helper()
	root := filepath.Join(r.dir, sub)
	des, _ := os.ReadDir(root)
	for _, de := range des {
		if de.Name() != ".git" {
			os.RemoveAll(filepath.Join(root, de.Name()))
		}
	}
	for name, data := range files {
		p := filepath.Join(r.dir, sub, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", "change")
	return r.git("rev-parse", "HEAD")
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
			repo := newGitRepo(t)
			files1 := edgeRepo(map[string]string{"a": "1s"})
			c1 := repo.commit(tt.sub, files1)
			repo.git("checkout", "-q", "-b", "other") // the server follows main, not HEAD
			src := Git{URL: tt.url(repo.dir), Ref: "main", Subdir: tt.sub, Interval: 100 * time.Millisecond, CacheDir: t.TempDir()}
			s := startServer(t, Options{}, src)
			name := src.String()
			want1 := digest(compileFiles(t, files1), "edge")
			eventually(t, "the first commit", func() bool { return s.servedVersion(t, "edge") == want1 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+q(name)+`,revision="`+c1+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c1)
			}
			if code, _ := s.get(t, "/readyz"); code != 200 {
				t.Errorf("/readyz: %d", code)
			}

			// A commit on another branch is not followed.
			repo.commit(tt.sub, edgeRepo(map[string]string{"a": "5s"}))

			// A commit that does not compile.
			repo.git("checkout", "-q", "main")
			broken := edgeRepo(map[string]string{"a": "1s"})
			broken["edge.yaml"] = strings.Replace(broken["edge.yaml"], "protocol: HTTP}", "protocol: HTTTP}", 1)
			c2 := repo.commit(tt.sub, broken)
			errors := `edgectl_serve_source_errors_total{source=` + q(name) + `}`
			eventually(t, "the broken commit to be reported", func() bool { return s.metric(t, errors) == 1 })
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{source=`+q(name)+`,revision="`+c2+`"}`); n != 1 {
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
			c3 := repo.commit(tt.sub, files3)
			want3 := digest(compileFiles(t, files3), "edge")
			eventually(t, "the fixed commit", func() bool { return s.servedVersion(t, "edge") == want3 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+q(name)+`,revision="`+c3+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c3)
			}
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{`); n != -1 {
				t.Errorf("a rejected commit is still reported after a good one")
			}
		})
	}
}
