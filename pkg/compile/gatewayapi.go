package compile

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/gatewayapi"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/policy"
	"github.com/edgectl/edgectl/pkg/source"
)

// hasProject reports whether the source holds edgectl.yaml; without it, it
// is read in the Gateway API dialect.
func hasProject(fsys fs.FS) (bool, error) {
	_, err := fs.Stat(fsys, intent.ProjectFile)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// compileGatewayAPI is Compile for a directory of Gateway API manifests
// and no edgectl.yaml: one bundle per Gateway. The model it returns holds
// the files read and an empty project (no teams, policies or tests).
func compileGatewayAPI(src *source.Source, workers int, opts Options) (*Result, diag.List, error) {
	set, diags, err := gatewayapi.Load(src.FS, gatewayapi.Options{Workers: workers})
	if err != nil {
		return nil, nil, err
	}
	m := &intent.Model{Project: &intent.Project{}, Files: set.Files}
	res := &Result{Model: m}
	if set.Empty() && !diags.HasErrors() {
		diags.Errorf(diag.Pos{File: intent.ProjectFile}, "project", "there is no %s, and no Gateway API manifest to compile instead", intent.ProjectFile)
	}
	if diags.HasErrors() {
		return res, diags.Sorted(), nil
	}
	lr, ld := gatewayapi.Lower(set, nil)
	set.ReleaseSyntax()
	diags = append(diags, ld...)
	res.GatewayStatus = lr.Status
	read := map[string][]byte{}
	for _, f := range set.Files {
		read[f.Path] = f.Data
	}
	src.CheckDirty(read, func(p string) bool { return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") })
	if diags.HasErrors() {
		return res, diags.Sorted(), nil
	}
	res.Gateways = lr.Gateways
	// Gateway API gateways have no EnvoyPatches; bd is empty.
	bundles, resources, boots, bd, err := buildAll(lr.Gateways, workers, bundle.Meta{Source: src.Provenance, Edgectl: opts.Edgectl}, opts)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, bd...)
	res.Resources, res.Bootstraps, res.Bundles = resources, boots, bundles
	return res, diags.Sorted(), nil
}

// withGatewayAPI lowers the Gateway API manifests that sit beside
// edgectl's own kinds in a project, as gateways of their own.
// The project's policies read its documents as they read edgectl's own.
func withGatewayAPI(ctx context.Context, src *source.Source, workers int, res *Result, gws []*ir.Gateway, engine *policy.Engine) ([]*ir.Gateway, diag.List, error) {
	// Most projects hold none: a scan for the API group spares them a
	// second parse of every file.
	if !source.HasGatewayAPI(src.FS) {
		return gws, nil, nil
	}
	set, diags, err := gatewayapi.Load(src.FS, gatewayapi.Options{Workers: workers})
	if err != nil || set.Empty() {
		return gws, diags, err
	}
	lr, ld := gatewayapi.Lower(set, res.Model.Project)
	diags = append(diags, ld...)
	res.GatewayStatus = lr.Status
	err = set.PolicyDocuments(res.Model.Project, engine.Reads, func(docs []*intent.Doc) error {
		pd, err := engine.Documents(ctx, docs)
		diags = append(diags, pd...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, g := range lr.Gateways {
		if slices.ContainsFunc(gws, func(o *ir.Gateway) bool { return o.Name == g.Name }) {
			diags.Errorf(diag.Pos{File: intent.ProjectFile}, "duplicate-name", "gateway %q is declared both as an edgectl Gateway and as a Gateway API Gateway", g.Name)
			continue
		}
		gws = append(gws, g)
	}
	slices.SortFunc(gws, func(a, b *ir.Gateway) int { return strings.Compare(a.Name, b.Name) })
	return gws, diags, nil
}
