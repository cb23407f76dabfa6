package kubetest

import "syscall"

// setPdeathsig asks Linux to SIGKILL the child when the test binary dies
// (e.g. on a go test timeout), so no etcd or apiserver is left behind.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
