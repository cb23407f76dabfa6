package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/source"
)

// projectFlags locate the repository to read.
type projectFlags struct {
	config string
}

func (f *projectFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "path to edgectl.yaml (default: found by walking up from DIR)")
}

// openProject opens the project for a DIR argument (default ".").
func openProject(pf projectFlags, args []string) (*source.Source, error) {
	dir := "."
	if len(args) > 0 {
		dir = args[0]
	}
	var root string
	if pf.config != "" {
		if filepath.Base(pf.config) != source.ProjectFile {
			return nil, usageErrorf("--config must name a file called %s", source.ProjectFile)
		}
		if _, err := os.Stat(pf.config); err != nil {
			return nil, usageErrorf("--config %s: %v", pf.config, errors.Unwrap(err))
		}
		root = filepath.Dir(pf.config)
	} else {
		var err error
		root, err = source.FindProject(dir)
		if errors.Is(err, source.ErrNoProject) {
			return nil, usageErrorf("%v; run edgectl in a routing repository or pass its directory", err)
		}
		if err != nil {
			return nil, err
		}
	}
	return source.Dir(root)
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
