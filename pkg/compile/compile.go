// Package compile runs the pipeline from a repository to bundles: load and
// schema, lower, translate, check, encode.
package compile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/gatewayapi"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/lower"
	"github.com/edgectl/edgectl/pkg/patch"
	"github.com/edgectl/edgectl/pkg/policy"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/tenancy"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Options tune a compile. The zero value is ready to use.
type Options struct {
	// Workers bounds parallel work; zero means GOMAXPROCS.
	Workers int
	// Edgectl is recorded in every manifest.
	Edgectl bundle.BuildInfo
	// ResourcesOnly stops after translation, for a diff: no bundles, no
	// static bootstrap, and no Envoy validation when Trusted is set too.
	ResourcesOnly bool
	// Trusted skips the Envoy validation of a ResourcesOnly compile, for a
	// version that was validated when it was merged.
	Trusted bool
}

// Result is everything a compile produced. Bundles is empty when the
// diagnostics hold an error: a compile yields complete bundles or none.
type Result struct {
	Model    *intent.Model
	Gateways []*ir.Gateway
	Bundles  []*bundle.Bundle
	// Resources and Bootstraps are each gateway's file-based xDS resources
	// and dynamic bootstrap, in the order of Gateways, for diffs.
	Resources  []*xds.Resources
	Bootstraps []*bootstrapv3.Bootstrap
	// GatewayStatus is the status a Gateway API controller would give
	// the input's Gateway API objects; nil when there are none.
	GatewayStatus *gatewayapi.Status
}

// Compile runs every stage on src. Problems in the repository come back as
// diagnostics, sorted and relative to the project directory; the error is
// for failures of edgectl itself (I/O, or an internal bug).
func Compile(ctx context.Context, src *source.Source, opts Options) (*Result, diag.List, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if ok, err := hasProject(src.FS); err != nil {
		return nil, nil, err
	} else if !ok {
		return compileGatewayAPI(src, workers, opts)
	}
	res := &Result{}
	m, diags, err := intent.Load(src.FS, intent.Options{Workers: workers})
	if err != nil {
		return nil, nil, err
	}
	res.Model = m
	if diags.HasErrors() {
		return res, diags.Sorted(), nil
	}

	// Ownership, policies and the semantic checks of lowering are one
	// stage: their findings are reported together.
	diags = append(diags, tenancy.Check(m)...)
	mods, pd, err := policy.Load(src.FS, m.Project, false)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, pd...)
	src.CheckDirty(inputs(m, mods), func(p string) bool {
		return m.IsInput(p) || policy.IsPolicyFile(m.Project.Spec.Policies, p, false)
	})
	engine, pd, err := policy.Prepare(ctx, mods, m.Project, m)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, pd...)

	// Policies read the documents only, so they run while the gateways are
	// lowered, which uses one core; building the bundles uses them all.
	type policyResult struct {
		diags diag.List
		err   error
	}
	policyDone := make(chan policyResult, 1)
	go func() {
		d, err := engine.Documents(ctx, m.Docs)
		policyDone <- policyResult{d, err}
	}()
	gws, ld := lower.Lower(m)
	diags = append(diags, ld...)
	if !ld.HasErrors() {
		// The security built-ins judge the inherited rules, so they read
		// the lowered gateways; on a gateway lowering rejected they would
		// judge rules it dropped.
		diags = policy.Superseded(m.Project, diags)
		diags = append(diags, policy.Security(m.Project, gws)...)
		diags = append(diags, policy.FaultInjection(m.Project, gws)...)
		diags = append(diags, policy.EnvoyPatches(m.Project, gws)...)
	}
	gws, ld, err = withGatewayAPI(ctx, src, workers, res, gws, engine)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, ld...)
	pr := <-policyDone
	if pr.err != nil {
		return nil, nil, pr.err
	}
	diags = append(diags, pr.diags...)
	if diags.HasErrors() {
		return res, finish(m, diags), nil
	}
	res.Gateways = gws
	// Every stage that reports positions from syntax is done.
	m.ReleaseSyntax()

	bundles, resources, boots, bd, err := buildAll(gws, workers, bundle.Meta{Source: src.Provenance, Edgectl: opts.Edgectl}, opts)
	if err != nil {
		return nil, nil, err
	}
	// The platform team's EnvoyPatches are applied to the translated
	// resources, so what they get wrong is found while building.
	diags = append(diags, bd...)
	if bd.HasErrors() {
		return res, finish(m, diags), nil
	}
	res.Resources, res.Bootstraps = resources, boots
	if engine.WantsBundles() {
		for i, g := range gws {
			pd, err := engine.Bundle(ctx, gatewayDoc(m, g.Name), resources[i])
			if err != nil {
				return nil, nil, err
			}
			diags = append(diags, pd...)
		}
		if diags.HasErrors() {
			return res, finish(m, diags), nil
		}
	}
	res.Bundles = bundles
	return res, finish(m, diags), nil
}

// buildAll builds the bundle of every gateway, a few at a time.
func buildAll(gws []*ir.Gateway, workers int, meta bundle.Meta, opts Options) ([]*bundle.Bundle, []*xds.Resources, []*bootstrapv3.Bootstrap, diag.List, error) {
	bundles := make([]*bundle.Bundle, len(gws))
	resources := make([]*xds.Resources, len(gws))
	boots := make([]*bootstrapv3.Bootstrap, len(gws))
	diags := make([]diag.List, len(gws))
	errs := make([]error, len(gws))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, g := range gws {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if opts.ResourcesOnly {
				resources[i], boots[i], diags[i], errs[i] = translateOnly(g, !opts.Trusted)
				return
			}
			bundles[i], resources[i], boots[i], diags[i], errs[i] = build(g, meta)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, nil, err
	}
	var all diag.List
	for _, d := range diags {
		all = append(all, d...)
	}
	if opts.ResourcesOnly || all.HasErrors() {
		bundles = nil
	}
	return bundles, resources, boots, all, nil
}

// translateOnly builds a gateway's file-based resources and bootstrap, and
// checks them unless the caller trusts them.
func translateOnly(g *ir.Gateway, check bool) (*xds.Resources, *bootstrapv3.Bootstrap, diag.List, error) {
	if err := g.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("internal error in gateway %q (please report it): %w", g.Name, err)
	}
	files := xds.Translate(g, xds.Files)[0]
	var pd diag.List
	if len(g.Patches) > 0 {
		var checkForms patch.Check
		if check {
			checkForms = func(forms []*xds.Resources) error { return xds.Check(forms[0], xds.Files) }
		}
		var forms []*xds.Resources
		if forms, pd = patch.Apply(g, []*xds.Resources{files}, checkForms); pd.HasErrors() {
			return nil, nil, pd, nil
		}
		files = forms[0]
	} else if check {
		if err := xds.Check(files, xds.Files); err != nil {
			return nil, nil, nil, fmt.Errorf("internal error in gateway %q (please report it): %w", g.Name, err)
		}
	}
	return files, xds.FilesBootstrap(g), pd, nil
}

// inputs are the repository files a compile read, by path.
func inputs(m *intent.Model, mods []policy.Module) map[string][]byte {
	read := map[string][]byte{}
	for _, f := range m.Files {
		read[f.Path] = f.Data
	}
	for _, mod := range mods {
		if !strings.HasPrefix(mod.File, "<") { // not a built-in
			read[mod.File] = mod.Source
		}
	}
	return read
}

func gatewayDoc(m *intent.Model, name string) *intent.Doc {
	for _, g := range m.Gateways {
		if g.Doc.Name == name {
			return g.Doc
		}
	}
	return nil
}

// finish applies the project's acknowledgements and sorts the findings.
func finish(m *intent.Model, diags diag.List) diag.List {
	return acknowledge(m.Project, diags).Sorted()
}

// Build translates one gateway's IR, holds every resource to what Envoy
// accepts, and encodes the bundle. Any failure is a bug in edgectl: the
// lowering stage reports user errors before this point.
func Build(g *ir.Gateway, meta bundle.Meta) (*bundle.Bundle, error) {
	b, _, _, pd, err := build(g, meta)
	if err == nil && pd.HasErrors() {
		err = fmt.Errorf("apply the patches of gateway %q: %s", g.Name, pd[0].Message)
	}
	return b, err
}

func build(g *ir.Gateway, meta bundle.Meta) (*bundle.Bundle, *xds.Resources, *bootstrapv3.Bootstrap, diag.List, error) {
	internal := func(err error) error {
		return fmt.Errorf("internal error in gateway %q (please report it): %w", g.Name, err)
	}
	if err := g.Validate(); err != nil {
		return nil, nil, nil, nil, internal(err)
	}
	rs := xds.Translate(g, xds.Files, xds.StaticSpliced)
	// EnvoyPatches apply to both forms; what they make is held to the
	// same checks as the rest, and a failure is the patch's, not edgectl's.
	var pd diag.List
	if len(g.Patches) > 0 {
		if rs, pd = patch.Apply(g, rs, func(forms []*xds.Resources) error { return checkResources(forms[0], forms[1]) }); pd.HasErrors() {
			return nil, nil, nil, pd, nil
		}
	}
	files, static := rs[0], rs[1]
	staticBoot, filesBoot := xds.StaticBootstrap(g, static), xds.FilesBootstrap(g)
	// Envoy's validation of what was built runs while it is encoded: both
	// only read the messages, and a bundle that fails the check is dropped.
	var checked error
	var wg sync.WaitGroup
	wg.Go(func() { checked = check(files, static, staticBoot, filesBoot) })
	b, err := bundle.Encode(bundle.Input{
		Gateway:   g.Name,
		Node:      bundle.Node{ID: g.NodeID, Cluster: g.NodeCluster},
		XDSDir:    g.XDSDir,
		Stats:     Stats(g),
		Static:    staticBoot,
		Dynamic:   filesBoot,
		Resources: files,
		// The rate-limit services' limits, from the same rules as the
		// filters' descriptors.
		RateLimitConfigs: xds.RateLimitConfigs(g),
	}, meta)
	wg.Wait()
	if checked != nil {
		return nil, nil, nil, nil, internal(checked)
	}
	if err != nil {
		return nil, nil, nil, nil, internal(err)
	}
	return b, files, filesBoot, pd, nil
}

// check holds what a gateway compiled to against what Envoy would load.
func check(files, static *xds.Resources, staticBoot, filesBoot *bootstrapv3.Bootstrap) error {
	if err := checkResources(files, static); err != nil {
		return err
	}
	if err := xds.CheckBootstrap(filesBoot, "bootstrap-xds"); err != nil {
		return err
	}
	// The static bootstrap's listeners, clusters and secrets were checked
	// above; validate only the bootstrap's own fields.
	if err := staticBoot.GetNode().ValidateAll(); err != nil {
		return err
	}
	return xds.CheckStaticNames(staticBoot)
}

// checkResources holds the file-based and static forms of a gateway's
// resources to what Envoy would load.
func checkResources(files, static *xds.Resources) error {
	if err := xds.Check(files, xds.Files); err != nil {
		return err
	}
	// The route configurations are shared by both modes and were checked
	// above; the static listeners hold stand-ins for them, which the
	// encoder replaces with the same checked route configurations. So are
	// the clusters that are the same in both.
	return xds.CheckAfter(&xds.Resources{Listeners: static.Listeners, Clusters: static.Clusters, Secrets: static.Secrets}, xds.StaticSpliced, files)
}

// Stats counts what a gateway serves. A virtual host served on several
// listeners counts once; so do its routes.
func Stats(g *ir.Gateway) bundle.Stats {
	s := bundle.Stats{Listeners: len(g.Listeners), Clusters: len(g.Clusters), Secrets: len(g.Secrets)}
	seen := map[string]bool{}
	count := func(t *ir.RouteTable) {
		if t == nil {
			return
		}
		for _, vh := range t.VirtualHosts {
			if !seen[vh.Name] {
				seen[vh.Name] = true
				s.VirtualHosts++
				s.Routes += len(vh.Routes)
			}
		}
	}
	// HTTPS first: a TLS virtual host's routes live there, its HTTP twin
	// only redirects.
	for _, l := range g.Listeners {
		for _, fc := range l.Chains {
			count(fc.Routes)
		}
	}
	for _, l := range g.Listeners {
		if l.Routes != nil {
			count(l.Routes)
		}
	}
	return s
}
