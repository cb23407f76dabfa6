package push

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
)

// CrashEnv names the test-only fault hook of the file target. In a test
// binary, EDGECTL_PUSH_CRASH_AT=K makes a push or rollback kill its own
// process with SIGKILL just before step K (counted from 1) of its protocol:
// every change it makes to the target directory, and the lock, is a step
// (see steps.do). Nothing deferred runs, no file is closed: the process
// dies as it would at that instant. The crash tests (pkg/push/crashtest) run
// a push crashing at every step in turn and check that the target then
// holds the old bundle or the new one, whole.
//
// The hook is unreachable by accident: outside a binary built by go test
// (testing.Testing) the variable is ignored, and inside one only a plain
// decimal number from 1 to 999999 is obeyed, anything else ignored.
const CrashEnv = "EDGECTL_PUSH_CRASH_AT"

var crashAtFormat = regexp.MustCompile(`^[1-9][0-9]{0,5}$`)

// steps numbers the steps of one push protocol run, for the fault hook.
// A nil *steps does nothing.
//
// The tests need not be told how many steps there are: a crash at a step
// beyond the last is no crash, so they raise K until the push completes.
// The step dies naming itself on stderr, for their messages.
type steps struct {
	crashAt int // die before this step
	n       int // steps taken so far
}

// stepsFromEnv returns the crash hook the environment asks for, or nil.
func stepsFromEnv() *steps {
	if !testing.Testing() {
		return nil
	}
	v := os.Getenv(CrashEnv)
	if !crashAtFormat.MatchString(v) {
		return nil
	}
	k, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return &steps{crashAt: k}
}

// do announces the next step, named for the test's messages, and dies
// first if the hook says so.
func (s *steps) do(name string) {
	if s == nil {
		return
	}
	s.n++
	if s.n == s.crashAt {
		fmt.Fprintf(os.Stderr, "%s=%d: killed before step %d: %s\n", CrashEnv, s.crashAt, s.n, name)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; take no further step
	}
}
