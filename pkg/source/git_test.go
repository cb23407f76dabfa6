package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/internal/gittest"
)

func read(t *testing.T, s *Source, name string) string {
	t.Helper()
	b, err := fs.ReadFile(s.FS, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// history builds: c1 (v1) on main, c2 on feature, c3 on main, merge of
// feature; tags: v1 lightweight, v2 annotated on the merge.
func history(t *testing.T) (*gittest.Repo, map[string]string) {
	r := gittest.New(t)
	c := map[string]string{}
	r.Write("edge/edgectl.yaml", "project: 1\n")
	r.Write("edge/a.yaml", "a: 1\n")
	r.Write("README", "top\n")
	c["c1"] = r.Commit("c1")
	r.Git("tag", "v1")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("edge/b.yaml", "b: feature\n")
	c["c2"] = r.Commit("c2")
	r.Git("checkout", "-q", "main")
	r.Write("edge/a.yaml", "a: 3\n")
	c["c3"] = r.Commit("c3")
	r.Git("merge", "-q", "--no-edit", "feature")
	c["merge"] = r.Git("rev-parse", "HEAD")
	r.Git("tag", "-a", "v2", "-m", "release 2")
	return r, c
}

func TestRevisions(t *testing.T) {
	t.Parallel()
	r, c := history(t)
	repo, err := OpenRepo(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tests := []struct {
		rev, commit, a string
		hasB           bool
	}{
		{"main", c["merge"], "a: 3\n", true},
		{"HEAD", c["merge"], "a: 3\n", true},
		{"feature", c["c2"], "a: 1\n", true},
		{"v1", c["c1"], "a: 1\n", false},
		{"refs/tags/v1", c["c1"], "a: 1\n", false},
		{"v2", c["merge"], "a: 3\n", true}, // annotated: peeled to the commit
		{c["c3"], c["c3"], "a: 3\n", false},
		{c["c3"][:8], c["c3"], "a: 3\n", false},
		{"HEAD~1", c["c3"], "a: 3\n", false}, // first parent of the merge
		{"HEAD^2", c["c2"], "a: 1\n", true},  // second parent
		{"main~2", c["c1"], "a: 1\n", false},
	}
	for _, tc := range tests {
		src, err := repo.Git(tc.rev, "edge")
		if err != nil {
			t.Errorf("%s: %v", tc.rev, err)
			continue
		}
		if src.Provenance.Commit != tc.commit {
			t.Errorf("%s: commit %s, want %s", tc.rev, src.Provenance.Commit, tc.commit)
		}
		if got := read(t, src, "a.yaml"); got != tc.a {
			t.Errorf("%s: a.yaml = %q, want %q", tc.rev, got, tc.a)
		}
		if _, err := fs.Stat(src.FS, "b.yaml"); (err == nil) != tc.hasB {
			t.Errorf("%s: b.yaml exists = %v, want %v", tc.rev, err == nil, tc.hasB)
		}
		if src.Prefix != "edge" || src.Provenance.Path != "edge" || src.Provenance.Ref != tc.rev || src.Provenance.Dirty {
			t.Errorf("%s: provenance %+v, prefix %q", tc.rev, src.Provenance, src.Prefix)
		}
	}
}

func TestRevisionErrors(t *testing.T) {
	t.Parallel()
	r, _ := history(t)
	repo, err := OpenRepo(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if _, err := repo.Git("HEAD@{1}", "edge"); err == nil || !strings.Contains(err.Error(), "reflog forms") {
		t.Errorf("HEAD@{1}: %v, want a refusal of reflog forms", err)
	}
	if _, err := repo.Git("nope", "edge"); !errors.Is(err, ErrNoRevision) || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("unknown revision: %v", err)
	}
	// A typo of a branch or tag gets a hint; a name far from every ref does not.
	for rev, want := range map[string]string{"mian": "main", "v3": "v1", "man~1": ""} {
		_, err := repo.Git(rev, "edge")
		hint := fmt.Sprintf("(did you mean %q?)", want)
		if !errors.Is(err, ErrNoRevision) || want != "" && !strings.Contains(err.Error(), hint) {
			t.Errorf("%s: %v, want %s", rev, err, hint)
		}
	}
	if refs := repo.Refs(); !slices.Contains(refs, "main") || !slices.Contains(refs, "v1") || !slices.Contains(refs, "v2") || slices.Contains(refs, "HEAD") {
		t.Errorf("refs: %v, want main, v1 and v2 and no HEAD", refs)
	}
	if _, err := repo.Git("main", "elsewhere"); !errors.Is(err, ErrNoProject) {
		t.Errorf("missing project: %v", err)
	}
	if _, err := repo.Git("v1", ""); !errors.Is(err, ErrNoProject) {
		t.Errorf("no edgectl.yaml at the root: %v", err)
	}
}

func TestDetachedHeadAndRemoteBranch(t *testing.T) {
	t.Parallel()
	r, c := history(t)
	clone := gittest.At(t, t.TempDir())
	clone.Git("clone", "-q", r.Dir, ".")
	clone.Git("checkout", "-q", "--detach", c["c3"])
	// Only origin/feature exists here; branch=feature falls back to it.
	spec, err := ParseSpec(filepath.Join(clone.Dir, ".git") + "#branch=feature,subdir=edge")
	if err != nil {
		t.Fatal(err)
	}
	src, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Provenance.Commit != c["c2"] {
		t.Errorf("branch=feature in a clone: commit %s, want %s", src.Provenance.Commit, c["c2"])
	}
	// The working tree of a detached HEAD records that commit.
	wt, err := Dir(filepath.Join(clone.Dir, "edge"))
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Close()
	if wt.Provenance.Commit != c["c3"] || wt.Prefix != "edge" {
		t.Errorf("detached working tree: %+v", wt.Provenance)
	}
	// A plain branch name, with or without ancestry, finds origin/feature
	// when there is no local feature branch.
	for rev, want := range map[string]string{"feature": c["c2"], "feature~0": c["c2"], "feature^": clone.Git("rev-parse", "origin/feature^")} {
		s, err := Open(Spec{Dir: clone.Dir, Rev: rev, Subdir: "edge"})
		if err != nil {
			t.Fatalf("%s: %v", rev, err)
		}
		if s.Provenance.Commit != want {
			t.Errorf("%s: commit %s, want %s", rev, s.Provenance.Commit, want)
		}
		s.Close()
	}
	if _, err := Open(Spec{Dir: clone.Dir, Rev: "main~50", Subdir: "edge"}); err == nil || !strings.Contains(err.Error(), "does not go back that far") {
		t.Errorf("main~50: %v", err)
	}
	for _, rev := range []string{"origin/main", "refs/remotes/origin/main"} {
		s, err := Open(Spec{Dir: clone.Dir, Rev: rev, Subdir: "edge"})
		if err != nil {
			t.Fatalf("%s: %v", rev, err)
		}
		if s.Provenance.Commit != c["merge"] {
			t.Errorf("%s: commit %s, want %s", rev, s.Provenance.Commit, c["merge"])
		}
		s.Close()
	}
}

func TestShallowCloneExplainsTheFetch(t *testing.T) {
	t.Parallel()
	r, _ := history(t)
	shallow := gittest.At(t, t.TempDir())
	shallow.Git("clone", "-q", "--depth", "1", "file://"+r.Dir, ".")
	repo, err := OpenRepo(shallow.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if _, err := repo.Git("HEAD", "edge"); err != nil {
		t.Fatalf("HEAD of a shallow clone: %v", err)
	}
	_, err = repo.Git("HEAD~1", "edge")
	if !errors.Is(err, ErrNoRevision) || !strings.Contains(err.Error(), "shallow clone") || !strings.Contains(err.Error(), "git fetch --deepen") {
		t.Errorf("HEAD~1 in a shallow clone: %v", err)
	}
	_, err = repo.Git("feature", "edge")
	fix := "git fetch origin feature:refs/remotes/origin/feature"
	if err == nil || !strings.Contains(err.Error(), fix) {
		t.Fatalf("missing branch in a shallow clone: %v", err)
	}
	// The fetch the message names is enough for the same revision.
	shallow.Git(strings.Fields(strings.TrimPrefix(fix, "git "))...)
	s, err := Open(Spec{Dir: shallow.Dir, Rev: "feature", Subdir: "edge"})
	if err != nil {
		t.Fatalf("after %s: %v", fix, err)
	}
	s.Close()
}

func TestParseSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Spec
		err  string
	}{
		{"examples/acme", Spec{Dir: "examples/acme"}, ""},
		{".git#branch=main,subdir=edge", Spec{Dir: ".", Rev: "refs/heads/main", Subdir: "edge", Git: true}, ""},
		{".git#tag=v1.2", Spec{Dir: ".", Rev: "refs/tags/v1.2", Git: true}, ""},
		{"../other/.git#ref=abc123,depth=1", Spec{Dir: "../other", Rev: "abc123", Git: true}, ""},
		{".git", Spec{Dir: ".", Rev: "HEAD", Git: true}, ""},
		{"../other.git#branch=main", Spec{Dir: "../other.git", Rev: "refs/heads/main", Git: true}, ""},
		{".git#branch=a,tag=b", Spec{}, "only one of"},
		{".git#bogus=1", Spec{}, "unknown option"},
	}
	for _, tc := range tests {
		got, err := ParseSpec(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestSymlinks(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("edge/edgectl.yaml", "project: 1\n")
	r.Write("lib/common.yaml", "shared: 1\n")
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("secret: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"edge/inside.yaml":   "../lib/common.yaml",
		"edge/escape.yaml":   "../../../../../../../../" + strings.TrimPrefix(outside, "/"),
		"edge/absolute.yaml": outside,
	} {
		if err := os.Symlink(target, filepath.Join(r.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	r.Commit("links")
	wt, err := Dir(filepath.Join(r.Dir, "edge"))
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Close()
	repo, err := OpenRepo(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	rev, err := repo.Git("HEAD", "edge")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []*Source{wt, rev} {
		if got := read(t, src, "inside.yaml"); got != "shared: 1\n" {
			t.Errorf("a symlink inside the repository reads %q", got)
		}
		for _, name := range []string{"escape.yaml", "absolute.yaml"} {
			if _, err := fs.ReadFile(src.FS, name); !errors.Is(err, ErrOutside) {
				t.Errorf("%s: %v, want ErrOutside", name, err)
			}
		}
	}
}

func TestDirty(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("edge/edgectl.yaml", "project: 1\n")
	r.Write("edge/a.yaml", "a: 1\n")
	r.Write("edge/notes.txt", "not an input\n")
	r.Commit("one")
	isInput := func(p string) bool { return strings.HasSuffix(p, ".yaml") }
	check := func(read map[string][]byte) bool {
		src, err := Dir(filepath.Join(r.Dir, "edge"))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		src.CheckDirty(read, isInput)
		return src.Provenance.Dirty
	}
	clean := map[string][]byte{"edgectl.yaml": []byte("project: 1\n"), "a.yaml": []byte("a: 1\n")}
	if check(clean) {
		t.Error("clean working tree reported dirty")
	}
	if !check(map[string][]byte{"edgectl.yaml": []byte("project: 1\n"), "a.yaml": []byte("a: 2\n")}) {
		t.Error("changed input not reported")
	}
	if !check(map[string][]byte{"edgectl.yaml": []byte("project: 1\n"), "a.yaml": []byte("a: 1\n"), "new.yaml": []byte("n: 1\n")}) {
		t.Error("new input not reported")
	}
	if !check(map[string][]byte{"edgectl.yaml": []byte("project: 1\n")}) {
		t.Error("deleted input not reported")
	}
	r.Write("edge/notes.txt", "changed, but not read\n")
	if check(clean) {
		t.Error("a change to a file that is not an input made the tree dirty")
	}
}

// TestSymlinkedInputs: a project that reads a file elsewhere in the
// repository through a symlink is identified by what it reads. The commit
// that changes only the link's target is a different version (the diff
// cache keys on TreeID), and a working tree that matches its commit is
// clean.
func TestSymlinkedInputs(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("edge/edgectl.yaml", "project: 1\n")
	r.Write("lib/backends.yaml", "b: 1\n")
	if err := os.Symlink("../lib/backends.yaml", filepath.Join(r.Dir, "edge/backends.yaml")); err != nil {
		t.Fatal(err)
	}
	r.Commit("one")
	r.Write("lib/backends.yaml", "b: 2\n")
	r.Commit("two")

	repo, err := OpenRepo(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	one, err := repo.Git("HEAD~1", "edge")
	if err != nil {
		t.Fatal(err)
	}
	two, err := repo.Git("HEAD", "edge")
	if err != nil {
		t.Fatal(err)
	}
	if one.TreeID() == two.TreeID() {
		t.Error("two versions that read different files share a tree id")
	}

	wt, err := Dir(filepath.Join(r.Dir, "edge"))
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Close()
	isInput := func(p string) bool { return strings.HasSuffix(p, ".yaml") }
	wt.CheckDirty(map[string][]byte{"edgectl.yaml": []byte("project: 1\n"), "backends.yaml": []byte("b: 2\n")}, isInput)
	if wt.Provenance.Dirty {
		t.Error("a clean working tree with a symlinked input reported dirty")
	}
	wt.CheckDirty(map[string][]byte{"edgectl.yaml": []byte("project: 1\n"), "backends.yaml": []byte("b: 3\n")}, isInput)
	if !wt.Provenance.Dirty {
		t.Error("an uncommitted change to a symlink's target not reported")
	}
}
