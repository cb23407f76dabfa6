package push

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// bundles compiles n generated repositories of the given size, each a
// different version (another seed), and returns their bundles.
func bundles(t testing.TB, routes, n int) []*bundle.Bundle {
	t.Helper()
	var out []*bundle.Bundle
	for seed := range n {
		dir := t.TempDir()
		if _, err := genrepo.Write(dir, genrepo.Options{Routes: routes, Seed: uint64(seed + 1)}); err != nil {
			t.Fatal(err)
		}
		res, diags, err := compile.Compile(context.Background(), &source.Source{FS: os.DirFS(dir)}, compile.Options{})
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		out = append(out, res.Bundles[0])
	}
	return out
}

func TestFileTarget(t *testing.T) {
	t.Parallel()
	bs := bundles(t, 50, 3)
	tgt := File{Dir: filepath.Join(t.TempDir(), "xds"), Keep: 2}
	must := func(r Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if cur, err := tgt.Current(); err != nil || cur != nil {
		t.Fatalf("empty target: %v %v", cur, err)
	}
	if r := must(tgt.Push(bs[0], Options{DryRun: true})); r.Status != WouldPush {
		t.Errorf("dry run: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(tgt.Dir, dataLink)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dry run wrote the target")
	}
	if r := must(tgt.Push(bs[0], Options{})); r.Status != Pushed || r.Previous != "" {
		t.Errorf("first push: %+v", r)
	}
	if r := must(tgt.Push(bs[0], Options{})); r.Status != UpToDate {
		t.Errorf("second push of the same bundle: %+v", r)
	}
	if _, err := tgt.Push(bs[1], Options{ExpectDigest: bs[0].Digest}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("push of an unexpected bundle: %v", err)
	}
	if r := must(tgt.Push(bs[1], Options{ExpectDigest: bs[1].Digest})); r.Status != Pushed || r.Previous != bs[0].Digest {
		t.Errorf("push of the expected bundle: %+v", r)
	}
	current := func() string {
		t.Helper()
		b, err := tgt.Current()
		if err != nil {
			t.Fatal(err)
		}
		return b.Digest
	}
	// What Envoy reads at the top of the directory is the current bundle.
	for _, f := range bs[1].Delivered() {
		got, err := os.ReadFile(filepath.Join(tgt.Dir, f.Path))
		if err != nil || string(got) != string(f.Data) {
			t.Fatalf("%s: not the pushed content (%v)", f.Path, err)
		}
	}
	must(tgt.Rollback(""))
	if current() != bs[0].Digest {
		t.Error("rollback did not return to the previous version")
	}
	must(tgt.Rollback(""))
	if current() != bs[1].Digest {
		t.Error("a second rollback did not come back")
	}
	must(tgt.Push(bs[2], Options{}))
	// Keep is 2: the oldest version is gone, and cannot be rolled back to.
	if _, err := tgt.Rollback(bs[0].Digest); err == nil {
		t.Error("rolled back to a version the target no longer keeps")
	}
	dirs, _ := filepath.Glob(filepath.Join(tgt.Dir, versionPref+"*"))
	if len(dirs) != 2 {
		t.Errorf("%d versions kept, want 2: %v", len(dirs), dirs)
	}
	h, err := tgt.History()
	if err != nil || len(h) == 0 || h[0].Digest != bs[2].Digest {
		t.Errorf("history: %+v %v", h, err)
	}
	// A file edgectl did not write is never replaced.
	if err := os.Remove(filepath.Join(tgt.Dir, "lds.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tgt.Dir, "lds.yaml"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Push(bs[0], Options{}); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("push over a foreign file: %v", err)
	}
}

// TestConcurrentPushesDoNotInterleave pushes two bundles from many
// goroutines at once: the lock serialises them, and the target always
// ends on one complete bundle.
func TestConcurrentPushesDoNotInterleave(t *testing.T) {
	t.Parallel()
	bs := bundles(t, 200, 2)
	tgt := File{Dir: t.TempDir()}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = File{Dir: tgt.Dir}.Push(bs[i%2], Options{})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	b, err := tgt.Current()
	if err != nil || b == nil || (b.Digest != bs[0].Digest && b.Digest != bs[1].Digest) {
		t.Fatalf("target after concurrent pushes: %v", err)
	}
}

// tamperVersion edits one file of a version directory in a target, the
// way someone with write access to it might.
func tamperVersion(t *testing.T, tgt File, digest, name string) {
	t.Helper()
	p := filepath.Join(tgt.Dir, versionDir(digest), name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "8080", "8081", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFileTargetTampered: a version directory is trusted only if it
// verifies, wherever the target reads it.
func TestFileTargetTampered(t *testing.T) {
	t.Parallel()
	bs := bundles(t, 5, 2)
	damagedFiles := func(err error) []string {
		var d *bundle.DamagedError
		if !errors.As(err, &d) {
			return nil
		}
		return d.Files()
	}
	pushed := func(t *testing.T, tgt File, bs ...*bundle.Bundle) {
		t.Helper()
		for _, b := range bs {
			if _, err := tgt.Push(b, Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("a kept version is verified before it is reused", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0], bs[1])
		tamperVersion(t, tgt, bs[0].Digest, "lds.yaml")
		r, err := tgt.Push(bs[0], Options{ExpectDigest: bs[0].Digest})
		if err != nil || r.Status != Pushed {
			t.Fatalf("push of the genuine bundle: %+v %v", r, err)
		}
		if !slices.ContainsFunc(r.Detail, func(d string) bool { return strings.Contains(d, "lds.yaml") && strings.Contains(d, "replaced") }) {
			t.Errorf("the repair is not reported: %q", r.Detail)
		}
		cur, err := tgt.Current()
		if err != nil || cur.Digest != bs[0].Digest {
			t.Fatalf("after the repair: %v", err)
		}
		got, _ := os.ReadFile(filepath.Join(tgt.Dir, "lds.yaml"))
		if string(got) != string(bs[0].File("xds/lds.yaml")) {
			t.Error("Envoy still reads the tampered lds.yaml")
		}
	})

	t.Run("a damaged current version is named, and repaired by a push", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0])
		tamperVersion(t, tgt, bs[0].Digest, "lds.yaml")
		_, err := tgt.Current()
		if got := damagedFiles(err); !slices.Equal(got, []string{"lds.yaml"}) {
			t.Fatalf("Current names %v: %v", got, err)
		}
		if err := os.WriteFile(filepath.Join(tgt.Dir, dataLink, "notes.txt"), []byte("hi"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = tgt.Current()
		if got := damagedFiles(err); !slices.Equal(got, []string{"lds.yaml", "notes.txt"}) {
			t.Fatalf("Current names %v: %v", got, err)
		}
		r, err := tgt.Push(bs[0], Options{})
		if err != nil || r.Status != Pushed {
			t.Fatalf("push over the damaged version: %+v %v", r, err)
		}
		if cur, err := tgt.Current(); err != nil || cur.Digest != bs[0].Digest {
			t.Fatalf("after the repair: %v", err)
		}
		if r, err := tgt.Push(bs[0], Options{}); err != nil || r.Status != UpToDate {
			t.Fatalf("a second push: %+v %v", r, err)
		}
	})

	t.Run("a damaged current version is pushed over by another bundle", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0])
		tamperVersion(t, tgt, bs[0].Digest, "cds.yaml")
		r, err := tgt.Push(bs[1], Options{})
		if err != nil || r.Status != Pushed || r.Previous != "" {
			t.Fatalf("push over a damaged version: %+v %v", r, err)
		}
		if !slices.ContainsFunc(r.Detail, func(d string) bool {
			return strings.Contains(d, "the version the target served did not verify") && strings.Contains(d, "cds.yaml")
		}) {
			t.Errorf("the damage is not reported: %q", r.Detail)
		}
		if cur, err := tgt.Current(); err != nil || cur.Digest != bs[1].Digest {
			t.Fatalf("after the push: %v", err)
		}
		if _, err := tgt.Rollback(""); err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("rollback to the damaged version: %v", err)
		}
	})

	t.Run("rollback to a damaged version is refused", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0], bs[1])
		tamperVersion(t, tgt, bs[0].Digest, "lds.yaml")
		_, err := tgt.Rollback("")
		if err == nil || !strings.Contains(err.Error(), "does not verify") || !strings.Contains(err.Error(), "lds.yaml") {
			t.Fatalf("rollback to a tampered version: %v", err)
		}
		if cur, err := tgt.Current(); err != nil || cur.Digest != bs[1].Digest {
			t.Fatalf("the refused rollback changed the target: %v", err)
		}
	})

	t.Run("rollback away from a damaged current version", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0], bs[1])
		tamperVersion(t, tgt, bs[1].Digest, "lds.yaml")
		if _, err := tgt.Rollback(bs[1].Digest); err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("rollback to the damaged current version: %v", err)
		}
		r, err := tgt.Rollback("")
		if err != nil || r.Status != RolledBack || r.Gateway != bs[0].Gateway || r.Previous != bs[1].Digest {
			t.Fatalf("rollback from a damaged version: %+v %v", r, err)
		}
		if cur, err := tgt.Current(); err != nil || cur.Digest != bs[0].Digest {
			t.Fatalf("after the rollback: %v", err)
		}
	})

	t.Run("a version directory holding another bundle", func(t *testing.T) {
		t.Parallel()
		tgt := File{Dir: t.TempDir()}
		pushed(t, tgt, bs[0], bs[1])
		// Swap the two version directories' contents: each verifies on its
		// own, neither is the version its name says.
		a, b := filepath.Join(tgt.Dir, versionDir(bs[0].Digest)), filepath.Join(tgt.Dir, versionDir(bs[1].Digest))
		if err := os.Rename(a, a+".x"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(b, a); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(a+".x", b); err != nil {
			t.Fatal(err)
		}
		if _, err := tgt.Current(); err == nil || !strings.Contains(err.Error(), "not the version its name says") {
			t.Fatalf("Current: %v", err)
		}
		if _, err := tgt.Rollback(bs[0].Digest); err == nil {
			t.Fatal("rolled back to a directory holding another bundle")
		}
		if _, err := tgt.Push(bs[1], Options{}); err != nil {
			t.Fatal(err)
		}
		if cur, err := tgt.Current(); err != nil || cur.Digest != bs[1].Digest {
			t.Fatalf("after the repair: %v", err)
		}
	})

	t.Run("rollback of a target nothing was pushed to", func(t *testing.T) {
		t.Parallel()
		_, err := File{Dir: filepath.Join(t.TempDir(), "missing")}.Rollback("")
		if !errors.Is(err, ErrNoTarget) {
			t.Fatalf("rollback of a missing target: %v", err)
		}
	})
}
