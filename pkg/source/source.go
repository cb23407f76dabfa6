// Package source opens a routing repository for reading: the project
// directory in the working tree, or a git revision read from the object
// store without a checkout.
package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ProjectFile is the name of the project file at the root of a routing
// repository.
const ProjectFile = "edgectl.yaml"

// OutputMarker marks a directory edgectl wrote. Such directories are never
// read as input, and a later compile may replace them.
const OutputMarker = ".edgectl-output"

// Provenance says where a repository's content came from.
type Provenance struct {
	Repository string `json:"repository,omitempty"`
	Path       string `json:"path,omitempty"` // project directory inside the repository
	Ref        string `json:"ref,omitempty"`  // the revision asked for; empty for the working tree
	Commit     string `json:"commit,omitempty"`
	Dirty      bool   `json:"dirty"`
}

// ErrOutside means a symlink leads outside the repository; edgectl reads
// only what the repository holds.
var ErrOutside = errors.New("symlink leads outside the repository")

// ErrLoop means a chain of symlinks leads back to itself (or is longer
// than any sensible chain); like a dangling link, it is the user's to fix.
var ErrLoop = errors.New("symlink loop")

// Source is an opened repository.
type Source struct {
	// FS is rooted at the project directory, the one holding edgectl.yaml.
	FS fs.FS
	// Prefix is the project directory relative to the root of the git
	// repository ("" at the root or outside git). Diagnostics print paths
	// with it so they are relative to the repository root, as CI expects.
	Prefix     string
	Provenance Provenance

	repo     *Repo   // open while the source is
	worktree bool    // a working tree inside git, which can be dirty
	head     *treeFS // what HEAD holds at Prefix, for a working tree
}

// TreeID is the git object id of the project directory when the source is
// a revision (of the whole repository when the project holds a symlink):
// two sources with the same tree id hold the same files. It is "" for a
// working tree, which may differ from any commit.
func (s *Source) TreeID() string {
	t, ok := s.FS.(*treeFS)
	if !ok {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base == "" {
		return t.root.Hash.String()
	}
	sub, err := t.root.Tree(t.base)
	if err != nil {
		return ""
	}
	// A symlink may lead anywhere in the repository, so a project holding
	// one is identified by the whole tree.
	w := object.NewTreeWalker(sub, true, nil)
	defer w.Close()
	for {
		_, e, err := w.Next()
		if err != nil {
			break
		}
		if e.Mode == filemode.Symlink {
			return t.root.Hash.String()
		}
	}
	return sub.Hash.String()
}

// RepoDir is the working tree root of the git repository the source was
// read from, or "" outside git.
func (s *Source) RepoDir() string {
	if s.repo == nil {
		return ""
	}
	return s.repo.Top
}

// Close releases the git repository behind the source, if any.
func (s *Source) Close() error {
	if s.repo == nil {
		return nil
	}
	return s.repo.Close()
}

// ErrNoProject means no edgectl.yaml was found.
var ErrNoProject = errors.New("no " + ProjectFile + " found")

// FindProject walks up from dir to the directory holding edgectl.yaml,
// stopping at the root of a git repository or of the file system.
func FindProject(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ProjectFile)); err == nil {
			return d, nil
		}
		_, gitErr := os.Stat(filepath.Join(d, ".git"))
		if gitErr == nil || filepath.Dir(d) == d {
			return "", fmt.Errorf("%w in %s or any parent directory up to %s", ErrNoProject, dir, d)
		}
	}
}

// Dir opens the project at dir in the working tree. Inside a git
// repository, the provenance names the commit checked out; whether the
// files differ from it is decided later, by CheckDirty.
func Dir(dir string) (*Source, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Source{FS: dirFS{root: root, fsys: os.DirFS(root)}}
	top := gitTop(root)
	if top == "" {
		return s, nil
	}
	rel, err := filepath.Rel(top, root)
	if err == nil && rel != "." {
		s.Prefix = filepath.ToSlash(rel)
		s.Provenance.Path = s.Prefix
	}
	repo, err := OpenRepo(top)
	if err != nil {
		return s, nil // not readable as git: provenance stays empty
	}
	s.repo, s.worktree = repo, true
	s.Provenance.Repository = repo.Origin()
	if c := repo.Head(); c != nil {
		s.Provenance.Commit = c.Hash.String()
		if t, err := c.Tree(); err == nil {
			if _, err := t.Tree(s.Prefix); s.Prefix == "" || err == nil {
				s.head = &treeFS{root: t, base: s.Prefix, mu: &sync.Mutex{}}
			}
		}
	}
	return s, nil
}

// gitTop returns the nearest enclosing directory with a .git entry.
func gitTop(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// CheckDirty records whether a working tree differs from the commit it is
// on, as far as the compile is concerned: read holds every input the compile
// read (by project-relative path), and input reports whether a path would
// be one. A changed, new or deleted input makes the source dirty; files the
// compile never reads (build output, editor files) do not.
func (s *Source) CheckDirty(read map[string][]byte, input func(string) bool) {
	if !s.worktree {
		return // a revision is what it is
	}
	if s.head == nil {
		// The project is not in the commit checked out (or nothing is).
		s.Provenance.Dirty = true
		return
	}
	s.head.mu.Lock()
	defer s.head.mu.Unlock()
	// Inputs were read through symlinks; so is the commit.
	for p, data := range read {
		e, _, err := s.head.resolve(s.head.full(p), true)
		if err != nil || e.Hash != plumbing.ComputeHash(plumbing.BlobObject, data) {
			s.Provenance.Dirty = true
			return
		}
	}
	sub := s.head.root
	if s.Prefix != "" {
		var err error
		if sub, err = sub.Tree(s.Prefix); err != nil {
			return
		}
	}
	w := object.NewTreeWalker(sub, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err != nil {
			return
		}
		if e.Mode.IsFile() && input(name) {
			if _, ok := read[name]; !ok {
				s.Provenance.Dirty = true // deleted, or no longer read
				return
			}
		}
	}
}

// dirFS is the working tree of a project. It is os.DirFS, except that a
// path whose symlinks lead outside the repository cannot be read.
type dirFS struct {
	root string
	fsys fs.FS
}

func (d dirFS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(d.root, filepath.FromSlash(name)))
	if isLoop(err) {
		return &fs.PathError{Op: op, Path: name, Err: ErrLoop}
	}
	if err != nil {
		return nil // let the file system report it
	}
	top := gitTop(d.root)
	if top == "" {
		top = d.root
	}
	if rel, err := filepath.Rel(top, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return &fs.PathError{Op: op, Path: name, Err: ErrOutside}
	}
	return nil
}

func (d dirFS) Open(name string) (fs.File, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	f, err := d.fsys.Open(name)
	return f, loopError("open", name, err)
}

func (d dirFS) ReadFile(name string) ([]byte, error) {
	if err := d.check("read", name); err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(d.fsys, name)
	return data, loopError("read", name, err)
}

// isLoop reports whether err says a chain of symlinks does not end: the
// system's ELOOP, or filepath.EvalSymlinks' own limit, which it reports
// without an error value to test for.
func isLoop(err error) bool {
	return err != nil && (errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "too many links"))
}

func loopError(op, name string, err error) error {
	if isLoop(err) {
		return &fs.PathError{Op: op, Path: name, Err: ErrLoop}
	}
	return err
}

func (d dirFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.fsys, name) }
func (d dirFS) ReadLink(name string) (string, error)       { return fs.ReadLink(d.fsys, name) }
func (d dirFS) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(d.fsys, name) }
