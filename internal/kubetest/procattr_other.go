//go:build !linux

package kubetest

import "syscall"

// setPdeathsig has no equivalent outside Linux; cleanup relies on t.Cleanup.
func setPdeathsig(*syscall.SysProcAttr) {}
