package serve

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	gitserver "github.com/go-git/go-git/v5/plumbing/transport/server"

	"github.com/edgectl/edgectl/internal/gittest"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// commitFiles replaces the files under sub of the repository with files,
// and commits.
func commitFiles(r *gittest.Repo, sub string, files map[string]string) string {
	root := filepath.Join(r.Dir, sub)
	des, _ := os.ReadDir(root)
	for _, de := range des {
		if de.Name() != ".git" {
			os.RemoveAll(filepath.Join(root, de.Name()))
		}
	}
	for name, data := range files {
		r.Write(path.Join(sub, name), data)
	}
	return r.Commit("change")
}

// TestGitSource follows a branch of a git remote: the first commit is
// compiled and served, a commit that does not compile is reported with its
// commit and changes nothing, and the next good commit is served.
func TestGitSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  func(dir string) string
		sub  string
	}{
		{"file URL", func(dir string) string { return "file://" + dir }, ""},
		{"local path, project in a subdirectory", func(dir string) string { return dir }, "routing/edge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.New(t)
			files1 := edgeRepo(map[string]string{"a": "1s"})
			c1 := commitFiles(repo, tt.sub, files1)
			repo.Git("checkout", "-q", "-b", "other") // the server follows main, not HEAD
			src := Git{URL: tt.url(repo.Dir), Ref: "main", Subdir: tt.sub, Interval: 100 * time.Millisecond, CacheDir: t.TempDir()}
			s := startServer(t, Options{}, src)
			name := src.String()
			want1 := digest(compileFiles(t, files1), "edge")
			eventually(t, "the first commit", func() bool { return s.servedVersion(t, "edge") == want1 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+strconv.Quote(name)+`,revision="`+c1+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c1)
			}
			if code, _ := s.get(t, "/readyz"); code != 200 {
				t.Errorf("/readyz: %d", code)
			}

			// A commit on another branch is not followed.
			commitFiles(repo, tt.sub, edgeRepo(map[string]string{"a": "5s"}))

			// A commit that does not compile.
			repo.Git("checkout", "-q", "main")
			broken := edgeRepo(map[string]string{"a": "1s"})
			broken["edge.yaml"] = strings.Replace(broken["edge.yaml"], "protocol: HTTP}", "protocol: HTTTP}", 1)
			c2 := commitFiles(repo, tt.sub, broken)
			errors := `edgectl_serve_source_errors_total{source=` + strconv.Quote(name) + `}`
			eventually(t, "the broken commit to be reported", func() bool { return s.metric(t, errors) == 1 })
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{source=`+strconv.Quote(name)+`,revision="`+c2+`"}`); n != 1 {
				t.Errorf("the rejected commit %s is not in the metrics", c2)
			}
			if got := s.servedVersion(t, "edge"); got != want1 {
				t.Errorf("after a broken commit the version is %s, want the last good %s", got, want1)
			}
			if !containsLine(s.log.String(), "keeping the last good version", "revision="+c2, "the repository was rejected", "protocol") {
				t.Errorf("the log does not say why commit %s was rejected", c2)
			}
			time.Sleep(300 * time.Millisecond) // more fetches: the same commit is reported once
			if n := s.metric(t, errors); n != 1 {
				t.Errorf("source errors after re-fetching a broken commit: %v, want 1", n)
			}

			files3 := edgeRepo(map[string]string{"a": "3s"})
			c3 := commitFiles(repo, tt.sub, files3)
			want3 := digest(compileFiles(t, files3), "edge")
			eventually(t, "the fixed commit", func() bool { return s.servedVersion(t, "edge") == want3 })
			if n := s.metric(t, `edgectl_serve_source_revision{source=`+strconv.Quote(name)+`,revision="`+c3+`"}`); n != 1 {
				t.Errorf("the served commit is not %s", c3)
			}
			if n := s.metric(t, `edgectl_serve_source_rejected_revision{`); n != -1 {
				t.Errorf("a rejected commit is still reported after a good one")
			}
		})
	}
}

// TestFetchBackoff: the wait doubles with each failed fetch in a row, up to
// ten intervals or five minutes, and is never shorter than the interval.
func TestFetchBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval time.Duration
		want     []time.Duration // after 0, 1, 2, ... failures
	}{
		{30 * time.Second, []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}},
		{time.Second, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
		{10 * time.Minute, []time.Duration{10 * time.Minute, 10 * time.Minute, 10 * time.Minute}},
		{time.Minute, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute}},
	}
	for _, tt := range tests {
		for n, want := range tt.want {
			if got := fetchBackoff(tt.interval, n); got != want {
				t.Errorf("interval %s, %d failures: %s, want %s", tt.interval, n, got, want)
			}
		}
	}
	if got := fetchBackoff(time.Second, 1_000_000); got != 10*time.Second {
		t.Errorf("a million failures: %s, want the cap", got)
	}
}

// watchEvent is what a Git source under test does: a load it applies, or
// a wait it asks for.
type watchEvent struct {
	load *Load
	wait time.Duration
	done chan time.Time // ends the wait
}

// watcher runs g.Watch with its waits and loads reported on events, one
// at a time: the source stays in apply, or in its wait, until the test has
// taken the event (and, for a load, resumed it).
type watcher struct {
	t      *testing.T
	events chan watchEvent
	resume chan struct{}
	stop   func()
}

func startWatch(t *testing.T, g Git) *watcher {
	t.Helper()
	w := &watcher{t: t, events: make(chan watchEvent), resume: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	g.after = func(d time.Duration) <-chan time.Time {
		done := make(chan time.Time, 1)
		select {
		case w.events <- watchEvent{wait: d, done: done}:
		case <-ctx.Done():
		}
		return done
	}
	stopped := make(chan error, 1)
	go func() {
		stopped <- g.Watch(ctx, func(l Load) {
			select {
			case w.events <- watchEvent{load: &l}:
				select {
				case <-w.resume:
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
		})
	}()
	w.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	t.Cleanup(w.stop)
	return w
}

// next is the source's next event.
func (w *watcher) next() watchEvent {
	w.t.Helper()
	select {
	case e := <-w.events:
		return e
	case <-time.After(30 * time.Second): // a hang, not a measure
		w.t.Fatal("the source did nothing")
		return watchEvent{}
	}
}

// load takes the next event, which must be a load, and resumes the source.
func (w *watcher) load() Load {
	w.t.Helper()
	e := w.next()
	if e.load == nil {
		w.t.Fatalf("the source asked to wait %s; want a load", e.wait)
	}
	w.resume <- struct{}{}
	return *e.load
}

// wait takes the next event, which must be a wait of d.
func (w *watcher) wait(d time.Duration) watchEvent {
	w.t.Helper()
	e := w.next()
	if e.load != nil {
		w.resume <- struct{}{}
		w.t.Fatalf("the source applied a load (%v); want a wait of %s", e.load.Err, d)
	}
	if e.wait != d {
		w.t.Fatalf("the source waits %s, want %s", e.wait, d)
	}
	return e
}

// TestGitBackoff: fetches that fail wait longer and longer, a trigger
// fetches at once all the same, and the first fetch that works brings the
// interval back. Time is the test's: each wait ends when the test says.
func TestGitBackoff(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routing")
	trigger := &Trigger{}
	w := startWatch(t, Git{URL: path, Interval: time.Second, CacheDir: t.TempDir(), Trigger: trigger})
	for i, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second} {
		l := w.load()
		if l.Err == nil || !strings.Contains(l.Err.Error(), fmt.Sprintf("fetch failed %d times in a row; next in %s", i+1, wait)) {
			t.Fatalf("fetch %d: %v; want a failure with the wait", i+1, l.Err)
		}
		w.wait(wait).done <- time.Time{}
	}
	// A trigger does not wait for the backoff.
	w.load()
	w.wait(10 * time.Second)
	trigger.Fire()
	if l := w.load(); l.Err == nil {
		t.Fatal("the triggered fetch worked without a repository")
	}
	e := w.wait(10 * time.Second)

	// The remote is back: the next fetch works, and the interval is back.
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	repo := gittest.At(t, path)
	repo.Git("init", "-q", "-b", "main")
	files := edgeRepo(map[string]string{"a": "1s"})
	c1 := commitFiles(repo, "", files)
	e.done <- time.Time{}
	l := w.load()
	if l.Err != nil || l.Revision != c1 || len(l.Gateways) != 1 || l.Gateways[0].Digest != digest(compileFiles(t, files), "edge") {
		t.Fatalf("after the remote came back: %s, %v; want %s compiled", l.Revision, l.Err, c1)
	}
	w.wait(time.Second)
}

// TestGitShallow: a fetch brings the followed branch or tag at depth 1,
// and what it brings compiles; the next fetch adds the new tip to the
// shallow clone, and a full clone left by an earlier version takes shallow
// fetches too.
func TestGitShallow(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
	commitFiles(repo, "", edgeRepo(map[string]string{"a": "2s"}))
	files3 := edgeRepo(map[string]string{"a": "3s"})
	c3 := commitFiles(repo, "", files3)
	repo.Git("tag", "-a", "-m", "release", "v1")
	repo.Git("checkout", "-q", "-b", "other")
	commitFiles(repo, "", edgeRepo(map[string]string{"a": "9s"}))
	repo.Git("checkout", "-q", "main")

	compiles := func(t *testing.T, dir, commit string, files map[string]string) {
		t.Helper()
		r, err := source.OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		src, err := r.Git(commit, "")
		if err != nil {
			t.Fatal(err)
		}
		res, diags, err := compile.Compile(context.Background(), src, compile.Options{})
		if err != nil || diags.HasErrors() {
			t.Fatalf("compile %s: %v %v", commit, err, diags)
		}
		if got, want := digest(res, "edge"), digest(compileFiles(t, files), "edge"); got != want {
			t.Errorf("commit %s compiles to %s, want %s", commit, got, want)
		}
	}
	shallowOf := func(t *testing.T, dir string) []string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "shallow"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Fields(string(data))
	}
	commits := func(dir string) int {
		return len(strings.Fields(gittest.At(t, dir).Git("rev-list", "--all")))
	}

	for _, ref := range []string{"main", "v1"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			g := Git{URL: "file://" + repo.Dir, Ref: ref, CacheDir: t.TempDir()}
			dir := filepath.Join(g.CacheDir, cacheName(g.URL))
			shallow, err := g.fetch(context.Background(), dir, true)
			if err != nil || !shallow {
				t.Fatalf("fetch: shallow %v, %v", shallow, err)
			}
			if got, err := fetchCommit(t, g); err != nil || got != c3 {
				t.Fatalf("%s is at %s, %v; want %s", ref, got, err, c3)
			}
			if got := shallowOf(t, dir); len(got) != 1 || got[0] != c3 {
				t.Errorf("the clone is shallow at %v, want %s alone", got, c3)
			}
			if n := commits(dir); n != 1 {
				t.Errorf("the clone has %d commits, want the tip alone", n)
			}
			compiles(t, dir, c3, files3)
		})
	}

	t.Run("the next commit", func(t *testing.T) {
		t.Parallel()
		repo := gittest.New(t)
		c1 := commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
		g := Git{URL: repo.Dir, Ref: "main", CacheDir: t.TempDir()}
		dir := filepath.Join(g.CacheDir, cacheName(g.URL))
		if got, err := fetchCommit(t, g); err != nil || got != c1 {
			t.Fatalf("first fetch: %s, %v", got, err)
		}
		files2 := edgeRepo(map[string]string{"a": "2s"})
		c2 := commitFiles(repo, "", files2)
		if got, err := fetchCommit(t, g); err != nil || got != c2 {
			t.Fatalf("second fetch: %s, %v; want %s", got, err, c2)
		}
		compiles(t, dir, c2, files2)
	})

	t.Run("a full clone", func(t *testing.T) {
		t.Parallel()
		repo := gittest.New(t)
		commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
		commitFiles(repo, "", edgeRepo(map[string]string{"a": "2s"}))
		g := Git{URL: repo.Dir, Ref: "main", CacheDir: t.TempDir()}
		dir := filepath.Join(g.CacheDir, cacheName(g.URL))
		if shallow, err := g.fetch(context.Background(), dir, false); err != nil || shallow {
			t.Fatalf("full fetch: shallow %v, %v", shallow, err)
		}
		if n := commits(dir); n != 2 {
			t.Fatalf("the full clone has %d commits, want 2", n)
		}
		files3 := edgeRepo(map[string]string{"a": "3s"})
		c3 := commitFiles(repo, "", files3)
		if got, err := fetchCommit(t, g); err != nil || got != c3 {
			t.Fatalf("shallow fetch into the full clone: %s, %v; want %s", got, err, c3)
		}
		compiles(t, dir, c3, files3)
	})
}

// The gogit protocol serves local repositories with go-git's own server side,
// which cannot fetch shallow: gogit:///path/to/repo.git.
func init() {
	client.InstallProtocol("gogit", gitserver.NewClient(gitserver.NewFilesystemLoader(osfs.New("/"))))
}

// TestGitShallowFallback: a remote that cannot fetch shallow is fetched
// in full, and what comes compiles.
func TestGitShallowFallback(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
	files := edgeRepo(map[string]string{"a": "2s"})
	c2 := commitFiles(repo, "", files)
	g := Git{URL: "gogit://" + filepath.Join(repo.Dir, ".git"), Ref: "main", CacheDir: t.TempDir()}
	dir := filepath.Join(g.CacheDir, cacheName(g.URL))
	shallow, err := g.fetch(context.Background(), dir, true)
	if err != nil || shallow {
		t.Fatalf("fetch: shallow %v, %v; want a full fetch", shallow, err)
	}
	w := startWatch(t, Git{URL: g.URL, Ref: "main", Interval: time.Minute, CacheDir: g.CacheDir})
	l := w.load()
	if l.Err != nil || l.Revision != c2 || l.Gateways[0].Digest != digest(compileFiles(t, files), "edge") {
		t.Fatalf("served %s, %v; want %s compiled", l.Revision, l.Err, c2)
	}
	w.wait(time.Minute)
}
