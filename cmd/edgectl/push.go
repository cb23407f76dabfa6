package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/push"
	"github.com/edgectl/edgectl/pkg/source"
)

type targetFlags struct {
	to         string
	kubeconfig string
	context    string
}

func (f *targetFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.to, "to", "", "where Envoy reads its configuration: file:///path or k8s://[context/]namespace/name (required)")
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig for k8s:// targets (default: the files of $KUBECONFIG merged, then ~/.kube/config, then the pod's service account)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context for k8s:// targets (default: the current one)")
}

// bindFile binds --to for a command that works on file:// targets only.
func (f *targetFlags) bindFile(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.to, "to", "", "the file:///path target (required)")
}

func (f targetFlags) parse() (push.Target, error) {
	if f.to == "" {
		return push.Target{}, usageErrorf("missing --to: file:///path or k8s://[context/]namespace/name")
	}
	t, err := push.ParseTarget(f.to)
	if err != nil {
		return push.Target{}, usageErrorf("--to: %v", err)
	}
	if t.Scheme == "file" {
		if t.Path, err = filepath.Abs(t.Path); err != nil {
			return t, err
		}
	}
	return t, nil
}

type pushFlags struct {
	project      projectFlags
	target       targetFlags
	gateway      string
	expectDigest string
	dryRun       bool
	keep         int
	force        bool
	output       string
}

func newPushCmd() *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push [BUNDLE|SOURCE] --to TARGET",
		Short: "Deliver a bundle to a directory Envoy watches, or to Kubernetes",
		Long: `Push delivers one gateway's bundle: a directory written by compile
(OUT/<gateway>, or OUT itself when it holds one gateway or --gateway names
one), or a repository compiled on the spot (SOURCE, with --gateway when it
has several gateways). A bundle directory is trusted only by its digest,
recomputed from its files: one that does not verify is refused (exit 3),
naming the files at fault.

file:///DIR writes the layout kubelet gives a mounted ConfigMap: the files
behind a ..data symlink that is swapped atomically, so Envoy (reading DIR with
path_config_source and watched_directory) sees the old bundle or the new one,
never a mix. Earlier versions are kept for rollback (--keep); one that no
longer verifies is replaced when pushed again.

k8s://[context/]namespace/name applies ConfigMaps by server-side apply (field
manager edgectl), split under the 1 MiB limit, labelled, with the digest in an
annotation; shards no longer needed are deleted by label.

A target that already holds the bundle is left alone ("up to date").
--expect-digest refuses any other bundle: CI pushes exactly what was reviewed.

Exit codes: 0 pushed or up to date, 1 edgectl or the target failed, 2 usage
error, 3 the bundle was refused (errors, damaged, or not the expected
digest).`,
		Example: `  edgectl compile -d out && edgectl push out/edge --to file:///etc/envoy/xds
  edgectl push out/edge --to k8s://edge/envoy-config --expect-digest sha256:3f2a…
  edgectl push --to k8s://prod/edge/envoy-config --dry-run`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runPush(cmd, f, a) },
	}
	f.project.bind(cmd)
	f.target.bind(cmd)
	cmd.Flags().StringVar(&f.gateway, "gateway", "", "the gateway to push, when SOURCE has several")
	cmd.Flags().StringVar(&f.expectDigest, "expect-digest", "", "refuse any bundle but this one (sha256:…)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "say what would change, change nothing (server-side for k8s://)")
	cmd.Flags().IntVar(&f.keep, "keep", 5, "versions a file:// target keeps for rollback")
	cmd.Flags().BoolVar(&f.force, "force-conflicts", false, "k8s://: take over fields another manager owns")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// loadBundle reads a bundle directory, or compiles a project and picks a
// gateway's bundle.
func loadBundle(cmd *cobra.Command, pf projectFlags, gateway string, a []string) (*bundle.Bundle, error) {
	if len(a) == 1 && pf.rev == "" {
		dir := a[0]
		if _, err := os.Stat(filepath.Join(dir, source.OutputMarker)); err == nil {
			// A compile output (OUT, holding OUT/<gateway>): never the
			// repository it was compiled from.
			var err error
			if dir, err = outputGateway(dir, gateway); err != nil {
				return nil, err
			}
		}
		if _, err := os.Stat(filepath.Join(dir, bundle.ManifestFile)); err == nil {
			b, err := bundle.Read(os.DirFS(dir))
			var damaged *bundle.DamagedError
			if errors.As(err, &damaged) {
				return nil, &exitError{code: exitRejected, err: fmt.Errorf("read bundle %s: %w", dir, err)}
			}
			if err != nil {
				return nil, fmt.Errorf("read bundle %s: %w", dir, err)
			}
			if gateway != "" && gateway != b.Gateway {
				return nil, usageErrorf("--gateway %s, but %s holds gateway %s", gateway, dir, b.Gateway)
			}
			return b, nil
		}
	}
	res, err := compileOrReject(cmd, pf, a)
	if err != nil {
		return nil, err
	}
	bs, err := pickBundles(res.Bundles, gateway)
	if err != nil {
		return nil, err
	}
	if len(bs) > 1 {
		var names []string
		for _, b := range bs {
			names = append(names, b.Gateway)
		}
		return nil, usageErrorf("the repository has %d gateways (%s); name one with --gateway", len(names), strings.Join(names, ", "))
	}
	return bs[0], nil
}

// outputGateway picks the bundle directory of a compile output: the
// gateway asked for, or the only one.
func outputGateway(out, gateway string) (string, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return "", fmt.Errorf("read compile output: %w", err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(out, e.Name(), bundle.ManifestFile)); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	switch {
	case gateway != "" && slices.Contains(names, gateway):
		return filepath.Join(out, gateway), nil
	case gateway == "" && len(names) == 1:
		return filepath.Join(out, names[0]), nil
	case len(names) == 0:
		return "", fmt.Errorf("%s is a compile output without bundles", out)
	}
	var dirs []string
	for _, n := range names {
		dirs = append(dirs, filepath.Join(out, n))
	}
	if gateway != "" {
		return "", usageErrorf("%s is a compile output without gateway %q; it holds %s", out, gateway, strings.Join(dirs, ", "))
	}
	return "", usageErrorf("%s is a compile output with %d gateways: push one of %s (or add --gateway)", out, len(names), strings.Join(dirs, ", "))
}

func runPush(cmd *cobra.Command, f pushFlags, a []string) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	t, err := f.target.parse()
	if err != nil {
		return err
	}
	b, err := loadBundle(cmd, f.project, f.gateway, a)
	if err != nil {
		return err
	}
	opts := push.Options{ExpectDigest: f.expectDigest, DryRun: f.dryRun}
	var res push.Result
	switch t.Scheme {
	case "file":
		res, err = push.File{Dir: t.Path, Keep: f.keep}.Push(b, opts)
	case "k8s":
		var kt *push.Kube
		if kt, err = push.NewKube(t, f.target.kubeconfig, f.target.context); err == nil {
			res, err = kt.Push(context.Background(), b, opts, f.force)
		}
	}
	if errors.Is(err, push.ErrDigestMismatch) {
		return &exitError{code: exitRejected, err: err}
	}
	if err != nil {
		return err
	}
	return printResult(cmd, f.output, f.target.to, res)
}

func printResult(cmd *cobra.Command, output, to string, res push.Result) error {
	out := cmd.OutOrStdout()
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Target   string   `json:"target"`
			Gateway  string   `json:"gateway"`
			Status   string   `json:"status"`
			Digest   string   `json:"digest"`
			Previous string   `json:"previous,omitempty"`
			Detail   []string `json:"detail,omitempty"`
		}{to, res.Gateway, res.Status, res.Digest, res.Previous, res.Detail})
	}
	fmt.Fprintf(out, "%s: %s %s", to, res.Status, res.Digest)
	if res.Previous != "" && res.Previous != res.Digest {
		fmt.Fprintf(out, " (was %s)", res.Previous)
	}
	fmt.Fprintln(out)
	for _, d := range res.Detail {
		fmt.Fprintf(out, "  %s\n", d)
	}
	return nil
}

type rollbackFlags struct {
	target targetFlags
	digest string
	output string
}

func newRollbackCmd() *cobra.Command {
	var f rollbackFlags
	cmd := &cobra.Command{
		Use:   "rollback --to file:///DIR",
		Short: "Serve an earlier version of a file target again",
		Long: `Rollback makes a file:// target serve the version before the current one, or
the version with --digest, if the target still keeps it (push --keep). It is
atomic like a push, and recorded in the target's history, so a second
rollback returns to where you were. For Kubernetes targets, push the earlier
bundle again (edgectl compile --rev <commit>, then push).`,
		Example: `  edgectl rollback --to file:///etc/envoy/xds
  edgectl rollback --to file:///etc/envoy/xds --digest sha256:3f2a…`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollback(cmd, f) },
	}
	f.target.bindFile(cmd)
	cmd.Flags().StringVar(&f.digest, "digest", "", "the version to serve (default: the one before the current)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runRollback(cmd *cobra.Command, f rollbackFlags) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	t, err := f.target.parse()
	if err != nil {
		return err
	}
	if t.Scheme != "file" {
		return usageErrorf("rollback works on file:// targets; for Kubernetes, push the earlier bundle again")
	}
	res, err := push.File{Dir: t.Path}.Rollback(f.digest)
	if errors.Is(err, push.ErrNoTarget) {
		return fmt.Errorf("%s: nothing was pushed there, so there is nothing to roll back (check --to)", f.target.to)
	}
	if err != nil {
		return err
	}
	return printResult(cmd, f.output, f.target.to, res)
}

type statusFlags struct {
	target targetFlags
	output string
}

func newStatusCmd() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status --to TARGET",
		Short: "Say which bundle a target holds",
		Long: `Status reads what a target holds, verifies it (the digest recomputed from
the files Envoy reads, and every file against the manifest), and prints the
gateway, the digest, the commit it was compiled from, and, for file://
targets, the versions kept for rollback. Envoy's /config_dump shows the same
digest as the version_info of every xDS resource it loaded.

A damaged target (a file edited, added or missing) fails with exit 1 and
names each damaged file; a push of a good bundle repairs it.`,
		Example: `  edgectl status --to file:///etc/envoy/xds
  edgectl status --to k8s://edge/envoy-config -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, f) },
	}
	f.target.bind(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

type statusJSON struct {
	Target  string           `json:"target"`
	Empty   bool             `json:"empty"`
	Damaged []bundle.Problem `json:"damaged,omitempty"`
	Gateway string           `json:"gateway,omitempty"`
	Digest  string           `json:"digest,omitempty"`
	Commit  string           `json:"commit,omitempty"`
	Dirty   bool             `json:"dirty,omitempty"`
	History []push.Entry     `json:"history,omitempty"`
}

func runStatus(cmd *cobra.Command, f statusFlags) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	t, err := f.target.parse()
	if err != nil {
		return err
	}
	st := statusJSON{Target: f.target.to}
	var b *bundle.Bundle
	switch t.Scheme {
	case "file":
		ft := push.File{Dir: t.Path}
		b, err = ft.Current()
		var herr error
		if st.History, herr = ft.History(); err == nil {
			err = herr
		}
	case "k8s":
		var kt *push.Kube
		if kt, err = push.NewKube(t, f.target.kubeconfig, f.target.context); err != nil {
			return err
		}
		b, err = kt.Current(context.Background())
	}
	var damaged *bundle.DamagedError
	if errors.As(err, &damaged) {
		st.Damaged = damaged.Problems
		return printDamaged(cmd, f.output, st)
	}
	if err != nil {
		return err
	}
	st.Empty = b == nil
	if b != nil {
		st.Gateway, st.Digest, st.Commit, st.Dirty = b.Gateway, b.Digest, b.Manifest.Source.Commit, b.Manifest.Source.Dirty
	}
	out := cmd.OutOrStdout()
	if f.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	if st.Empty {
		fmt.Fprintf(out, "%s: nothing pushed yet\n", f.target.to)
		return nil
	}
	fmt.Fprintf(out, "%s: gateway %s, %s\n", f.target.to, st.Gateway, st.Digest)
	if st.Commit != "" {
		dirty := ""
		if st.Dirty {
			dirty = " with uncommitted changes"
		}
		fmt.Fprintf(out, "  compiled from commit %s%s\n", st.Commit, dirty)
	}
	printHistory(out, st.History)
	return nil
}

func printHistory(out io.Writer, hist []push.Entry) {
	for i, e := range hist {
		mark := "  "
		if i == 0 {
			mark = "* "
		}
		fmt.Fprintf(out, "%s%s  %s  %s\n", mark, e.PushedAt.Format("2006-01-02 15:04:05Z"), e.Action, e.Digest)
	}
}

// printDamaged reports a target whose bundle does not verify, file by
// file, and fails: Envoy may be reading it.
func printDamaged(cmd *cobra.Command, output string, st statusJSON) error {
	out := cmd.OutOrStdout()
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "%s: damaged: what Envoy reads is not the bundle its manifest names\n", st.Target)
		for _, p := range st.Damaged {
			fmt.Fprintf(out, "  %s %s\n", p.File, p.Detail)
		}
		printHistory(out, st.History)
	}
	return fmt.Errorf("%s holds a damaged bundle; push a good bundle to repair it", st.Target)
}
