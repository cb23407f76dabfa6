package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// Dir is a source: the bundles in a directory, followed as they change.
// The directory is one of
//
//   - a compile output: one subdirectory per gateway, each a bundle with
//     manifest.json and xds/;
//   - a push target: one bundle's files side by side (manifest.json,
//     bootstrap-xds.yaml, lds.yaml, cds.yaml, rds-*.yaml, sds-*.yaml),
//     usually behind a ..data symbolic link that is swapped in one rename,
//     as a Kubernetes ConfigMap volume is;
//   - a directory of push targets, one subdirectory per gateway.
//
// Changes are seen through inotify, and by reading the directory again
// every Rescan whatever inotify says. A bundle is served once it reads and
// verifies (every file and resource against the manifest, the digest); a
// broken one leaves its gateway on the version it had, and is reported once
// per change.
type Dir struct {
	Path string
	// Rescan is how often the directory is read regardless of events; zero
	// means 10s.
	Rescan time.Duration
}

func (d Dir) String() string { return "bundles " + d.Path }

// settleDelay lets the renames of one update land before the directory is
// read: an update is several events. A swap in one rename is read at once
// (swappedIn).
const settleDelay = 100 * time.Millisecond

// Watch implements Source.
func (d Dir) Watch(ctx context.Context, apply func(Load)) error {
	root := filepath.Clean(d.Path)
	rescan := d.Rescan
	if rescan <= 0 {
		rescan = 10 * time.Second
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", root, err)
	}
	defer w.Close()
	sc := &dirScanner{root: root, entries: map[string]entry{}}
	watched := map[string]uint64{} // directory → inode watched
	scan := func() {
		if l, changed := sc.scan(); changed {
			apply(l)
		}
		rewatch(w, watchList(root), watched)
	}
	scanSwap := func() bool {
		if !sc.scanSwapped(apply) {
			return false
		}
		rewatch(w, watchList(root), watched)
		return true
	}
	rewatch(w, watchList(root), watched) // before the first read, so no change falls between
	scan()
	tick := time.NewTicker(rescan)
	defer tick.Stop()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			switch {
			case !relevant(root, ev):
			case swappedIn(root, ev) && scanSwap():
			case settle == nil:
				settle = time.After(settleDelay)
			}
		case _, ok := <-w.Errors: // an overflow: events were lost
			if !ok {
				return nil
			}
			if settle == nil {
				settle = time.After(settleDelay)
			}
		case <-settle:
			settle = nil
			scan()
		case <-tick.C:
			scan()
		}
	}
}

// swappedIn tells the event of a bundle directory swapped in whole: the
// root created or renamed into place (a compile output, which edgectl
// compile --out-dir swaps in with one rename), or a ..data link (a push
// target, a ConfigMap volume). What it names is complete at once, unless
// it was made by mkdir and is still being filled: scanSwapped tells.
func swappedIn(root string, ev fsnotify.Event) bool {
	return ev.Has(fsnotify.Create) && (ev.Name == root || filepath.Base(ev.Name) == "..data")
}

// relevant filters events: the parent directory is watched only for the
// root being replaced (a compile output is swapped in whole).
func relevant(root string, ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	return filepath.Dir(ev.Name) != filepath.Dir(root) || ev.Name == root
}

// watchList is every directory whose entries changing may change a bundle.
func watchList(root string) []string {
	out := []string{filepath.Dir(root), root}
	des, _ := os.ReadDir(root)
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), ".") && isDir(filepath.Join(root, de.Name())) {
			out = append(out, filepath.Join(root, de.Name()))
		}
	}
	return out
}

// rewatch watches exactly the directories in want, again where a
// directory was replaced (a watch follows the inode, not the name).
func rewatch(w *fsnotify.Watcher, want []string, watched map[string]uint64) {
	for p := range watched {
		if !slices.Contains(want, p) {
			_ = w.Remove(p)
			delete(watched, p)
		}
	}
	for _, p := range want {
		ino := inode(p)
		if ino == watched[p] {
			continue
		}
		_ = w.Remove(p)
		delete(watched, p)
		if ino != 0 && w.Add(p) == nil {
			watched[p] = ino
		}
	}
}

func inode(p string) uint64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 1
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// dirScanner remembers what each bundle directory held, so a re-scan reads
// only what changed.
type dirScanner struct {
	root    string
	scanned bool
	rootErr string
	entries map[string]entry // bundle directory → what it held
}

type entry struct {
	fingerprint string
	gateway     *Gateway
	name        string // the gateway
	err         error
}

// scan reads the directory and says whether anything changed since the
// last scan.
func (sc *dirScanner) scan() (Load, bool) {
	start := time.Now()
	first := !sc.scanned
	sc.scanned = true
	dirs, err := bundleDirs(sc.root)
	if err != nil {
		changed := err.Error() != sc.rootErr
		sc.rootErr = err.Error()
		return Load{Err: err}, changed
	}
	changed := first || sc.rootErr != "" || len(dirs) != len(sc.entries)
	sc.rootErr = ""
	next := make(map[string]entry, len(dirs))
	for _, dir := range dirs {
		fp := fingerprint(dir)
		if prev, ok := sc.entries[dir]; ok && prev.fingerprint == fp {
			next[dir] = prev
			continue
		}
		changed = true
		g, err := readBundleDir(dir)
		e := entry{fingerprint: fp, gateway: g, err: err}
		if g != nil {
			e.name = g.Name
		} else {
			e.name = gatewayName(dir, sc.entries[dir].name)
		}
		next[dir] = e
	}
	sc.entries = next
	l := Load{Took: time.Since(start)}
	for _, dir := range dirs {
		e := next[dir]
		if e.err != nil {
			if l.Failed == nil {
				l.Failed = map[string]error{}
			}
			l.Failed[e.name] = fmt.Errorf("%s: %w", dir, e.err)
			continue
		}
		l.Gateways = append(l.Gateways, e.gateway)
	}
	return l, changed
}

// scanSwapped scans at once for a swap (swappedIn), without waiting for
// the renames of an update to settle, and applies what it read when every
// bundle read and verified. When one did not, the swap may have been a
// directory made and still being filled: the scanner is left as it was and
// it reports false, so that the scan after the settle delay reads the
// directory again and reports what is still wrong then, once.
func (sc *dirScanner) scanSwapped(apply func(Load)) bool {
	prev := *sc // scan replaces entries, never changes the map it had
	l, changed := sc.scan()
	if l.Err != nil || len(l.Failed) > 0 {
		*sc = prev
		return false
	}
	if changed {
		apply(l)
	}
	return true
}

// bundleDirs lists the bundles under root: root itself when it holds a
// manifest, else each subdirectory that does.
func bundleDirs(root string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, bundle.ManifestFile)); err == nil {
		return []string{root}, nil
	}
	des, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read bundles directory: %w", err)
	}
	var out []string
	for _, de := range des {
		p := filepath.Join(root, de.Name())
		if strings.HasPrefix(de.Name(), ".") || !isDir(p) {
			continue
		}
		if _, err := os.Stat(filepath.Join(p, bundle.ManifestFile)); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// dataDir is where a bundle directory's files are: the target of its
// ..data link when it has one (a push target), else the directory. Reading
// through the resolved link keeps one read on one version while the link
// is swapped.
func dataDir(dir string) string {
	if t, err := filepath.EvalSymlinks(filepath.Join(dir, "..data")); err == nil {
		return t
	}
	return dir
}

// fingerprint changes whenever what a bundle directory holds may have: the
// data directory, the manifest's bytes, and the size and modification time
// of each file it lists.
func fingerprint(dir string) string {
	data := dataDir(dir)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", data)
	mj, err := os.ReadFile(filepath.Join(data, bundle.ManifestFile))
	if err != nil {
		fmt.Fprintf(h, "error %v\n", err)
		return hex.EncodeToString(h.Sum(nil))
	}
	h.Write(mj)
	var m struct{ Files []struct{ Path string } }
	_ = json.Unmarshal(mj, &m)
	nested := isDir(filepath.Join(data, bundle.XDSDir))
	for _, f := range m.Files {
		p := filepath.Join(data, path.Base(f.Path))
		if nested {
			p = filepath.Join(data, filepath.FromSlash(f.Path))
		}
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", f.Path, fi.Size(), fi.ModTime().UnixNano())
		} else {
			fmt.Fprintf(h, "%s missing\n", f.Path)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readBundleDir reads and verifies the bundle in dir, in either layout.
func readBundleDir(dir string) (*Gateway, error) {
	var err error
	for range 3 {
		data := dataDir(dir)
		var g *Gateway
		g, err = readBundle(data)
		if dataDir(dir) != data {
			continue // swapped while it was read: read the new one
		}
		return g, err
	}
	return nil, err
}

// readBundle reads the bundle whose files are in data: a compile output's
// bundle (with xds/ and the static bootstrap) or a push target's flat
// files, which leave the static bootstrap behind.
func readBundle(data string) (*Gateway, error) {
	var b *bundle.Bundle
	var err error
	if isDir(filepath.Join(data, bundle.XDSDir)) {
		b, err = bundle.Read(os.DirFS(data))
	} else {
		b, err = bundle.ReadDelivered(os.DirFS(data))
	}
	if err != nil {
		return nil, err
	}
	r, err := b.Resources()
	if err != nil {
		return nil, err
	}
	if b.Manifest.Node.Cluster == "" {
		return nil, errors.New("manifest: no node cluster")
	}
	return &Gateway{Name: b.Gateway, NodeCluster: b.Manifest.Node.Cluster, Digest: b.Digest, Resources: r}, nil
}

// gatewayName names the gateway of a bundle directory that does not read:
// as its manifest says if it can be parsed, else as the directory was
// known before, else after the directory (a compile output names each
// after its gateway).
func gatewayName(dir, before string) string {
	var m struct{ Gateway string }
	if mj, err := os.ReadFile(filepath.Join(dataDir(dir), bundle.ManifestFile)); err == nil && json.Unmarshal(mj, &m) == nil && m.Gateway != "" {
		return m.Gateway
	}
	if before != "" {
		return before
	}
	return filepath.Base(dir)
}
