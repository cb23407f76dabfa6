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

	"github.com/edgectl/edgectl/internal/durable"
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

	steps *steps // the crash tests' fault hook (crash.go)
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

// ErrNoTarget means a target directory does not exist.
var ErrNoTarget = errors.New("nothing was pushed to this target")

// Current reads and verifies what the target serves now: the version ..data
// points at, and the links at the top of the directory Envoy reads. It
// returns a nil bundle for a target nothing was pushed to.
func (t File) Current() (*bundle.Bundle, error) {
	name, err := os.Readlink(filepath.Join(t.Dir, dataLink))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dataLink, err)
	}
	b, err := t.readVersion(name)
	if err != nil {
		return nil, err
	}
	var damaged bundle.DamagedError
	for _, f := range b.Delivered() {
		want := filepath.Join(dataLink, f.Path)
		if l, err := os.Readlink(filepath.Join(t.Dir, f.Path)); err != nil || l != want {
			damaged.Problems = append(damaged.Problems, bundle.Problem{File: f.Path, Detail: "is not a link to " + want + " at the top of the target"})
		}
	}
	if len(damaged.Problems) > 0 {
		return nil, &damaged
	}
	return b, nil
}

// readVersion reads and verifies one version directory, which must hold
// the bundle its name says.
func (t File) readVersion(name string) (*bundle.Bundle, error) {
	if !strings.HasPrefix(name, versionPref) || name != filepath.Base(name) {
		return nil, fmt.Errorf("%s points at %q, not a version directory", dataLink, name)
	}
	b, err := bundle.ReadDelivered(os.DirFS(filepath.Join(t.Dir, name)))
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", "sha256:"+strings.TrimPrefix(name, versionPref), err)
	}
	if versionDir(b.Digest) != name {
		return nil, &bundle.DamagedError{Problems: []bundle.Problem{{File: name, Detail: "holds bundle " + b.Digest + ", not the version its name says"}}}
	}
	return b, nil
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
//
// Its protocol, each step numbered for the crash tests: create the
// directory, take the lock, write the version directory under a temporary
// name and rename it into place (or exchange it with a damaged copy), link
// new names at the top, swap ..data (the commit point), unlink names the
// version dropped, write the history, prune old versions and what killed
// pushes left.
func (t File) Push(b *bundle.Bundle, opts Options) (Result, error) {
	if t.steps == nil {
		t.steps = stepsFromEnv()
	}
	res := Result{Gateway: b.Gateway, Digest: b.Digest}
	if err := checkExpected(b.Digest, opts.ExpectDigest); err != nil {
		return res, err
	}
	if opts.DryRun {
		if _, err := os.Stat(t.Dir); errors.Is(err, fs.ErrNotExist) {
			return t.plan(nil, b, res, true), nil
		}
	} else {
		t.steps.do("create the target directory")
		if err := os.MkdirAll(t.Dir, 0o755); err != nil {
			return res, fmt.Errorf("create target: %w", err)
		}
	}
	unlock, err := t.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	cur, curErr := t.Current() // a damaged version is pushed over
	if cur != nil {
		res.Previous = cur.Digest
	}
	if res.Previous == b.Digest {
		res.Status = UpToDate
		if opts.DryRun {
			return res, nil
		}
		// A push killed after its swap left the history behind.
		return res, t.tidy(b, "push")
	}
	res = t.plan(cur, b, res, opts.DryRun)
	if opts.DryRun {
		return res, nil
	}
	repaired, err := t.writeVersion(b)
	if err != nil {
		return res, err
	}
	switch {
	case repaired != nil:
		res.Detail = append(res.Detail, fmt.Sprintf("the target's copy of this version did not verify, and was replaced: %v", repaired))
	case curErr != nil:
		res.Detail = append(res.Detail, fmt.Sprintf("the version the target served did not verify, and this push replaced it: %v", curErr))
	}
	if err := t.activate(b.Digest, names(b.Delivered())); err != nil {
		return res, err
	}
	if err := t.record(entryFor(b, "push")); err != nil {
		return res, err
	}
	res.Status = Pushed
	return res, nil
}

// plan adds what a push of b over cur needs the user to know.
func (t File) plan(cur, b *bundle.Bundle, res Result, dryRun bool) Result {
	if dir := b.Manifest.XDSDirectory; dir != "" && filepath.Clean(t.Dir) != dir {
		res.Detail = append(res.Detail,
			fmt.Sprintf("the bundle's bootstrap reads %s, not %s: an Envoy started with its bootstrap-xds.yaml will not see this push", dir, t.Dir),
			fmt.Sprintf("push to file://%s instead, or set spec.xds.directory of gateway %s to %s and compile again (a trial push that no Envoy reads can ignore this)", dir, b.Gateway, t.Dir))
	}
	res.Detail = append(res.Detail, restartNote(cur, b)...)
	if dryRun {
		res.Status = WouldPush
	}
	return res
}

func entryFor(b *bundle.Bundle, action string) Entry {
	return Entry{Digest: b.Digest, Gateway: b.Gateway, Commit: b.Manifest.Source.Commit, PushedAt: time.Now().UTC(), Action: action}
}

// tidy finishes what a push killed after its swap left undone: the
// history names the current version first, and no temporary file stays.
func (t File) tidy(cur *bundle.Bundle, action string) error {
	hist, err := t.History()
	if err == nil && len(hist) > 0 && hist[0].Digest == cur.Digest {
		return t.prune(hist)
	}
	return t.record(entryFor(cur, action))
}

// Rollback makes an earlier version current again: the one before the
// current, or the one with the given digest, if the target still keeps it.
func (t File) Rollback(digest string) (Result, error) {
	if t.steps == nil {
		t.steps = stepsFromEnv()
	}
	if _, err := os.Stat(filepath.Join(t.Dir, dataLink)); errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("roll back %s: %w", t.Dir, ErrNoTarget)
	}
	unlock, err := t.lock()
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	// A damaged current version may be rolled back from: it is what the
	// ..data link names.
	curDigest := ""
	cur, err := t.Current()
	var damaged *bundle.DamagedError
	switch {
	case errors.As(err, &damaged):
		name, lerr := os.Readlink(filepath.Join(t.Dir, dataLink))
		if lerr != nil {
			return Result{}, fmt.Errorf("read the current version: %w", err)
		}
		curDigest = "sha256:" + strings.TrimPrefix(name, versionPref)
	case err != nil:
		return Result{}, fmt.Errorf("read the current version: %w", err)
	case cur == nil:
		return Result{}, fmt.Errorf("roll back %s: %w", t.Dir, ErrNoTarget)
	default:
		curDigest = cur.Digest
	}
	hist, err := t.History()
	if err != nil {
		return Result{}, err
	}
	if digest == "" {
		for _, e := range hist {
			if e.Digest != curDigest {
				digest = e.Digest
				break
			}
		}
		if digest == "" {
			return Result{}, errors.New("no earlier version to roll back to")
		}
	}
	res := Result{Digest: digest, Previous: curDigest}
	if digest == curDigest {
		if cur == nil {
			return res, fmt.Errorf("version %s is the current one, and does not verify: %w", digest, damaged)
		}
		res.Gateway, res.Status = cur.Gateway, UpToDate
		// A rollback killed after its swap left the history behind.
		return res, t.tidy(cur, "rollback")
	}
	name := versionDir(digest)
	if _, err := os.Lstat(filepath.Join(t.Dir, name)); err != nil {
		return res, fmt.Errorf("version %s is not kept here", digest)
	}
	old, err := t.readVersion(name)
	if err != nil {
		return res, fmt.Errorf("refuse to roll back to a version that does not verify: %w", err)
	}
	if err := t.activate(digest, names(old.Delivered())); err != nil {
		return res, err
	}
	if err := t.record(entryFor(old, "rollback")); err != nil {
		return res, err
	}
	res.Gateway = old.Gateway
	res.Status = RolledBack
	return res, nil
}

func names(files []bundle.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// lock serialises pushes to one directory, across processes. The kernel
// releases it when a process dies, however it dies.
func (t File) lock() (func(), error) {
	t.steps.do("open the lock file")
	f, err := os.OpenFile(filepath.Join(t.Dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	timeout := t.LockTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	t.steps.do("take the lock")
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
// at all. A version kept from an earlier push is reused if it verifies,
// and replaced in one step if it does not: the error it returns then says
// what was wrong with it.
func (t File) writeVersion(b *bundle.Bundle) (damaged error, err error) {
	name := versionDir(b.Digest)
	final := filepath.Join(t.Dir, name)
	if _, err := os.Lstat(final); err == nil {
		if _, damaged = t.readVersion(name); damaged == nil {
			return nil, nil
		}
	}
	t.steps.do("create a temporary version directory")
	tmp, err := os.MkdirTemp(t.Dir, ".tmp-version-")
	if err != nil {
		return damaged, err
	}
	defer os.RemoveAll(tmp) // gone once renamed; the damaged copy once exchanged
	t.steps.do("make the temporary version directory readable")
	if err := os.Chmod(tmp, 0o755); err != nil {
		return damaged, err
	}
	for _, f := range b.Delivered() {
		if err := t.write(filepath.Join(tmp, f.Path), f.Data); err != nil {
			return damaged, err
		}
	}
	// Its files and the directory itself at once: a sync per file costs a
	// journal commit apiece, seconds for a bundle of thousands of files.
	t.steps.do("sync the temporary version directory")
	if err := durable.SyncFS(tmp); err != nil {
		return damaged, err
	}
	if damaged == nil {
		t.steps.do("rename the version directory into place")
		if err := os.Rename(tmp, final); err != nil {
			return damaged, fmt.Errorf("move version into place: %w", err)
		}
	} else {
		t.steps.do("exchange the damaged version directory for the new one")
		if err := exchange(tmp, final); err != nil {
			return damaged, fmt.Errorf("replace damaged version: %w", err)
		}
	}
	t.steps.do("sync the target directory")
	return damaged, durable.SyncDir(t.Dir)
}

// exchange swaps two directories atomically (renameat2 RENAME_EXCHANGE).
// Where the filesystem cannot, the old one is moved aside first: a crash
// between the two renames leaves the version missing, never mixed, and a
// version missing is written again by the next push.
func exchange(tmp, final string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_EXCHANGE)
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return err
	}
	aside := tmp + "-damaged"
	if err := os.Rename(final, aside); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return os.Rename(aside, tmp) // removed with tmp
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
		if err := t.replaceSymlink(target, link); err != nil {
			return err
		}
	}
	if err := t.replaceSymlink(versionDir(digest), filepath.Join(t.Dir, dataLink)); err != nil {
		return fmt.Errorf("swap %s: %w", dataLink, err)
	}
	t.steps.do("sync the target directory after the swap")
	if err := durable.SyncDir(t.Dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(t.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 && !strings.HasPrefix(e.Name(), ".") && !slices.Contains(files, e.Name()) {
			t.steps.do("remove the link " + e.Name())
			if err := os.Remove(filepath.Join(t.Dir, e.Name())); err != nil {
				return err
			}
		}
	}
	t.steps.do("sync the target directory after unlinking")
	return durable.SyncDir(t.Dir)
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
	if err := t.writeAtomic(filepath.Join(t.Dir, historyFile), append(data, '\n')); err != nil {
		return err
	}
	return t.prune(kept)
}

// prune removes the versions the history no longer names, and what killed
// pushes left behind. A version is renamed away before it is removed, so
// no version directory is ever seen half removed.
func (t File) prune(hist []Entry) error {
	keep := map[string]bool{}
	for _, h := range hist {
		keep[versionDir(h.Digest)] = true
	}
	if cur, err := os.Readlink(filepath.Join(t.Dir, dataLink)); err == nil {
		keep[cur] = true
	}
	entries, err := os.ReadDir(t.Dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		name := d.Name()
		switch {
		case strings.HasPrefix(name, versionPref) && !keep[name]:
			aside := filepath.Join(t.Dir, ".tmp-prune-"+strings.TrimPrefix(name, versionPref))
			t.steps.do("move the old version " + name + " aside")
			if err := os.Rename(filepath.Join(t.Dir, name), aside); err != nil {
				return fmt.Errorf("remove old version: %w", err)
			}
			t.steps.do("remove the old version " + name)
			_ = os.RemoveAll(aside)
		case strings.HasPrefix(name, ".tmp-"):
			t.steps.do("remove " + name)
			_ = os.RemoveAll(filepath.Join(t.Dir, name)) // left by a push that was killed
		}
	}
	return nil
}

// replaceSymlink points link at target atomically: a new link under a
// temporary name, renamed over the old one.
func (t File) replaceSymlink(target, link string) error {
	tmp := filepath.Join(filepath.Dir(link), fmt.Sprintf(".tmp-link-%d-%s", os.Getpid(), filepath.Base(link)))
	_ = os.Remove(tmp)
	t.steps.do("create a temporary link for " + filepath.Base(link))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	t.steps.do("rename the link " + filepath.Base(link) + " into place")
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// write creates a file; the caller syncs it.
func (t File) write(p string, data []byte) error {
	return t.create(p, data, false)
}

func (t File) writeSynced(p string, data []byte) error {
	return t.create(p, data, true)
}

func (t File) create(p string, data []byte, sync bool) error {
	t.steps.do("write " + filepath.Base(p))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		t.steps.do("sync " + filepath.Base(p))
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (t File) writeAtomic(p string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(p), fmt.Sprintf(".tmp-%d-%s", os.Getpid(), filepath.Base(p)))
	if err := t.writeSynced(tmp, data); err != nil {
		os.Remove(tmp)
		return err
	}
	t.steps.do("rename " + filepath.Base(p) + " into place")
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	t.steps.do("sync the target directory after " + filepath.Base(p))
	return durable.SyncDir(filepath.Dir(p))
}
