package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// A file target is laid out the way kubelet lays out a mounted ConfigMap,
// so one Envoy bootstrap works on a VM and in a pod:
//
//	DIR/..data -> ..sha256-<digest>     swapped by rename: the commit point
//	DIR/..sha256-<digest>/lds.yaml …    one complete directory per version
//	DIR/lds.yaml -> ..data/lds.yaml     what Envoy reads
//
// Envoy reloads when something is moved into DIR, which the swap of ..data
// is. A push killed at any instant leaves ..data on the old version or the
// new one, each complete: a version directory is written under a
// temporary name and renamed into place before ..data moves.
const (
	dataLink    = "..data"
	versionPref = "..sha256-"
	lockFile    = ".edgectl.lock"
	historyFile = ".edgectl-history.json"
)

// File is a directory target.
type File struct {
	Dir string
	// Keep is how many versions stay for rollback, the current one
	// included; zero means 5.
	Keep int
	// LockTimeout bounds the wait for another push; zero means a minute.
	LockTimeout time.Duration
}

// Entry is one version in a target's history, newest first.
type Entry struct {
	Digest   string    `json:"digest"`
	Gateway  string    `json:"gateway"`
	Commit   string    `json:"commit,omitempty"`
	PushedAt time.Time `json:"pushedAt"`
	Action   string    `json:"action"` // push or rollback
}

func versionDir(digest string) string {
	return versionPref + strings.TrimPrefix(digest, "sha256:")
}

// Current reads and verifies what the target serves now. It returns a nil
// bundle for a target nothing was pushed to.
func (t File) Current() (*bundle.Bundle, error) {
	if _, err := os.Lstat(filepath.Join(t.Dir, dataLink)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return bundle.ReadDelivered(func(name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(t.Dir, name))
	})
}

// History lists the versions the target keeps, newest first.
func (t File) History() ([]Entry, error) {
	data, err := os.ReadFile(filepath.Join(t.Dir, historyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h []Entry
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("read %s: %w", historyFile, err)
	}
	return h, nil
}

// Push delivers b to the directory.
func (t File) Push(b *bundle.Bundle, opts Options) (Result, error) {
	res := Result{Digest: b.Digest}
	if err := checkExpected(b.Digest, opts.ExpectDigest); err != nil {
		return res, err
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return res, fmt.Errorf("create target: %w", err)
	}
	unlock, err := t.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	cur, err := t.Current()
	if err == nil && cur != nil {
		res.Previous = cur.Digest
	}
	if res.Previous == b.Digest {
		res.Status = UpToDate
		return res, nil
	}
	if dir := b.Manifest.XDSDirectory; dir != "" && filepath.Clean(t.Dir) != dir {
		res.Detail = append(res.Detail, fmt.Sprintf("the bundle's bootstrap reads %s, not %s: Envoy must use a bootstrap made for this directory (spec.xds.directory)", dir, t.Dir))
	}
	res.Detail = append(res.Detail, restartNote(cur, b)...)
	if opts.DryRun {
		res.Status = WouldPush
		return res, nil
	}
	if err := t.writeVersion(b); err != nil {
		return res, err
	}
	if err := t.activate(b.Digest, names(b.Delivered())); err != nil {
		return res, err
	}
	if err := t.record(Entry{Digest: b.Digest, Gateway: b.Gateway, Commit: b.Manifest.Source.Commit, PushedAt: time.Now().UTC(), Action: "push"}); err != nil {
		return res, err
	}
	res.Status = Pushed
	return res, nil
}

// Rollback makes an earlier version current again: the one before the
// current, or the one with the given digest, if the target still keeps it.
func (t File) Rollback(digest string) (Result, error) {
	unlock, err := t.lock()
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	cur, err := t.Current()
	if err != nil {
		return Result{}, fmt.Errorf("read the current version: %w", err)
	}
	if cur == nil {
		return Result{}, errors.New("nothing was pushed to this target")
	}
	hist, err := t.History()
	if err != nil {
		return Result{}, err
	}
	if digest == "" {
		for _, e := range hist {
			if e.Digest != cur.Digest {
				digest = e.Digest
				break
			}
		}
		if digest == "" {
			return Result{}, errors.New("no earlier version to roll back to")
		}
	}
	res := Result{Digest: digest, Previous: cur.Digest}
	if digest == cur.Digest {
		res.Status = UpToDate
		return res, nil
	}
	dir := filepath.Join(t.Dir, versionDir(digest))
	old, err := bundle.ReadDelivered(func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) })
	if err != nil {
		return res, fmt.Errorf("version %s is not kept here (or is damaged): %w", digest, err)
	}
	if err := t.activate(digest, names(old.Delivered())); err != nil {
		return res, err
	}
	if err := t.record(Entry{Digest: digest, Gateway: old.Gateway, Commit: old.Manifest.Source.Commit, PushedAt: time.Now().UTC(), Action: "rollback"}); err != nil {
		return res, err
	}
	res.Status = Pushed
	return res, nil
}

func names(files []bundle.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// lock serialises pushes to one directory, across processes.
func (t File) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(t.Dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	timeout := t.LockTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: another push holds it (%v)", t.Dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeVersion writes the bundle's files into their version directory,
// under a temporary name first so the directory appears complete or not
// at all. A version kept from an earlier push is reused.
func (t File) writeVersion(b *bundle.Bundle) error {
	final := filepath.Join(t.Dir, versionDir(b.Digest))
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(t.Dir, ".tmp-version-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range b.Delivered() {
		if err := writeSynced(filepath.Join(tmp, f.Path), f.Data); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("move version into place: %w", err)
	}
	return syncDir(t.Dir)
}

// activate points ..data at a version and makes every file of it visible
// at the top: links for new names first (dangling, and unread, until the
// swap), then the swap, then the links of names the version dropped.
func (t File) activate(digest string, files []string) error {
	for _, name := range files {
		link := filepath.Join(t.Dir, name)
		target := filepath.Join(dataLink, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		} else if err == nil || !errors.Is(err, fs.ErrNotExist) {
			if fi, serr := os.Lstat(link); serr == nil && fi.Mode()&fs.ModeSymlink == 0 {
				return fmt.Errorf("%s is a file edgectl did not write; the target directory must be edgectl's alone", link)
			}
		}
		if err := replaceSymlink(target, link); err != nil {
			return err
		}
	}
	if err := replaceSymlink(versionDir(digest), filepath.Join(t.Dir, dataLink)); err != nil {
		return fmt.Errorf("swap %s: %w", dataLink, err)
	}
	if err := syncDir(t.Dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(t.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 && !strings.HasPrefix(e.Name(), ".") && !slices.Contains(files, e.Name()) {
			if err := os.Remove(filepath.Join(t.Dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return syncDir(t.Dir)
}

// record puts an entry at the top of the history and removes versions
// beyond what the target keeps.
func (t File) record(e Entry) error {
	hist, err := t.History()
	if err != nil {
		hist = nil // a damaged history only loses rollback targets
	}
	hist = append([]Entry{e}, hist...)
	keep := t.Keep
	if keep <= 0 {
		keep = 5
	}
	var kept []Entry
	seen := map[string]bool{}
	for _, h := range hist {
		if !seen[h.Digest] && len(seen) < keep {
			seen[h.Digest] = true
		}
		if seen[h.Digest] {
			kept = append(kept, h)
		}
	}
	data, err := json.MarshalIndent(kept, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(t.Dir, historyFile), append(data, '\n')); err != nil {
		return err
	}
	entries, err := os.ReadDir(t.Dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		name := d.Name()
		switch {
		case strings.HasPrefix(name, versionPref) && !seen["sha256:"+strings.TrimPrefix(name, versionPref)]:
			_ = os.RemoveAll(filepath.Join(t.Dir, name))
		case strings.HasPrefix(name, ".tmp-"):
			_ = os.RemoveAll(filepath.Join(t.Dir, name)) // left by a push that was killed
		}
	}
	return nil
}

// replaceSymlink points link at target atomically: a new link under a
// temporary name, renamed over the old one.
func replaceSymlink(target, link string) error {
	tmp := filepath.Join(filepath.Dir(link), fmt.Sprintf(".tmp-link-%d-%s", os.Getpid(), filepath.Base(link)))
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeAtomic(p string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(p), fmt.Sprintf(".tmp-%d-%s", os.Getpid(), filepath.Base(p)))
	if err := writeSynced(tmp, data); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, p)
}

func syncDir(p string) error {
	d, err := os.Open(p)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
