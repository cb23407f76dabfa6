// Package gittest makes real git repositories with the git CLI, for tests
// of the code that reads them with go-git.
package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a directory the git CLI works in.
type Repo struct {
	t   testing.TB
	Dir string
	// Date, if set, is the author and committer date of every commit, so
	// commit ids are the same from run to run.
	Date string
}

// New initialises a repository on branch main in a fresh directory.
func New(t testing.TB) *Repo {
	t.Helper()
	r := At(t, t.TempDir())
	r.Git("init", "-q", "-b", "main")
	return r
}

// At works in dir, which the caller fills (git clone, for example).
func At(t testing.TB, dir string) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("these tests need the git CLI")
	}
	return &Repo{t: t, Dir: dir}
}

// Git runs git with args and returns its trimmed output. The user's and the
// system's git configuration are ignored.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if r.Date != "" {
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+r.Date, "GIT_COMMITTER_DATE="+r.Date)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Write writes a file of the working tree, making its directories.
func (r *Repo) Write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything and commits it (an empty commit if nothing
// changed), returning the commit id.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}
