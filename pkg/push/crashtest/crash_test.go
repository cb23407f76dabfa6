// Package crashtest kills pushes and rollbacks of a file target at every
// step of their protocol and checks what they leave. It is a package of
// its own so that its child processes, the test binary itself, start
// fast: it links push and bundle, not the compiler.
package crashtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/push"
	"github.com/edgectl/edgectl/pkg/xds"
)

// The child process of the crash tests runs one push or rollback against
// one target and exits; push.CrashEnv may make it die on the way.
const (
	childTarget = "EDGECTL_TEST_CHILD_TARGET" // the target directory
	childBundle = "EDGECTL_TEST_CHILD_BUNDLE" // a bundle directory to push, or "rollback"
	childKeep   = "EDGECTL_TEST_CHILD_KEEP"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childTarget); dir != "" {
		keep, _ := strconv.Atoi(os.Getenv(childKeep))
		tgt := push.File{Dir: dir, Keep: keep}
		var err error
		if src := os.Getenv(childBundle); strings.HasPrefix(src, "rollback:") {
			_, err = tgt.Rollback(strings.TrimPrefix(src, "rollback:"))
		} else {
			var b *bundle.Bundle
			if b, err = bundle.Read(os.DirFS(src)); err == nil {
				_, err = tgt.Push(b, push.Options{})
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashScenario is a target in a known state and one action on it.
type crashScenario struct {
	name   string
	keep   int
	before []int // bundles pushed first, in order
	damage bool  // then the current version's lds.yaml is edited
	push   int   // the bundle pushed; -1 rolls back instead
	old    int   // the bundle the target serves before the action, -1 for none
	new    int   // the bundle it serves after
}

var crashScenarios = []crashScenario{
	{name: "first push", push: 0, old: -1, new: 0},
	{name: "update", before: []int{0}, push: 1, old: 0, new: 1},
	{name: "update that prunes", keep: 2, before: []int{0, 1}, push: 2, old: 1, new: 2},
	{name: "repair of the current version", before: []int{0}, damage: true, push: 0, old: 0, new: 0},
	{name: "rollback", before: []int{0, 1}, push: -1, old: 1, new: 0},
}

// crashFixture holds the bundles of the crash tests, compiled and written
// out once.
type crashFixture struct {
	bundles []*bundle.Bundle
	dirs    []string // each bundle as compile writes it
	exe     string
}

func newCrashFixture(t *testing.T, routes int) *crashFixture {
	t.Helper()
	f := &crashFixture{bundles: bundles(t, routes)}
	for _, b := range f.bundles {
		out := t.TempDir()
		if err := bundle.WriteOutput(out, []*bundle.Bundle{b}); err != nil {
			t.Fatal(err)
		}
		f.dirs = append(f.dirs, filepath.Join(out, b.Gateway))
	}
	var err error
	if f.exe, err = os.Executable(); err != nil {
		t.Fatal(err)
	}
	return f
}

// setUp brings a fresh target to the scenario's starting state.
func (f *crashFixture) setUp(t *testing.T, sc crashScenario, dir string) push.File {
	t.Helper()
	tgt := push.File{Dir: dir, Keep: sc.keep}
	for _, i := range sc.before {
		if _, err := tgt.Push(f.bundles[i], push.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if sc.damage {
		lds := filepath.Join(dir, "..data", "lds.yaml")
		data, err := os.ReadFile(lds)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lds, append(data, "# edited\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tgt
}

// act runs the scenario's action in this process, its steps recorded.
func (f *crashFixture) act(sc crashScenario, tgt push.File) error {
	var err error
	if sc.push < 0 {
		_, err = tgt.Rollback(f.bundles[sc.new].Digest)
	} else {
		_, err = tgt.Push(f.bundles[sc.push], push.Options{})
	}
	return err
}

func (f *crashFixture) child(sc crashScenario, dir string, env ...string) *exec.Cmd {
	src := "rollback:" + f.bundles[sc.new].Digest
	if sc.push >= 0 {
		src = f.dirs[sc.push]
	}
	cmd := exec.Command(f.exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childTarget+"="+dir, childBundle+"="+src, childKeep+"="+strconv.Itoa(sc.keep))
	// One thread is enough for a child, and starts faster.
	cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// checkInvariant asserts what a crash at any instant must leave: the
// target serves the old bundle or the new one, each complete and verified
// by digest (Current recomputes it from what Envoy reads). A target whose
// old version was damaged may still serve it damaged, never a mix with
// the new one.
func (f *crashFixture) checkInvariant(t *testing.T, sc crashScenario, tgt push.File, when string) {
	t.Helper()
	cur, err := tgt.Current()
	var damaged *bundle.DamagedError
	switch {
	case err != nil && sc.damage && errors.As(err, &damaged):
		if !slices.Equal(damaged.Files(), []string{"lds.yaml"}) {
			t.Fatalf("%s: the damaged version changed: %v", when, err)
		}
	case err != nil:
		t.Fatalf("%s: the target is damaged: %v", when, err)
	case cur == nil:
		if sc.old >= 0 {
			t.Fatalf("%s: the target lost its bundle", when)
		}
	case cur.Digest == f.bundles[sc.new].Digest:
	case sc.old >= 0 && cur.Digest == f.bundles[sc.old].Digest && !sc.damage:
	default:
		t.Fatalf("%s: the target serves %s, neither the old bundle nor the new one", when, cur.Digest)
	}
}

// checkSane asserts a target after a successful action: it serves the new
// bundle, its history says so, every version it keeps verifies, and no
// temporary file stays.
func (f *crashFixture) checkSane(t *testing.T, sc crashScenario, tgt push.File, when string) {
	t.Helper()
	want := f.bundles[sc.new].Digest
	cur, err := tgt.Current()
	if err != nil || cur == nil || cur.Digest != want {
		t.Fatalf("%s: the target does not serve the new bundle: %v", when, err)
	}
	h, err := tgt.History()
	if err != nil || len(h) == 0 || h[0].Digest != want {
		t.Fatalf("%s: the history does not name the current version first: %+v %v", when, h, err)
	}
	entries, err := os.ReadDir(tgt.Dir)
	if err != nil {
		t.Fatal(err)
	}
	versions := 0
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), ".tmp-"):
			t.Fatalf("%s: %s left behind", when, e.Name())
		case strings.HasPrefix(e.Name(), "..sha256-"):
			versions++
			if _, err := bundle.ReadDelivered(os.DirFS(filepath.Join(tgt.Dir, e.Name()))); err != nil {
				t.Fatalf("%s: kept version does not verify: %v", when, err)
			}
		}
	}
	if keep := cmpOr(sc.keep, 5); versions > keep {
		t.Fatalf("%s: %d versions kept, want at most %d", when, versions, keep)
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// TestCrashAtEveryStep kills a push (or rollback) at each step of its
// protocol in turn, through the fault hook (push.CrashEnv), in a child process
// that dies by SIGKILL with nothing deferred run. After each crash the
// target must serve the old bundle or the new one, whole, and the same
// action run again must succeed and leave a sane target. The steps are
// counted by running the action once in this process; the child crashing
// at the step after the last must not crash at all, so the count is exact.
func TestCrashAtEveryStep(t *testing.T) {
	t.Parallel()
	f := newCrashFixture(t, 1)
	for _, sc := range crashScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			crashes := 0
			for k := 1; ; k++ {
				if k > 500 {
					t.Fatal("500 steps and the push still crashes")
				}
				dir := filepath.Join(root, strconv.Itoa(k))
				tgt := f.setUp(t, sc, dir)
				out, err := f.child(sc, dir, push.CrashEnv+"="+strconv.Itoa(k)).CombinedOutput()
				when := strings.TrimSpace(string(out))
				done := err == nil
				switch {
				case done:
					when = fmt.Sprintf("no crash at step %d", k)
				case !killed(err):
					t.Fatalf("crash at step %d: the child failed without dying: %v\n%s", k, err, out)
				case !strings.Contains(when, fmt.Sprintf("killed before step %d:", k)):
					t.Fatalf("crash at step %d: the child died elsewhere: %s", k, out)
				default:
					crashes++
				}
				f.checkInvariant(t, sc, tgt, when)
				if err := f.act(sc, tgt); err != nil {
					t.Fatalf("%s: the action again: %v", when, err)
				}
				f.checkSane(t, sc, tgt, when+", then again")
				if done {
					break
				}
			}
			if crashes < 8 {
				t.Fatalf("only %d steps: the hook is not reached", crashes)
			}
			t.Logf("%d steps, a crash before each", crashes)
		})
	}
}

func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestCrashAtRandomInstants kills pushes of a larger bundle with SIGKILL
// from outside, at instants drawn at random. Where the kills land depends
// on the machine, so the test asserts only the invariant, after each.
func TestCrashAtRandomInstants(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	t.Parallel()
	f := newCrashFixture(t, 1500)
	r := rand.New(rand.NewPCG(1, 2))
	sc := crashScenarios[1]
	for trial := range 6 {
		dir := filepath.Join(t.TempDir(), "xds")
		tgt := f.setUp(t, sc, dir)
		cmd := f.child(sc, dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(r.Int64N(int64(150 * time.Millisecond))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		when := fmt.Sprintf("random kill %d", trial)
		f.checkInvariant(t, sc, tgt, when)
		if err := f.act(sc, tgt); err != nil {
			t.Fatalf("%s: the push again: %v", when, err)
		}
		f.checkSane(t, sc, tgt, when+", then again")
	}
}

// bundles makes three versions of a gateway by hand: the first serves one
// listener, the second adds another (a file appears), the third keeps only
// that one (a file goes). Each cluster carries padding so a large bundle
// takes a while to write.
func bundles(t *testing.T, clusters int) []*bundle.Bundle {
	t.Helper()
	g := &ir.Gateway{Name: "edge", NodeID: "edge", NodeCluster: "edge", XDSDir: "/etc/envoy/xds"}
	var out []*bundle.Bundle
	for v, listeners := range [][]string{{"http"}, {"http", "alt"}, {"alt"}} {
		r := &xds.Resources{}
		for i, name := range listeners {
			r.Listeners = append(r.Listeners, &listenerv3.Listener{Name: name, Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
				SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(8080 + i)}}}}})
			r.Routes = append(r.Routes, &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{Name: name, Domains: []string{"*"}}}})
		}
		for i := range clusters {
			r.Clusters = append(r.Clusters, &clusterv3.Cluster{Name: fmt.Sprintf("c%05d-v%d-%s", i, v, strings.Repeat("x", 100))})
		}
		b, err := bundle.Encode(bundle.Input{
			Gateway: g.Name, Node: bundle.Node{ID: g.NodeID, Cluster: g.NodeCluster}, XDSDir: g.XDSDir,
			Static: xds.StaticBootstrap(g, r), Dynamic: xds.FilesBootstrap(g), Resources: r,
		}, bundle.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
