package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// version is set at link time by the Makefile (-X main.version=...).
var version = ""

type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	EnvoyAPI  string `json:"envoyAPI"`
}

func readVersion() versionInfo {
	v := versionInfo{Version: version, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/envoyproxy/go-control-plane/envoy" {
				v.EnvoyAPI = d.Version
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

func buildInfo() bundle.BuildInfo {
	v := readVersion()
	return bundle.BuildInfo{Version: v.Version, EnvoyAPI: v.EnvoyAPI}
}

type versionFlags struct{ output string }

func newVersionCmd() *cobra.Command {
	var f versionFlags
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of edgectl and of the Envoy API it targets",
		Example: `  edgectl version
  edgectl version -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runVersion(cmd, f) },
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runVersion(cmd *cobra.Command, f versionFlags) error {
	if err := oneOf(cmd, "output"); err != nil {
		return err
	}
	v := readVersion()
	out := cmd.OutOrStdout()
	if f.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Fprintf(out, "edgectl %s\n", v.Version)
	if v.Commit != "" {
		fmt.Fprintf(out, "commit:    %s\n", v.Commit)
	}
	fmt.Fprintf(out, "go:        %s\n", v.GoVersion)
	fmt.Fprintf(out, "envoy api: %s\n", v.EnvoyAPI)
	return nil
}
