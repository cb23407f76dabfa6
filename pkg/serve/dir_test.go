package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/push"
)

// TestPushTarget serves a push target (flat files behind a ..data link
// swapped in one rename): not ready before the first bundle, ready once it
// is served; a broken bundle swapped in keeps the last good version,
// counts one source error and says why; the next good bundle is served.
func TestPushTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := &pushTarget{t: t, dir: dir}
	s := startServer(t, Options{}, Dir{Path: dir, Rescan: 200 * time.Millisecond})

	// Not ready before the directory is read, nor after while it is empty.
	eventually(t, "/readyz to say there are no bundles", func() bool {
		code, body := s.get(t, "/readyz")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz before any bundle: %d %q, want 503", code, body)
		}
		return strings.Contains(body, "no bundles")
	})
	if code, _ := s.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}

	b1 := compileFiles(t, edgeRepo(map[string]string{"a": "1s"})).Bundles[0]
	target.write(b1.Delivered())
	eventually(t, "version 1", func() bool { return s.servedVersion(t, "edge") == b1.Digest })
	if code, body := s.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz with a version served: %d %q", code, body)
	}
	if n := s.metric(t, `edgectl_serve_source_errors_total{source="bundles `+dir+`"}`); n != 0 {
		t.Errorf("source errors before a broken bundle: %v", n)
	}

	// A broken bundle: one file differs from what the manifest says.
	b2 := compileFiles(t, edgeRepo(map[string]string{"a": "2s"})).Bundles[0]
	var broken []bundle.File
	for _, f := range b2.Delivered() {
		if f.Path == "cds.yaml" {
			f.Data = []byte(strings.Replace(string(f.Data), "2s", "9s", 1))
		}
		broken = append(broken, f)
	}
	target.write(broken)
	errors := `edgectl_serve_source_errors_total{source="bundles ` + dir + `"}`
	eventually(t, "the broken bundle to be reported", func() bool { return s.metric(t, errors) == 1 })
	if got := s.servedVersion(t, "edge"); got != b1.Digest {
		t.Errorf("after a broken bundle the version is %s, want the last good %s", got, b1.Digest)
	}
	if !containsLine(s.log.String(), "keeping the last good version", "gateway=edge", "damaged bundle: cds.yaml differs from the sha256 the manifest lists for it") {
		t.Errorf("the log does not say why the bundle was refused")
	}
	if code, _ := s.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz with a last good version: %d", code)
	}
	if ts := s.metric(t, `edgectl_serve_source_last_error_timestamp_seconds{source="bundles `+dir+`"}`); ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last error time %v is not recent", ts)
	}
	// Re-scans see the same broken bundle and say nothing more.
	time.Sleep(600 * time.Millisecond)
	if n := s.metric(t, errors); n != 1 {
		t.Errorf("source errors after re-scans of one broken bundle: %v, want 1", n)
	}

	target.write(b2.Delivered())
	eventually(t, "version 2", func() bool { return s.servedVersion(t, "edge") == b2.Digest })
	if n := s.metric(t, errors); n != 1 {
		t.Errorf("source errors after a good bundle: %v, want 1", n)
	}
}

// TestCompileOutput serves a compile output with two gateways, follows it
// as it is replaced, and keeps a gateway whose bundle breaks on its last
// good version while the other moves on.
func TestCompileOutput(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	two := func(timeout string) map[string]string {
		files := edgeRepo(map[string]string{"a": timeout})
		files["second.yaml"] = `apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: second}
spec:
  node: {cluster: second-fleet}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: api}
spec:
  gateway: second
  hostnames: [api.example.com]
  routes: [{backend: a}]
`
		return files
	}
	r1 := compileFiles(t, two("1s"))
	if err := bundle.WriteOutput(out, r1.Bundles); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{}, Dir{Path: out})
	eventually(t, "both gateways", func() bool {
		return s.servedVersion(t, "edge") == digest(r1, "edge") && s.servedVersion(t, "second") == digest(r1, "second")
	})
	if n := s.metric(t, `edgectl_serve_gateway_version{gateway="second",node_cluster="second-fleet"}`); n != 1 {
		t.Errorf("second's node cluster is not second-fleet")
	}

	// A new output where edge's manifest is damaged: second moves on, edge
	// stays.
	r2 := compileFiles(t, two("2s"))
	staging := filepath.Join(filepath.Dir(out), "staging")
	if err := bundle.WriteOutput(staging, r2.Bundles); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staging, "edge", bundle.ManifestFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, staging, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second's version 2", func() bool { return s.servedVersion(t, "second") == digest(r2, "second") })
	eventually(t, "edge's broken bundle to be reported", func() bool {
		return s.metric(t, `edgectl_serve_source_errors_total{source="bundles `+out+`"}`) == 1
	})
	if got := s.servedVersion(t, "edge"); got != digest(r1, "edge") {
		t.Errorf("edge serves %s, want its last good %s", got, digest(r1, "edge"))
	}
	if code, _ := s.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d", code)
	}

	// A gateway that leaves the output keeps its clients on their version:
	// a deletion by mistake must not empty its Envoys.
	r3 := compileFiles(t, edgeRepo(map[string]string{"a": "3s"}))
	if err := bundle.WriteOutput(out, r3.Bundles); err != nil {
		t.Fatal(err)
	}
	eventually(t, "edge's version 3", func() bool { return s.servedVersion(t, "edge") == digest(r3, "edge") })
	if got := s.servedVersion(t, "second"); got != digest(r2, "second") {
		t.Errorf("second, gone from the output, serves %q, want its last version", got)
	}
	if !containsLine(s.log.String(), "gateway is gone from the source", "gateway=second") {
		t.Error("the log does not say that second is gone")
	}
}

// TestReadyzNames says why the server is not ready when a gateway's only
// bundle is broken.
func TestReadyzNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var broken []bundle.File
	for _, f := range compileFiles(t, edgeRepo(map[string]string{"a": "1s"})).Bundles[0].Delivered() {
		if f.Path == "lds.yaml" {
			f.Data = append(f.Data, '\n')
		}
		broken = append(broken, f)
	}
	(&pushTarget{t: t, dir: dir}).write(broken)
	s := startServer(t, Options{}, Dir{Path: dir})
	eventually(t, "/readyz to name the broken gateway", func() bool {
		code, body := s.get(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, `gateway "edge" has no version served: `) &&
			strings.Contains(body, "damaged bundle: lds.yaml differs from the sha256 the manifest lists for it")
	})
}

// digest is the digest of a gateway's bundle. The order of a compile's
// bundles is not stable (pkg/lower ranges over a map), so look it up.
func digest(res *compile.Result, gateway string) string {
	for _, b := range res.Bundles {
		if b.Gateway == gateway {
			return b.Digest
		}
	}
	return ""
}

// TestFollowsPush serves what `edgectl push` delivers to a file target,
// through pushes and a rollback.
func TestFollowsPush(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := push.File{Dir: dir}
	b1 := compileFiles(t, edgeRepo(map[string]string{"a": "1s"})).Bundles[0]
	b2 := compileFiles(t, edgeRepo(map[string]string{"a": "2s"})).Bundles[0]
	if _, err := target.Push(b1, push.Options{}); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{}, Dir{Path: dir})
	eventually(t, "the first push", func() bool { return s.servedVersion(t, "edge") == b1.Digest })
	if _, err := target.Push(b2, push.Options{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second push", func() bool { return s.servedVersion(t, "edge") == b2.Digest })
	if _, err := target.Rollback(""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rollback", func() bool { return s.servedVersion(t, "edge") == b1.Digest })
	if n := s.metric(t, `edgectl_serve_source_errors_total{source="bundles `+dir+`"}`); n != 0 {
		t.Errorf("source errors while following pushes: %v", n)
	}
}

// TestReadBundleVerifiesTheDigest: serve reads bundles through the one
// verifying reader, in both layouts. An edit whose per-file hash was
// updated in the manifest, or a file the manifest does not list, keeps a
// bundle from being served.
func TestReadBundleVerifiesTheDigest(t *testing.T) {
	t.Parallel()
	b := compileFiles(t, edgeRepo(map[string]string{"a": "1s"})).Bundles[0]
	sha := func(data []byte) string {
		h := sha256.Sum256(data)
		return hex.EncodeToString(h[:])
	}
	for _, layout := range []struct {
		name  string
		files []bundle.File
		cds   string
	}{
		{"compile output", b.Files, "xds/cds.yaml"},
		{"delivered", b.Delivered(), "cds.yaml"},
	} {
		write := func(t *testing.T, files []bundle.File) string {
			dir := t.TempDir()
			for _, f := range files {
				p := filepath.Join(dir, filepath.FromSlash(f.Path))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return dir
		}
		t.Run(layout.name, func(t *testing.T) {
			if g, err := readBundle(write(t, layout.files)); err != nil || g.Digest != b.Digest {
				t.Fatalf("genuine bundle: %v", err)
			}
			edited := slices.Clone(layout.files)
			for i, f := range edited {
				if f.Path == layout.cds {
					edited[i].Data = []byte(strings.Replace(string(f.Data), "10.0.0.1", "10.0.0.9", 1))
					for j, m := range edited {
						if m.Path == bundle.ManifestFile {
							edited[j].Data = []byte(strings.Replace(string(m.Data), sha(f.Data), sha(edited[i].Data), 1))
						}
					}
				}
			}
			if _, err := readBundle(write(t, edited)); err == nil || !strings.Contains(err.Error(), layout.cds+" differs from the manifest's resource index") {
				t.Errorf("edited file, hash updated: %v", err)
			}
			extra := append(slices.Clone(layout.files), bundle.File{Path: "notes.txt", Data: []byte("hi")})
			if _, err := readBundle(write(t, extra)); err == nil || !strings.Contains(err.Error(), "notes.txt is not listed in the manifest") {
				t.Errorf("extra file: %v", err)
			}
		})
	}
}

// TestSwapReadAtOnce: the swap of a compile output (one rename, by
// bundle.WriteOutput) is an event swappedIn tells, and scanSwapped reads
// it there and then. A swap that does not verify is not applied and leaves
// the scanner as it was, so that the scan after the settle delay reports
// it.
func TestSwapReadAtOnce(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	b1 := compileFiles(t, edgeRepo(map[string]string{"a": "1s"})).Bundles
	b2 := compileFiles(t, edgeRepo(map[string]string{"a": "2s"})).Bundles
	if err := bundle.WriteOutput(out, b1); err != nil {
		t.Fatal(err)
	}
	sc := &dirScanner{root: out, entries: map[string]entry{}}
	var applied []Load
	apply := func(l Load) { applied = append(applied, l) }
	if l, changed := sc.scan(); !changed || len(l.Gateways) != 1 || l.Gateways[0].Digest != b1[0].Digest {
		t.Fatalf("first scan: %+v, changed %v", l, changed)
	}

	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(parent); err != nil {
		t.Fatal(err)
	}
	if err := bundle.WriteOutput(out, b2); err != nil {
		t.Fatal(err)
	}
	// The events of the swap are queued by now; the deadline only keeps a
	// failure from hanging.
	for seen := false; !seen; {
		select {
		case ev := <-w.Events:
			seen = swappedIn(out, ev)
		case <-time.After(time.Minute):
			t.Fatal("no event of the swap tells it")
		}
	}
	if !sc.scanSwapped(apply) || len(applied) != 1 || len(applied[0].Gateways) != 1 || applied[0].Gateways[0].Digest != b2[0].Digest {
		t.Fatalf("the swap to version 2 was not read at once: %+v", applied)
	}

	// A bundle that does not verify, swapped in.
	cds := filepath.Join(out, "edge", bundle.XDSDir, "cds.yaml")
	data, err := os.ReadFile(cds)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cds, []byte(strings.Replace(string(data), "2s", "9s", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if sc.scanSwapped(apply) || len(applied) != 1 {
		t.Fatalf("a damaged bundle read at once: %+v", applied)
	}
	if l, changed := sc.scan(); !changed || len(l.Failed) != 1 {
		t.Fatalf("the scan after the settle delay: %+v, changed %v; want the damaged bundle reported", l, changed)
	}
}

func TestSwappedIn(t *testing.T) {
	t.Parallel()
	root := "/srv/bundles"
	for _, tc := range []struct {
		ev   fsnotify.Event
		want bool
	}{
		{fsnotify.Event{Name: root, Op: fsnotify.Create}, true},
		{fsnotify.Event{Name: root + "/..data", Op: fsnotify.Create}, true},
		{fsnotify.Event{Name: root + "/edge/..data", Op: fsnotify.Create}, true},
		{fsnotify.Event{Name: root + "/..data_tmp", Op: fsnotify.Create}, false},
		{fsnotify.Event{Name: root + "/edge/manifest.json", Op: fsnotify.Create}, false},
		{fsnotify.Event{Name: root, Op: fsnotify.Rename}, false},
		{fsnotify.Event{Name: root + "/..data", Op: fsnotify.Remove}, false},
	} {
		if got := swappedIn(root, tc.ev); got != tc.want {
			t.Errorf("swappedIn(%v) = %v, want %v", tc.ev, got, tc.want)
		}
	}
}
