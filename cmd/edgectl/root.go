package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Exit codes, documented in docs/cli.md.
const (
	exitOK       = 0
	exitFailure  = 1 // the tool failed: I/O, git, network, internal error
	exitUsage    = 2 // the command line is wrong
	exitRejected = 3 // the input was rejected: at least one error finding
	exitChanges  = 4 // diff --exit-code found changes
)

// exitError carries an exit code. A nil err means the reason was already
// printed (the findings themselves).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs edgectl with os.Args and returns the exit code.
func Main() int {
	args := os.Args[1:]
	c, _, err := newRoot(io.Discard, io.Discard).Find(args)
	tuneRuntime(err != nil || c.Name() != "serve")
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	switch {
	case errors.As(err, &ee):
	case strings.HasPrefix(err.Error(), "unknown command"):
		// cobra's own usage errors come back as plain errors.
		ee = &exitError{code: exitUsage, err: err}
	default:
		ee = &exitError{code: exitFailure, err: err}
	}
	if ee.err != nil {
		fmt.Fprintf(stderr, "edgectl: %v\n", ee.err)
		if ee.code == exitUsage {
			fmt.Fprintln(stderr, "Run 'edgectl --help' for usage.")
		}
	}
	return ee.code
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "edgectl",
		Short: "Compile a Git repository of routing intents into Envoy configuration",
		Long: `edgectl reads a routing repository (edgectl.yaml plus YAML intents: gateways,
virtual hosts, backends, certificates), validates it, and compiles it into one
Envoy bundle per gateway: a static bootstrap and file-based xDS resources.

These flags can also be set from the environment, for CI and hooks:
EDGECTL_CONFIG (--config) and EDGECTL_FAIL_ON (--fail-on); a flag on the
command line wins.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return flagsFromEnv(cmd) },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err} })
	root.AddCommand(
		newValidateCmd(),
		newCompileCmd(),
		newDiffCmd(),
		newExplainCmd(),
		newPolicyCmd(),
		newTestCmd(),
		newPushCmd(),
		newRollbackCmd(),
		newStatusCmd(),
		newRenderCmd(),
		newBootstrapCmd(),
		newSchemaCmd(),
		newVersionCmd(),
		newServeCmd(),
		newRoutecheckCmd(),
	)
	completeChoices(root)
	return root
}

// choices lists, per command, the values a flag with a fixed set accepts.
// oneOf checks them and the shell completion offers them, so the two can
// never disagree. Keys are the command's path below edgectl and the flag:
// "policy test output" is not "test output".
var choices = map[string][]string{
	"validate output":     append(slices.Clone(diag.Formats), gatewayStatusFormats...),
	"compile output":      diag.Formats,
	"compile format":      diag.Formats,
	"diff output":         {"text", "markdown", "json"},
	"explain output":      {"text", "json"},
	"test output":         testFormats,
	"policy test output":  {"text", "json"},
	"push output":         {"text", "json"},
	"rollback output":     {"text", "json"},
	"status output":       {"text", "json"},
	"version output":      {"text", "json"},
	"render service-type": {"ClusterIP", "NodePort", "LoadBalancer"},
	"serve log-level":     {"debug", "info", "warn", "error"},
	"validate fail-on":    {"error", "warning"},
	"compile fail-on":     {"error", "warning"},
}

// choiceKey is the key of a command's flag in choices.
func choiceKey(cmd *cobra.Command, flag string) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + " " + flag
}

// completeChoices registers the shell completion of every flag in choices.
func completeChoices(root *cobra.Command) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if values, ok := choices[choiceKey(c, f.Name)]; ok {
				_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// envFlags are the flags that mean the same on every command, and so may
// come from the environment. -o is not among them: each command has its own
// formats (diff has markdown, validate has sarif).
var envFlags = []string{"config", "fail-on", "kubeconfig", "context"}

// flagsFromEnv sets the envFlags not given on the command line from
// EDGECTL_<NAME>, if that is set.
func flagsFromEnv(cmd *cobra.Command) error {
	return flagsFrom(cmd, func(name string) bool { return slices.Contains(envFlags, name) }, "EDGECTL_")
}

// flagsFrom sets each flag that pick accepts and the command line did not
// give from the first variable PREFIX<NAME> (NAME in upper case, '-' as
// '_') that is set and not empty.
func flagsFrom(cmd *cobra.Command, pick func(name string) bool, prefixes ...string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || !pick(f.Name) {
			return
		}
		key := strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		for _, prefix := range prefixes {
			name := prefix + key
			if v := os.Getenv(name); v != "" {
				if serr := cmd.Flags().Set(f.Name, v); serr != nil {
					err = usageErrorf("%s: %v", name, serr)
				}
				// Remember where the value came from, for error messages.
				f.Annotations = map[string][]string{envAnnotation: {name}}
				return
			}
		}
	})
	return err
}

// args wraps a cobra positional-argument check so a mistake is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return nil
	}
}

const envAnnotation = "edgectl/env"

// oneOf checks a flag value against the values choices lists for it.
func oneOf(cmd *cobra.Command, flag string) error {
	allowed, ok := choices[choiceKey(cmd, flag)]
	if !ok {
		panic("oneOf: no choices for " + cmd.CommandPath() + " --" + flag)
	}
	f := cmd.Flags().Lookup(flag)
	value := f.Value.String()
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	from := ""
	if env := f.Annotations[envAnnotation]; len(env) > 0 {
		from = " (from " + env[0] + ")"
	}
	return usageErrorf("--%s%s: %q is not one of %s", flag, from, value, strings.Join(allowed, ", "))
}
