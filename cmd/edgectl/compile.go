package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/diag"
)

type compileFlags struct {
	project projectFlags
	out     string
	format  string
	failOn  string
}

func newCompileCmd() *cobra.Command {
	var f compileFlags
	cmd := &cobra.Command{
		Use:   "compile [SOURCE] --out-dir OUT",
		Short: "Compile a routing repository into one Envoy bundle per gateway",
		Long: `Compile validates the repository and writes one bundle per gateway into
OUT/<gateway>/: manifest.json (digest and provenance), bootstrap.yaml (a static
bootstrap), bootstrap-xds.yaml and xds/ (file-based xDS).

The same intents always give the same bytes and digest. Output appears all at
once: OUT is replaced in one step, and nothing is written when the repository
has errors. OUT may be missing, empty, or an earlier edgectl output; any other
directory is refused rather than overwritten.`,
		Example: `  edgectl compile --out-dir out
  edgectl compile examples/acme -d /tmp/acme
  edgectl compile --rev v1.2 -d out    # what release v1.2 deployed
  edgectl compile -d out -o json | jq -r '.bundles[].digest'`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runCompile(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVarP(&f.out, "out-dir", "d", "", "directory to write the bundles into (required)")
	cmd.Flags().StringVarP(&f.format, "output", "o", "text", "report format: text, json, github or sarif")
	// Before -o meant the report format in every command, compile used it
	// (and --out) for the directory and --format for the report.
	cmd.Flags().StringVar(&f.out, "out", "", "")
	cmd.Flags().StringVar(&f.format, "format", "text", "")
	_ = cmd.Flags().MarkHidden("out")
	_ = cmd.Flags().MarkHidden("format")
	cmd.Flags().StringVar(&f.failOn, "fail-on", "error", "lowest severity that fails: error or warning")
	return cmd
}

type compileReport struct {
	Bundles []bundleReport `json:"bundles"`
	diag.JSONReport
}

type bundleReport struct {
	Gateway   string       `json:"gateway"`
	Digest    string       `json:"digest"`
	Directory string       `json:"directory"`
	Stats     bundle.Stats `json:"stats"`
	Files     int          `json:"files"`
}

func runCompile(cmd *cobra.Command, f compileFlags, a []string) error {
	if err := outputAsDirectory(cmd, &f); err != nil {
		return err
	}
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	if err := oneOf(cmd, "fail-on"); err != nil {
		return err
	}
	failOn, _ := diag.ParseSeverity(f.failOn)
	src, err := openProject(f.project, a)
	if err != nil {
		return err
	}
	defer src.Close()
	res, diags, err := compileProject(src)
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ok := !diags.AtLeast(failOn)
	if ok {
		if err := bundle.WriteOutput(f.out, res.Bundles); err != nil {
			return err
		}
	}
	switch f.format {
	case "text":
		printFindings(stderr, diags)
		if ok {
			printBundles(stdout, f.out, res.Bundles)
		}
	case "json":
		rep := compileReport{Bundles: []bundleReport{}, JSONReport: diag.Report(diags)}
		if ok {
			for _, b := range res.Bundles {
				rep.Bundles = append(rep.Bundles, bundleReport{Gateway: b.Gateway, Digest: b.Digest,
					Directory: filepath.Join(f.out, b.Gateway), Stats: b.Manifest.Stats, Files: len(b.Files)})
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	default:
		if err := diag.Write(stdout, diags, f.format, toolVersion()); err != nil {
			return err
		}
		if ok {
			printBundles(stderr, f.out, res.Bundles)
		}
	}
	if !ok {
		return rejected(diags)
	}
	return nil
}

// outputAsDirectory keeps "compile -o DIR" working: -o used to name the
// output directory. A value that is not a report format, given without
// --out-dir, is still read as the directory, with a note on stderr; a report
// format without a directory is a usage error that says what to add.
func outputAsDirectory(cmd *cobra.Command, f *compileFlags) error {
	for _, d := range [][2]string{{"out", "--out-dir (or -d)"}, {"format", "--output (or -o)"}} {
		if cmd.Flags().Changed(d[0]) {
			fmt.Fprintf(cmd.ErrOrStderr(), "edgectl: compile --%s is deprecated; use %s\n", d[0], d[1])
		}
	}
	o := cmd.Flags().Lookup("output")
	if f.out != "" {
		return nil
	}
	if !o.Changed || slices.Contains(diag.Formats, f.format) {
		return usageErrorf("missing --out-dir DIR: the directory to write bundles into (-o sets the report format, as in every command)")
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "edgectl: compile -o %s: -o for the output directory is deprecated; -o sets the report format, as in every command; use --out-dir %s\n", f.format, f.format)
	f.out, f.format = f.format, "text"
	return o.Value.Set("text")
}

func printBundles(w io.Writer, out string, bundles []*bundle.Bundle) {
	if len(bundles) == 0 {
		fmt.Fprintf(w, "no gateways: %s now holds no bundles\n", out)
	}
	for _, b := range bundles {
		s := b.Manifest.Stats
		fmt.Fprintf(w, "gateway %s: %s, %s, %s, %s, %s\n", b.Gateway,
			count(s.Listeners, "listener"), count(s.VirtualHosts, "virtual host"), count(s.Routes, "route"),
			count(s.Clusters, "cluster"), count(s.Secrets, "secret"))
		fmt.Fprintf(w, "  digest %s\n", b.Digest)
		var xdsFiles, rlsFiles int
		for _, f := range b.Files {
			switch {
			case strings.HasPrefix(f.Path, bundle.XDSDir+"/"):
				xdsFiles++
			case strings.HasPrefix(f.Path, bundle.RateLimitDir+"/"):
				rlsFiles++
			}
		}
		var rls string
		if rlsFiles > 0 {
			rls = fmt.Sprintf(", %s/ with %s", bundle.RateLimitDir, count(rlsFiles, "file"))
		}
		fmt.Fprintf(w, "  wrote  %s/ (%s, %s, %s, %s/ with %s%s)\n", filepath.Join(out, b.Gateway),
			bundle.ManifestFile, bundle.StaticBootstrapFile, bundle.FilesBootstrapFile, bundle.XDSDir, count(xdsFiles, "file"), rls)
	}
}
