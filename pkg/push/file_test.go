package push

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// crashHelper is the child process of TestPushSurvivesSIGKILL: it pushes
// one bundle directory to one target and exits.
func TestMain(m *testing.M) {
	if dir := os.Getenv("EDGECTL_CRASH_PUSH_TARGET"); dir != "" {
		b, err := bundle.Read(os.DirFS(os.Getenv("EDGECTL_CRASH_PUSH_BUNDLE")))
		if err == nil && os.Getenv("EDGECTL_CRASH_PUSH_NOOP") == "" {
			_, err = File{Dir: dir}.Push(b, Options{})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPushSurvivesSIGKILL kills a pushing process with SIGKILL at random
// instants, at least 200 times. After each kill the target must hold the
// complete old bundle or the complete new one: every file Envoy reads
// matches the manifest, every resource its hash, and the digest holds.
func TestPushSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 200 processes")
	}
	bs := bundles(t, 2000, 2)
	out := t.TempDir()
	if err := bundle.WriteOutput(out, bs[:1]); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(t.TempDir(), "v0"), filepath.Join(t.TempDir(), "v1")}
	for i, b := range bs {
		if err := bundle.WriteOutput(dirs[i], []*bundle.Bundle{b}); err != nil {
			t.Fatal(err)
		}
		dirs[i] = filepath.Join(dirs[i], b.Gateway)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	push := func(i int, env ...string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(append(os.Environ(), "EDGECTL_CRASH_PUSH_TARGET="+target, "EDGECTL_CRASH_PUSH_BUNDLE="+dirs[i]), env...)
		return cmd
	}
	timed := func(cmd *exec.Cmd) time.Duration {
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return time.Since(start)
	}
	// The kills aim at the push itself: from the end of the child's start
	// (reading the bundle) to a little after a whole push would finish.
	timed(push(0))
	startup := min(timed(push(1, "EDGECTL_CRASH_PUSH_NOOP=1")), timed(push(1, "EDGECTL_CRASH_PUSH_NOOP=1")))
	full := min(timed(push(1)), timed(push(0)))
	r := rand.New(rand.NewPCG(1, 2))
	const trials = 200
	completed, flipped := 0, 0
	// Half the kills land anywhere in the push; the other half between the
	// latest kill that left the old bundle and the earliest that let the
	// push finish, where the swap is. Those bounds follow the machine's
	// load, which moves the swap around.
	lastOld, firstDone := time.Duration(0), time.Duration(math.MaxInt64)
	for trial := range trials {
		before, err := File{Dir: target}.Current()
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		if before.Digest == bs[0].Digest {
			next = 1
		}
		cmd := push(next)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		window := max(full-startup, time.Millisecond)
		delay := startup*8/10 + time.Duration(r.Int64N(int64(window)*13/10))
		if trial%2 == 1 && firstDone > lastOld && firstDone != math.MaxInt64 {
			delay = lastOld + time.Duration(r.Int64N(int64(firstDone-lastOld)))
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		done := cmd.Wait() == nil
		if done {
			completed++
			firstDone = min(firstDone, delay)
		}
		after, err := File{Dir: target}.Current()
		if err != nil {
			t.Fatalf("trial %d: the target is damaged: %v", trial, err)
		}
		switch after.Digest {
		case bs[next].Digest:
			flipped++
		case before.Digest:
			lastOld = max(lastOld, delay)
		default:
			t.Fatalf("trial %d: the target holds neither bundle", trial)
		}
	}
	t.Logf("%d trials: start-up %v, push %v; %d killed before the swap, %d killed after it, %d finished",
		trials, startup, full-startup, trials-flipped, flipped-completed, completed)
	// Most kills must interrupt a push in progress, and some must land after
	// the swap (a short phase), or the test proves nothing.
	if trials-completed < trials/2 || flipped-completed < 1 {
		t.Errorf("kills did not spread over the push: %d before the swap, %d after, %d too late", trials-flipped, flipped-completed, completed)
	}
	if left, _ := filepath.Glob(filepath.Join(target, ".tmp-*")); len(left) > 3 {
		t.Errorf("a later push should clear what killed ones left: %v", left)
	}
	// And the target still takes pushes after all that.
	if o, err := push(0).CombinedOutput(); err != nil {
		t.Fatalf("push after the trials: %v\n%s", err, o)
	}
}
