package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/source"
)

// Git is a source: a branch or tag of a git remote, fetched every Interval
// into a cache directory. Each new commit at its tip is compiled, without a
// checkout, and served when it compiles; one that does not leaves every
// gateway on its last good version, and is reported once. Commits pushed
// between two fetches are not compiled one by one: only the tip matters.
//
// A fetch brings only the tip commit of the followed ref (depth 1), or the
// whole history when the remote cannot fetch shallow. A failed fetch makes
// the next wait longer (see fetchBackoff); a Trigger fires a fetch at once.
type Git struct {
	// URL is anything go-git fetches from: https://, ssh:// and scp-like
	// user@host:path, git://, file:// URLs and local paths. It may name a
	// user but not hold a password.
	URL string
	// Ref is a branch or a tag; empty means main.
	Ref string
	// Subdir is the project directory inside the repository.
	Subdir string
	// Interval is the time between fetches; zero means 30s.
	Interval time.Duration
	// CacheDir holds the clones, one bare repository per URL.
	CacheDir string
	// Compile is passed to every compile.
	Compile compile.Options
	// Auth are the credentials of a private remote.
	Auth GitAuth
	// Trigger, when set, fires a fetch at once (a webhook): one more
	// fetch however many times it fired during the last one.
	Trigger *Trigger

	// after waits between fetches; nil means time.After. Tests drive
	// the wait through it.
	after func(time.Duration) <-chan time.Time
}

func (g Git) ref() string {
	if g.Ref == "" {
		return "main"
	}
	return strings.TrimPrefix(g.Ref, "refs/heads/")
}

func (g Git) String() string {
	s := "git " + redactURL(g.URL) + "@" + g.ref()
	if sub := strings.Trim(g.Subdir, "/"); sub != "" && sub != "." {
		s += ":" + sub
	}
	return s
}

// maxBackoff bounds the wait after failed fetches, whatever the interval.
const maxBackoff = 5 * time.Minute

// fetchBackoff is the wait before the next fetch when the last failures
// fetches failed in a row: the interval, doubled at each failure, up to ten
// intervals or maxBackoff, whichever is less, and never less than the
// interval. A remote that is down or refuses the credentials is not asked
// every few seconds, and one that comes back is fetched again within
// minutes.
func fetchBackoff(interval time.Duration, failures int) time.Duration {
	limit := max(min(10*interval, maxBackoff), interval)
	d := interval
	for i := 0; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// gitState is what a Watch remembers from one fetch to the next.
type gitState struct {
	last     string // the newest commit compiled, successfully or not
	shallow  bool   // fetch with depth 1; false once the remote could not
	failures int    // fetches failed in a row
}

// Watch implements Source.
func (g Git) Watch(ctx context.Context, apply func(Load)) error {
	if g.CacheDir == "" {
		return errors.New("no cache directory for the clone")
	}
	if _, err := endpoint(g.URL); err != nil {
		return err
	}
	interval := g.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	after := g.after
	if after == nil {
		after = time.After
	}
	dir := filepath.Join(g.CacheDir, cacheName(g.URL))
	st := &gitState{shallow: true}
	for {
		l, news := g.poll(ctx, dir, st)
		wait := fetchBackoff(interval, st.failures)
		if news && ctx.Err() == nil {
			if st.failures > 0 {
				l.Err = fmt.Errorf("%w (fetch failed %d times in a row; next in %s)", l.Err, st.failures, wait)
			}
			apply(l)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-after(wait):
		case <-g.Trigger.C():
		}
	}
}

// poll fetches and compiles a commit that was not compiled yet. It reports
// whether it has news: a load, or a failure to fetch.
func (g Git) poll(ctx context.Context, dir string, st *gitState) (Load, bool) {
	start := time.Now()
	shallow, err := g.fetch(ctx, dir, st.shallow)
	if err != nil {
		st.failures++
		return Load{Err: err}, true
	}
	st.failures, st.shallow = 0, shallow
	repo, err := source.OpenRepo(dir)
	if err != nil {
		return Load{Err: err}, true
	}
	defer repo.Close()
	commit, err := resolveRef(repo, g.ref())
	if err != nil {
		return Load{Err: err}, true
	}
	if commit == st.last {
		return Load{}, false
	}
	src, err := repo.Git(commit, g.Subdir)
	if err != nil {
		st.last = commit // the commit will not change: say it once
		return Load{Revision: commit, Err: err}, true
	}
	res, diags, err := compile.Compile(ctx, src, g.Compile)
	if err != nil {
		// edgectl failed (I/O, an internal error), not the commit: the
		// next fetch tries again.
		return Load{Revision: commit, Err: fmt.Errorf("compile: %w", err)}, true
	}
	st.last = commit
	if diags.HasErrors() {
		return Load{Revision: commit, Err: rejected(diags.WithPrefix(src.Prefix))}, true
	}
	l := Load{Revision: commit, Took: time.Since(start)}
	for i, b := range res.Bundles {
		l.Gateways = append(l.Gateways, &Gateway{Name: b.Gateway, NodeCluster: b.Manifest.Node.Cluster, Digest: b.Digest, Resources: res.Resources[i]})
	}
	return l, true
}

// rejected summarises the errors that rejected a commit, the first few in
// full: the log line must say what to fix.
func rejected(diags diag.List) error {
	var first []string
	for _, d := range diags {
		if d.Severity == diag.Error && len(first) < 5 {
			first = append(first, d.String())
		}
	}
	return fmt.Errorf("the repository was rejected (%s): %s", diag.Summary(diags), strings.Join(first, "; "))
}

// allRefs fetches every branch and tag, for a ref the remote does not
// list by name (a commit, or a ref that is gone).
var allRefs = []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"}

// fetch brings the followed ref of the remote into the bare repository at
// dir, creating it on first use. With shallow, it asks for the tip commit
// alone, and fetches in full when that fails: some servers (go-git's own)
// cannot fetch shallow. It reports whether the fetch was shallow. The
// clone may be a full one from an earlier fetch: a shallow fetch adds to
// it.
func (g Git) fetch(ctx context.Context, dir string, shallow bool) (bool, error) {
	url := redactURL(g.URL)
	ep, err := endpoint(g.URL)
	if err != nil {
		return false, err
	}
	auth, secrets, err := g.Auth.method(ep)
	if err != nil {
		return false, fmt.Errorf("fetch %s: %w", url, scrub(err, secrets))
	}
	r, err := openClone(dir, g.URL)
	if err != nil {
		return false, err
	}
	rem, err := r.Remote("origin")
	if err != nil {
		return false, fmt.Errorf("open clone %s: %w", dir, err)
	}
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return false, fmt.Errorf("fetch %s: %w", url, scrub(explainFetch(err, auth), secrets))
	}
	specs := allRefs
	if spec, ok := followSpec(refs, g.ref()); ok {
		specs = []config.RefSpec{spec}
	} else {
		shallow = false // go-git cannot deepen a ref it does not fetch
	}
	opts := &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   specs,
		Auth:       auth,
		Tags:       git.NoTags, // the refspec brings them
		Force:      true,
		Prune:      true,
	}
	if shallow {
		opts.Depth = 1
		err := r.FetchContext(ctx, opts)
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
			return true, nil
		}
		if ctx.Err() != nil {
			return false, fmt.Errorf("fetch %s: %w", url, scrub(err, secrets))
		}
		opts.Depth = 0
	}
	err = r.FetchContext(ctx, opts)
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return false, fmt.Errorf("fetch %s: %w", url, scrub(explainFetch(err, auth), secrets))
	}
	return false, nil
}

// openClone opens the bare clone of url at dir, creating it on first use.
func openClone(dir, url string) (*git.Repository, error) {
	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("create cache directory: %w", err)
		}
		r, err = git.PlainInit(dir, true)
		if err == nil {
			_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open clone %s: %w", dir, err)
	}
	if rem, err := r.Remote("origin"); err != nil || len(rem.Config().URLs) == 0 || rem.Config().URLs[0] != url {
		return nil, fmt.Errorf("open clone %s: it is not a clone of %s; remove it", dir, redactURL(url))
	}
	return r, nil
}

// followSpec is the refspec that fetches ref alone, as a branch when the
// remote has one of that name, else as a tag.
func followSpec(refs []*plumbing.Reference, ref string) (config.RefSpec, bool) {
	has := map[plumbing.ReferenceName]bool{}
	for _, r := range refs {
		has[r.Name()] = true
	}
	branch := plumbing.NewBranchReferenceName(ref)
	tag := plumbing.NewTagReferenceName(strings.TrimPrefix(ref, "refs/tags/"))
	switch {
	case has[branch]:
		return config.RefSpec("+" + branch.String() + ":" + plumbing.NewRemoteReferenceName("origin", ref).String()), true
	case has[tag]:
		return config.RefSpec("+" + tag.String() + ":" + tag.String()), true
	}
	return "", false
}

// explainFetch says what a refusal of the remote means for the
// credentials.
func explainFetch(err error, auth transport.AuthMethod) error {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired) && auth == nil:
		return fmt.Errorf("the remote asks for credentials and none were given: %w", err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("the remote refused the credentials (%s): %w", auth, err)
	case errors.Is(err, transport.ErrRepositoryNotFound) && auth == nil:
		// GitHub answers "not found" for a private repository.
		return fmt.Errorf("%w (a private repository needs credentials)", err)
	}
	return err
}

// resolveRef finds the commit a branch or tag of the remote is at.
func resolveRef(r *source.Repo, ref string) (string, error) {
	var firstErr error
	for _, rev := range []string{"refs/remotes/origin/" + ref, "refs/tags/" + ref, ref} {
		c, err := r.Resolve(rev)
		if err == nil {
			return c.Hash.String(), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", fmt.Errorf("resolve %q: no such branch or tag: %w", ref, firstErr)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// cacheName names the clone of url: readable, and distinct per URL.
func cacheName(url string) string {
	h := sha256.Sum256([]byte(url))
	base := unsafeName.ReplaceAllString(filepath.Base(strings.TrimSuffix(strings.TrimRight(url, "/"), ".git")), "-")
	return fmt.Sprintf("%s-%s.git", base, hex.EncodeToString(h[:6]))
}
