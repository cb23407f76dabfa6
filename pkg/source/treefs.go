package source

import (
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeFS is a read-only file system over a git tree, rooted at base. Files
// are read from the object store as they are opened. Symlinks are followed
// while they stay inside the repository.
//
// go-git's object store is not safe for concurrent use (with descriptors
// kept open, concurrent reads corrupt each other), so every access to it
// holds mu. Reading is fast; parsing, which runs in parallel, is not.
type treeFS struct {
	root *object.Tree // the whole repository, for symlinks leaving base
	base string       // the project directory inside it
	mu   *sync.Mutex
}

func (t *treeFS) full(name string) string {
	if t.base == "" {
		return name
	}
	if name == "." {
		return t.base
	}
	return t.base + "/" + name
}

// maxLinks bounds how many symlinks a path may pass through.
const maxLinks = 16

// resolve finds the entry for a repository path, following symlinks.
func (t *treeFS) resolve(full string, follow bool) (*object.TreeEntry, string, error) {
	for hops := 0; ; hops++ {
		if full == "" || full == "." {
			return &object.TreeEntry{Mode: filemode.Dir}, "", nil
		}
		e, err := t.root.FindEntry(full)
		if err != nil {
			return nil, "", fs.ErrNotExist
		}
		if e.Mode != filemode.Symlink || !follow {
			return e, full, nil
		}
		if hops >= maxLinks {
			return nil, "", ErrLoop
		}
		target, err := t.blob(e)
		if err != nil {
			return nil, "", err
		}
		next, ok := within(path.Dir(full), string(target))
		if !ok {
			return nil, "", ErrOutside
		}
		full = next
	}
}

// within joins a symlink target to the directory of the link and reports
// whether the result stays inside the repository.
func within(dir, target string) (string, bool) {
	if path.IsAbs(target) {
		return "", false
	}
	p := path.Join(dir, target)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

func (t *treeFS) blob(e *object.TreeEntry) ([]byte, error) {
	f, err := t.root.TreeEntryFile(e)
	if err != nil {
		return nil, err
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (t *treeFS) Open(name string) (fs.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, full, err := t.resolve(t.full(name), true)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := entryInfo{name: path.Base(name), mode: e.Mode}
	if e.Mode == filemode.Dir {
		return &treeDir{fs: t, full: full, info: info}, nil
	}
	if e.Mode == filemode.Submodule {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	data, err := t.blob(e)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info.size = int64(len(data))
	return &treeFile{Reader: strings.NewReader(string(data)), info: info}, nil
}

// ReadFile reads a file without copying it twice.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	e, _, err := t.resolve(t.full(name), true)
	if err == nil && (e.Mode == filemode.Dir || e.Mode == filemode.Submodule) {
		err = fs.ErrInvalid
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return t.blob(e)
}

// ReadDir lists a directory, sorted by name as fs.ReadDir promises.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	e, full, err := t.resolve(t.full(name), true)
	if err == nil && e.Mode != filemode.Dir {
		err = fs.ErrInvalid
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return t.list(full)
}

func (t *treeFS) list(full string) ([]fs.DirEntry, error) {
	tree := t.root
	if full != "" {
		sub, err := t.root.Tree(full)
		if err != nil {
			return nil, err
		}
		tree = sub
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for _, e := range tree.Entries {
		if e.Mode == filemode.Submodule {
			continue
		}
		out = append(out, entryInfo{name: e.Name, mode: e.Mode})
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// ReadLink returns a symlink's target as written.
func (t *treeFS) ReadLink(name string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, _, err := t.resolve(t.full(name), false)
	if err == nil && e.Mode != filemode.Symlink {
		err = fs.ErrInvalid
	}
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	target, err := t.blob(e)
	return string(target), err
}

// Lstat describes a path without following a final symlink.
func (t *treeFS) Lstat(name string) (fs.FileInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, _, err := t.resolve(t.full(name), false)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return entryInfo{name: path.Base(name), mode: e.Mode}, nil
}

// entryInfo is both the fs.DirEntry and the fs.FileInfo of a tree entry.
type entryInfo struct {
	name string
	mode filemode.FileMode
	size int64
}

func (e entryInfo) Name() string               { return e.name }
func (e entryInfo) IsDir() bool                { return e.mode == filemode.Dir }
func (e entryInfo) Type() fs.FileMode          { return e.Mode().Type() }
func (e entryInfo) Info() (fs.FileInfo, error) { return e, nil }
func (e entryInfo) Size() int64                { return e.size }
func (e entryInfo) ModTime() time.Time         { return time.Time{} }
func (e entryInfo) Sys() any                   { return nil }
func (e entryInfo) Mode() fs.FileMode {
	switch e.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o555
	}
	return 0o444
}

type treeFile struct {
	*strings.Reader
	info entryInfo
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeFile) Close() error               { return nil }

type treeDir struct {
	fs      *treeFS
	full    string
	info    entryInfo
	entries []fs.DirEntry
	read    bool
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *treeDir) Close() error { return nil }

func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		d.fs.mu.Lock()
		entries, err := d.fs.list(d.full)
		d.fs.mu.Unlock()
		if err != nil {
			return nil, err
		}
		d.entries, d.read = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
