package push

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
