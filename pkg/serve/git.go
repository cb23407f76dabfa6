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

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/source"
)

// Git is a source: a branch or tag of a git remote, fetched every Interval
// into a cache directory. Each new commit at its tip is compiled, without a
// checkout, and served when it compiles; one that does not leaves every
// gateway on its last good version, and is reported once. Commits pushed
// between two fetches are not compiled one by one: only the tip matters.
type Git struct {
	// URL is anything go-git fetches from, file:// URLs and local paths
	// included.
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
}

func (g Git) ref() string {
	if g.Ref == "" {
		return "main"
	}
	return strings.TrimPrefix(g.Ref, "refs/heads/")
}

func (g Git) String() string {
	s := "git " + g.URL + "@" + g.ref()
	if sub := strings.Trim(g.Subdir, "/"); sub != "" && sub != "." {
		s += ":" + sub
	}
	return s
}

// Watch implements Source.
func (g Git) Watch(ctx context.Context, apply func(Load)) error {
	if g.CacheDir == "" {
		return errors.New("no cache directory for the clone")
	}
	interval := g.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	dir := filepath.Join(g.CacheDir, cacheName(g.URL))
	last := "" // the newest commit compiled, successfully or not
	poll := func() {
		l, news := g.poll(ctx, dir, &last)
		if news && ctx.Err() == nil {
			apply(l)
		}
	}
	poll()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			poll()
		}
	}
}

// poll fetches and compiles a commit that was not compiled yet. It reports
// whether it has news: a load, or a failure to fetch.
func (g Git) poll(ctx context.Context, dir string, last *string) (Load, bool) {
	start := time.Now()
	if err := fetch(ctx, dir, g.URL); err != nil {
		return Load{Err: err}, true
	}
	repo, err := source.OpenRepo(dir)
	if err != nil {
		return Load{Err: err}, true
	}
	defer repo.Close()
	commit, err := resolveRef(repo, g.ref())
	if err != nil {
		return Load{Err: err}, true
	}
	if commit == *last {
		return Load{}, false
	}
	src, err := repo.Git(commit, g.Subdir)
	if err != nil {
		*last = commit // the commit will not change: say it once
		return Load{Revision: commit, Err: err}, true
	}
	res, diags, err := compile.Compile(ctx, src, g.Compile)
	if err != nil {
		// edgectl failed (I/O, an internal error), not the commit: the
		// next fetch tries again.
		return Load{Revision: commit, Err: fmt.Errorf("compile: %w", err)}, true
	}
	*last = commit
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

// fetch brings the remote's branches and tags into the bare repository at
// dir, creating it on first use.
func fetch(ctx context.Context, dir, url string) error {
	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("create cache directory: %w", err)
		}
		r, err = git.PlainInit(dir, true)
		if err == nil {
			_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
	}
	if err != nil {
		return fmt.Errorf("open clone %s: %w", dir, err)
	}
	if rem, err := r.Remote("origin"); err != nil || len(rem.Config().URLs) == 0 || rem.Config().URLs[0] != url {
		return fmt.Errorf("open clone %s: it is not a clone of %s; remove it", dir, url)
	}
	err = r.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"},
		Tags:       git.NoTags, // the refspec brings them
		Force:      true,
		Prune:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	return nil
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
