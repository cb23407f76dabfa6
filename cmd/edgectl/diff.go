package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/edgectl/edgectl/pkg/cache"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/diff"
	"github.com/edgectl/edgectl/pkg/routetest"
	"github.com/edgectl/edgectl/pkg/source"
)

type diffFlags struct {
	project  projectFlags
	against  string
	output   string
	exitCode bool
	noCache  bool
	cacheDir string
}

func newDiffCmd() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [SOURCE] --against BASE",
		Short: "Show what a change does to traffic, before it is merged",
		Long: `Diff compiles two versions of the repository with this edgectl and says what
changes: by gateway, host and route (backends and weights, timeouts, retries,
TLS, redirects), then Envoy resource by resource with old → new field values,
and which changes Envoy applies live over xDS and which need a restart.

SOURCE is the new version: the working tree (default) or --rev REV. BASE is a
revision of the same project (a branch, remote branch, tag or SHA) or a
buf-style source such as '.git#branch=main,subdir=edge'. A base without the
project, or without a gateway, means all of it is added.

Each version read from a git revision is kept in a cache (--cache-dir, or
$EDGECTL_CACHE_DIR, or ~/.cache/edgectl), keyed by the git tree id of the
project and the edgectl build, so comparing with a commit compiled before
costs almost nothing. A damaged or foreign cache entry is compiled again.

Exit codes: 0 success (changes or not), 1 edgectl failed, 2 usage error, 3 the
new version has errors, 4 there are changes and --exit-code is set.`,
		Example: `  edgectl diff --against main
  edgectl diff --against origin/main -o markdown > comment.md
  edgectl diff --rev HEAD --against HEAD~1 --exit-code
  edgectl diff examples/acme --against '.git#tag=v1.2,subdir=examples/acme' -o json`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runDiff(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVar(&f.against, "against", "", "the version to compare with (required)")
	_ = cmd.RegisterFlagCompletionFunc("against", completeRevisions)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text, markdown or json")
	cmd.Flags().BoolVar(&f.exitCode, "exit-code", false, "exit 4 when there are changes")
	cmd.Flags().BoolVar(&f.noCache, "no-cache", false, "compile both versions, ignoring and not filling the cache")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", "", "cache directory (default $EDGECTL_CACHE_DIR or ~/.cache/edgectl)")
	return cmd
}

// side is one compiled version.
type side struct {
	label    string
	src      *source.Source
	result   *compile.Result
	diags    diag.List
	missing  bool // the project does not exist in this version
	gateways map[string]*diff.Gateway
}

func runDiff(cmd *cobra.Command, f diffFlags, a []string) error {
	if f.against == "" {
		return usageErrorf("missing --against BASE: the version to compare with")
	}
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	headSrc, err := openProject(f.project, a)
	if err != nil {
		return err
	}
	defer headSrc.Close()
	head := &side{src: headSrc}

	baseSpec := source.Spec{Dir: headSrc.RepoDir(), Rev: f.against, Subdir: headSrc.Prefix, Git: true}
	if strings.Contains(f.against, "#") || strings.HasSuffix(f.against, ".git") {
		if baseSpec, err = source.ParseSpec(f.against); err != nil {
			return usageErrorf("--against: %v", err)
		}
		if baseSpec.Subdir == "" {
			// The same project, unless subdir= says otherwise.
			baseSpec.Subdir = headSrc.Prefix
		}
	} else if headSrc.RepoDir() == "" {
		return usageErrorf("--against %s: the project is not in a git repository", f.against)
	}
	base := &side{label: f.against}
	baseSrc, err := source.Open(baseSpec)
	switch {
	case errors.Is(err, source.ErrNoProject):
		base.missing = true
		base.label = f.against + " (no project there: everything is new)"
		// Right for a project new in this change; a typo in subdir= looks
		// the same, so say where edgectl looked.
		fmt.Fprintf(cmd.ErrOrStderr(), "edgectl: %v; comparing with an empty configuration\n", err)
	case err != nil:
		if errors.Is(err, source.ErrNoRevision) || errors.Is(err, source.ErrNoRepository) || strings.Contains(err.Error(), "reflog") {
			return usageErrorf("--against: %v", err)
		}
		return err
	default:
		defer baseSrc.Close()
		base.src = baseSrc
	}

	var store *cache.Dir
	if !f.noCache {
		// Without a home for the cache, diff is only slower; a directory
		// asked for by name must work.
		if store, err = cache.Open(f.cacheDir); err != nil && f.cacheDir != "" {
			return err
		}
	}
	// The two versions load side by side: each has its own repository
	// handle, and a cached one is mostly decoding.
	var g errgroup.Group
	for _, s := range []*side{base, head} {
		if s.src == nil {
			continue
		}
		g.Go(func() error { return s.load(context.Background(), store, s == base) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, s := range []*side{base, head} {
		if s.src != nil {
			s.label = label(s.src, map[bool]string{true: "working tree", false: f.against}[s == head])
		}
	}
	stderr := cmd.ErrOrStderr()
	if f.output != "json" {
		// The base's warnings are old news; its errors explain a base
		// that cannot be compared.
		var baseErrors diag.List
		for _, d := range base.diags {
			if d.Severity == diag.Error {
				baseErrors = append(baseErrors, d)
			}
		}
		printSide(stderr, "base "+base.label, baseErrors)
		printSide(stderr, "head "+head.label, head.diags)
	}
	if head.diags.HasErrors() {
		if f.output == "json" {
			_ = writeDiffJSON(cmd.OutOrStdout(), base, head, nil)
		}
		return rejected(head.diags)
	}
	if base.diags.HasErrors() {
		fmt.Fprintf(stderr, "edgectl: the base does not compile; comparing with an empty configuration\n")
		base.gateways = nil
	}
	report, err := diff.Compare(base.gateways, head.gateways)
	if err != nil {
		return err
	}
	labels := diff.Labels{Base: base.label, Head: head.label}
	out := cmd.OutOrStdout()
	switch f.output {
	case "json":
		err = writeDiffJSON(out, base, head, report)
	case "markdown":
		err = diff.WriteMarkdown(out, report, labels)
	default:
		err = diff.WriteText(out, report, labels, useColor(out))
	}
	if err != nil {
		return err
	}
	if f.exitCode && !report.Empty() {
		return &exitError{code: exitChanges}
	}
	return nil
}

// load compiles one side, or takes it from the cache when the side is a
// git revision compiled before by this build of edgectl.
func (s *side) load(ctx context.Context, store *cache.Dir, isBase bool) error {
	key := ""
	if tree := s.src.TreeID(); store != nil && tree != "" {
		key = cache.Key("diff-version", tree, s.src.Prefix)
		if data, ok := store.Get(key); ok {
			if snap, err := diff.DecodeSnapshot(data); err == nil {
				s.gateways, s.diags = snap.Gateways, snap.Diags
				return nil
			}
		}
	}
	// A diff needs Envoy resources, not bundles. The new version is held
	// to Envoy's validation; the base was, when it merged, unless it is
	// going into the cache, where it may later be a new version.
	opts := compile.Options{Edgectl: buildInfo(), ResourcesOnly: true, Trusted: isBase && key == ""}
	res, diags, err := compile.Compile(ctx, s.src, opts)
	if err != nil {
		return fmt.Errorf("compile %s: %w", s.src.Provenance.Ref, err)
	}
	s.result, s.diags = res, diags.WithPrefix(s.src.Prefix)
	s.gateways = map[string]*diff.Gateway{}
	for i, g := range res.Gateways {
		if i < len(res.Resources) {
			s.gateways[g.Name] = &diff.Gateway{IR: g, Resources: res.Resources[i], Bootstrap: res.Bootstraps[i]}
		}
	}
	// The route tests' requests go through both versions too; a test
	// file with problems only loses its own requests (edgectl test
	// reports them).
	if !s.diags.HasErrors() && res.Model != nil {
		suite, err := routetest.Load(s.src.FS, res.Model.Project)
		if err != nil {
			return err
		}
		for _, p := range routetest.Probes(res, suite) {
			pos := p.Pos
			if s.src.Prefix != "" && s.src.Prefix != "." {
				pos.File = path.Join(s.src.Prefix, pos.File)
			}
			if g := s.gateways[p.Gateway]; g != nil {
				g.Probes = append(g.Probes, diff.Probe{From: fmt.Sprintf("test %s %q", pos, p.Test), Request: p.Request})
			}
		}
	}
	if key != "" {
		if data, err := (&diff.Snapshot{Gateways: s.gateways, Diags: s.diags}).Encode(); err == nil {
			_ = store.Put(key, data) // a cache that cannot be written is only slower
		}
	}
	return nil
}

// label names a side by what the user asked for and the commit it is.
func label(s *source.Source, what string) string {
	p := s.Provenance
	if p.Ref != "" {
		what = p.Ref
	}
	var notes []string
	if len(p.Commit) >= 7 {
		notes = append(notes, p.Commit[:7])
	}
	if p.Dirty {
		notes = append(notes, "with uncommitted changes")
	}
	if len(notes) > 0 {
		what += " (" + strings.Join(notes, ", ") + ")"
	}
	return what
}

// printSide prints a side's findings, each line saying which side it is.
// Notes are counted, as printFindings does.
func printSide(w io.Writer, name string, l diag.List) {
	l, notes := withoutNotes(l)
	if len(l) > 0 {
		var b strings.Builder
		_ = diag.Write(&b, l, "text", tool)
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			fmt.Fprintf(w, "%s: %s\n", name, line)
		}
	}
	if notes > 0 {
		fmt.Fprintf(w, "%s: %s\n", name, notesLine(notes))
	}
}

type diffSideJSON struct {
	Source      string          `json:"source"`
	Commit      string          `json:"commit,omitempty"`
	Dirty       bool            `json:"dirty"`
	Exists      bool            `json:"exists"`
	Diagnostics diag.JSONReport `json:"diagnostics"`
}

func writeDiffJSON(w io.Writer, base, head *side, r *diff.Report) error {
	sideJSON := func(s *side) diffSideJSON {
		out := diffSideJSON{Source: s.label, Exists: !s.missing, Diagnostics: diag.Report(s.diags)}
		if s.src != nil {
			out.Commit, out.Dirty = s.src.Provenance.Commit, s.src.Provenance.Dirty
		}
		return out
	}
	v := struct {
		Base     diffSideJSON       `json:"base"`
		Head     diffSideJSON       `json:"head"`
		Gateways []diff.GatewayDiff `json:"gateways"`
		Counts   diff.Counts        `json:"counts"`
	}{Base: sideJSON(base), Head: sideJSON(head), Gateways: []diff.GatewayDiff{}}
	if r != nil {
		v.Gateways, v.Counts = append(v.Gateways, r.Gateways...), r.Counts
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
