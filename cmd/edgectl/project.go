package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/source"
)

// projectFlags locate the repository to read.
type projectFlags struct {
	config string
	rev    string
}

func (f *projectFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "path to edgectl.yaml (default: found by walking up from DIR)")
	cmd.Flags().StringVar(&f.rev, "rev", "", "read this git revision (branch, tag, SHA, HEAD~1) instead of the working tree")
	_ = cmd.RegisterFlagCompletionFunc("rev", completeRevisions)
	_ = cmd.MarkFlagFilename("config", "yaml")
}

// completeRevisions offers the branches, remote branches and tags of the
// repository that holds SOURCE (default: the current directory).
func completeRevisions(_ *cobra.Command, a []string, _ string) ([]string, cobra.ShellCompDirective) {
	dir := "."
	if len(a) > 0 && !strings.Contains(a[0], "#") {
		dir = a[0]
	}
	return source.RefsAround(dir), cobra.ShellCompDirectiveNoFileComp
}

// openProject opens the project a SOURCE argument names: a directory
// (default "."), or a buf-style git source such as '.git#branch=main'.
// Close the source when done.
func openProject(pf projectFlags, args []string) (*source.Source, error) {
	arg := "."
	if len(args) > 0 {
		arg = args[0]
	}
	spec, err := source.ParseSpec(arg)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if pf.config != "" {
		if spec.Git {
			return nil, usageErrorf("--config reads the working tree; a .git# source names its project with subdir=")
		}
		if filepath.Base(pf.config) != source.ProjectFile {
			return nil, usageErrorf("--config must name a file called %s", source.ProjectFile)
		}
		if _, err := os.Stat(pf.config); err != nil {
			return nil, usageErrorf("--config %s: %v", pf.config, errors.Unwrap(err))
		}
		spec.Dir = filepath.Dir(pf.config)
	}
	if pf.rev != "" {
		if spec.Git {
			return nil, usageErrorf("use either --rev or a .git# source, not both")
		}
		spec.Rev = pf.rev
	}
	return openSpec(spec)
}

// openSpec opens a source, mapping what the user got wrong to usage errors.
func openSpec(spec source.Spec) (*source.Source, error) {
	src, err := source.Open(spec)
	switch {
	case errors.Is(err, source.ErrNoProject) && spec.Rev == "":
		return nil, usageErrorf("%v; run edgectl in a routing repository (or a directory of Gateway API manifests) or pass its directory", err)
	case errors.Is(err, source.ErrNoProject), errors.Is(err, source.ErrNoRevision), errors.Is(err, source.ErrNoRepository):
		return nil, usageErrorf("%v", err)
	case err != nil && strings.Contains(err.Error(), "reflog"):
		return nil, usageErrorf("%v", err)
	}
	return src, err
}

// compileProject runs the pipeline and returns the result with diagnostics
// whose paths are relative to the repository root.
func compileProject(src *source.Source) (*compile.Result, diag.List, error) {
	res, diags, err := compile.Compile(context.Background(), src, compile.Options{Edgectl: buildInfo()})
	if err != nil {
		return nil, nil, err
	}
	return res, diags.WithPrefix(src.Prefix), nil
}

// compileOrReject compiles the project a SOURCE argument names for
// delivery or a question: findings go to stderr, and a repository with
// errors is rejected (exit 3).
func compileOrReject(cmd *cobra.Command, pf projectFlags, a []string) (*compile.Result, error) {
	res, _, err := compileOrRejectAt(cmd, pf, a)
	return res, err
}

// compileOrRejectAt is compileOrReject, and says where the project is in
// its repository: what the result's positions are relative to.
func compileOrRejectAt(cmd *cobra.Command, pf projectFlags, a []string) (*compile.Result, string, error) {
	src, err := openProject(pf, a)
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	res, diags, err := compileProject(src)
	if err != nil {
		return nil, "", err
	}
	printFindings(cmd.ErrOrStderr(), diags)
	if diags.HasErrors() {
		return nil, "", rejected(diags)
	}
	return res, src.Prefix, nil
}

// pickBundles returns the gateway's bundle, or every bundle; never none: a
// repository without gateways has nothing to deliver, and an empty stream
// is what a GitOps controller would take as "delete everything".
func pickBundles(all []*bundle.Bundle, gateway string) ([]*bundle.Bundle, error) {
	if len(all) == 0 {
		return nil, &exitError{code: exitRejected, err: errors.New("the repository defines no gateway: nothing to deliver")}
	}
	if gateway == "" {
		return all, nil
	}
	var names []string
	for _, b := range all {
		if b.Gateway == gateway {
			return []*bundle.Bundle{b}, nil
		}
		names = append(names, b.Gateway)
	}
	return nil, usageErrorf("no gateway %q (the repository has %s)", gateway, strings.Join(names, ", "))
}
