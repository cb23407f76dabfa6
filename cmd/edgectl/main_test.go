package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"edgectl": func() { os.Exit(Main()) },
	})
}

// TestScripts pins the command-line contract: flags, streams, exit codes
// and files. Each testdata/script/*.txtar is one scenario.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": exits},
	})
}

// exits runs a command and checks its exit code: `exits 3 edgectl validate`.
// Its output is kept for stdout and stderr, as with exec.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// TestChoicesNameRealFlags keeps the choices table (checked by oneOf and
// offered by shell completion) in step with the commands: every entry names
// a flag that exists, and every -o and --fail-on flag has an entry.
func TestChoicesNameRealFlags(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	seen := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			key := choiceKey(c, f.Name)
			if _, ok := choices[key]; ok {
				seen[key] = true
			} else if f.Name == "output" || f.Name == "fail-on" {
				t.Errorf("%s --%s has no entry in choices", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for key := range choices {
		if !seen[key] {
			t.Errorf("choices[%q] names no flag of any command", key)
		}
	}
}
