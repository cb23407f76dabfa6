package source

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/edgectl/edgectl/pkg/diag"
)

// ErrNoRevision means a revision does not exist in the repository.
var ErrNoRevision = errors.New("unknown revision")

// ErrNoRepository means a revision was asked of a directory outside git.
var ErrNoRepository = errors.New("not in a git repository")

// Repo is an opened git repository. Close it when done.
type Repo struct {
	// Top is the working tree root ("" for a bare repository).
	Top     string
	repo    *git.Repository
	storage *filesystem.Storage
	shallow bool
}

// OpenRepo opens the git repository whose working tree or git directory is
// dir. Objects are read from the object store with descriptors kept open
// and a larger object cache, which makes reading thousands of small files
// several times faster than go-git's defaults.
func OpenRepo(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	gitDir, top := filepath.Join(abs, ".git"), abs
	if fi, err := os.Stat(gitDir); err != nil || !fi.IsDir() {
		if isGitDir(abs) {
			gitDir, top = abs, ""
			if filepath.Base(abs) == ".git" {
				top = filepath.Dir(abs)
			}
		} else if err == nil {
			// A .git file: a linked worktree or a submodule. go-git's own
			// discovery follows it; it is slower but rare.
			r, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
			if err != nil {
				return nil, fmt.Errorf("open git repository %s: %w", dir, err)
			}
			return &Repo{Top: abs, repo: r}, nil
		} else {
			return nil, fmt.Errorf("%s is not a git repository", dir)
		}
	}
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(256*cache.MiByte), filesystem.Options{KeepDescriptors: true})
	r, err := git.Open(st, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	shallow, _ := st.Shallow()
	return &Repo{Top: top, repo: r, storage: st, shallow: len(shallow) > 0}, nil
}

func isGitDir(dir string) bool {
	for _, f := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// Close releases the repository's file descriptors.
func (r *Repo) Close() error {
	if r.storage != nil {
		return r.storage.Close()
	}
	return nil
}

// Resolve turns a revision into a commit: a branch, a remote branch such as
// origin/main, a tag (annotated tags are peeled), a full or short SHA, or
// an expression like HEAD~2. Reflog forms (HEAD@{1}) are refused: go-git
// would silently read them as HEAD.
func (r *Repo) Resolve(rev string) (*object.Commit, error) {
	if strings.Contains(rev, "@{") {
		return nil, fmt.Errorf("revision %q: reflog forms such as HEAD@{1} are not supported; name the commit by its SHA or a branch", rev)
	}
	if rev == "" {
		rev = "HEAD"
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, r.missing(rev, err)
	}
	c, err := r.repo.CommitObject(*h)
	if err != nil {
		return nil, r.missing(rev, err)
	}
	return c, nil
}

// missing explains a revision that cannot be read, with the fetch that
// would bring it when the clone is shallow (CI often clones with depth 1).
func (r *Repo) missing(rev string, err error) error {
	if !r.shallow {
		if errors.Is(err, io.EOF) && strings.ContainsAny(rev, "~^") {
			return fmt.Errorf("%w %q: the history does not go back that far", ErrNoRevision, rev)
		}
		if s := diag.Suggest(rev, r.Refs()); s != "" {
			return fmt.Errorf("%w %q (did you mean %q?)", ErrNoRevision, rev, s)
		}
		return fmt.Errorf("%w %q: %v", ErrNoRevision, rev, err)
	}
	fix := "git fetch --unshallow"
	switch {
	case strings.Contains(rev, "~") || strings.Contains(rev, "^"):
		fix = "git fetch --deepen=50 (or git fetch --unshallow)"
	case r.looksLikeTag(rev):
		fix = fmt.Sprintf("git fetch origin tag %s", strings.TrimPrefix(rev, "refs/tags/"))
	case !looksLikeSHA(rev):
		branch := strings.TrimPrefix(strings.TrimPrefix(rev, "origin/"), "refs/heads/")
		fix = fmt.Sprintf("git fetch origin %s:refs/remotes/origin/%s", branch, branch)
	}
	return fmt.Errorf("%w %q: this is a shallow clone and the revision is not in it; fetch it first: %s (in GitHub Actions, set fetch-depth: 0 on actions/checkout)", ErrNoRevision, rev, fix)
}

// Refs lists the names a revision can be given by: local branches, remote
// branches as origin/main, and tags, sorted. It is for hints and shell
// completion, so a reference that cannot be read is left out.
func (r *Repo) Refs() []string {
	it, err := r.repo.References()
	if err != nil {
		return nil
	}
	defer it.Close()
	var names []string
	_ = it.ForEach(func(ref *plumbing.Reference) error {
		n := ref.Name()
		if ref.Type() == plumbing.SymbolicReference && n != plumbing.HEAD {
			return nil // origin/HEAD names a branch already listed
		}
		if n.IsBranch() || n.IsRemote() || n.IsTag() {
			names = append(names, n.Short())
		}
		return nil
	})
	slices.Sort(names)
	return slices.Compact(names)
}

func (r *Repo) looksLikeTag(rev string) bool {
	return strings.HasPrefix(rev, "refs/tags/") || strings.HasPrefix(rev, "v") && strings.ContainsAny(rev, "0123456789")
}

func looksLikeSHA(rev string) bool {
	if len(rev) < 4 || len(rev) > 40 {
		return false
	}
	for _, c := range rev {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Origin returns the URL of the remote "origin", without credentials.
func (r *Repo) Origin() string {
	rem, err := r.repo.Remote("origin")
	if err != nil || len(rem.Config().URLs) == 0 {
		return ""
	}
	u := rem.Config().URLs[0]
	if p, err := url.Parse(u); err == nil && p.User != nil {
		p.User = nil
		return p.String()
	}
	return u
}

// Head returns the commit the working tree is on, or nil for an empty
// repository.
func (r *Repo) Head() *object.Commit {
	c, err := r.Resolve("HEAD")
	if err != nil {
		return nil
	}
	return c
}

// Git opens the project at subdir of the repository as of rev. It returns
// ErrNoProject when that revision has no edgectl.yaml there.
func (r *Repo) Git(rev, subdir string) (*Source, error) {
	c, err := r.Resolve(rev)
	if err != nil {
		return nil, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", rev, err)
	}
	root := tree
	subdir = strings.Trim(filepath.ToSlash(subdir), "/")
	if subdir != "" && subdir != "." {
		if root, err = tree.Tree(subdir); err != nil {
			return nil, fmt.Errorf("%w at %s in %s", ErrNoProject, subdir, rev)
		}
	} else {
		subdir = ""
	}
	if _, err := root.FindEntry(ProjectFile); err != nil && !treeHasGatewayAPI(root) {
		where := "the root"
		if subdir != "" {
			where = subdir
		}
		return nil, fmt.Errorf("%w at %s of %s", ErrNoProject, where, rev)
	}
	return &Source{
		FS:     &treeFS{root: tree, base: subdir, mu: &sync.Mutex{}},
		Prefix: subdir,
		Provenance: Provenance{
			Repository: r.Origin(),
			Path:       subdir,
			Ref:        rev,
			Commit:     c.Hash.String(),
		},
	}, nil
}

// RefsAround lists the revision names (Refs) of the git repository that
// holds dir, or nothing when dir is in none. It is for shell completion.
func RefsAround(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	top := gitTop(abs)
	if top == "" {
		return nil
	}
	r, err := OpenRepo(top)
	if err != nil {
		return nil
	}
	defer r.Close()
	return r.Refs()
}
