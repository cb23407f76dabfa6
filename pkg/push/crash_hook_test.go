package push

import "testing"

// TestCrashHookIgnoresOtherValues: only a plain step number arms the
// fault hook.
func TestCrashHookIgnoresOtherValues(t *testing.T) {
	for _, v := range []string{"", "0", "-1", "01", "1 ", " 1", "1x", "step 1", "1e3", "0x10", "1234567"} {
		t.Setenv(CrashEnv, v)
		if s := stepsFromEnv(); s != nil {
			t.Errorf("%s=%q armed the hook at %d", CrashEnv, v, s.crashAt)
		}
	}
	t.Setenv(CrashEnv, "12")
	if s := stepsFromEnv(); s == nil || s.crashAt != 12 {
		t.Errorf("%s=12 did not arm the hook: %+v", CrashEnv, s)
	}
}
