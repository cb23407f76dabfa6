//go:build edgectl_profile

package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// A binary built with -tags edgectl_profile (hack/loadxds -profile DIR
// builds one) writes profiles into $EDGECTL_PROFILE_DIR on signals, so a
// measurement can profile exactly the span it measures: SIGUSR1 starts a
// CPU profile (cpu.pprof) and a second one stops it; each SIGUSR2 writes
// the heap (heap-1.pprof, heap-2.pprof, ...: what is live then, and
// everything allocated since the start). Release binaries have none of it.
func init() {
	dir := os.Getenv("EDGECTL_PROFILE_DIR")
	if dir == "" {
		return
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var cpu *os.File
		heaps := 0
		for s := range sig {
			switch s {
			case syscall.SIGUSR1:
				if cpu != nil {
					pprof.StopCPUProfile()
					cpu.Close()
					cpu = nil
					continue
				}
				f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
				if err == nil {
					err = pprof.StartCPUProfile(f)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "profile:", err)
					continue
				}
				cpu = f
			case syscall.SIGUSR2:
				heaps++
				// Written under another name and renamed: a file of
				// that name is complete.
				name := filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", heaps))
				f, err := os.Create(name + ".tmp")
				if err == nil {
					runtime.GC()
					err = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
				if err == nil {
					err = os.Rename(name+".tmp", name)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "profile:", err)
				}
			}
		}
	}()
}
