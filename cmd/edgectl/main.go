// Command edgectl compiles a Git repository of routing intents into Envoy
// configuration, shows what a change does, and delivers it.
package main

import (
	"os"
	"runtime/debug"

	"github.com/edgectl/edgectl/internal/hugeheap"
)

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT says
// otherwise. Most of what a compile allocates is garbage within one stage
// (parse trees, encodings), and the collector's default pacing lets the
// heap grow to twice what is live before it collects; with a limit it
// collects harder near the limit instead, which keeps a large compile
// inside a CI runner's memory. It is soft: a repository whose live data
// needs more still compiles, the collector then working harder (the Go
// runtime caps that at half the CPU). README.md (Performance) has figures.
const memoryLimit = 1280 << 20

// batchGCPercent is the collector's pacing (GOGC) for commands that run
// once, unless GOGC says otherwise: the heap may grow to one and a half
// times what is live, rather than twice. A compile's live data peaks while
// its bundles are built and encoded, and at 2x a 10,000-route Gateway API
// compile peaked at 310-340 MB; at 1.5x it peaks at 280-300 MB, for 5-15%
// more CPU, which huge pages more than pay for (README.md, Performance).
// serve keeps Go's default: its memory comes and goes with versions.
const batchGCPercent = 50

// tuneRuntime sets the runtime up for the command: huge pages for every
// command (serve reads and encodes a whole bundle per version; with 4 KiB
// pages, reading a 10,000-route bundle in make load took 0.52 s instead
// of 0.40 s), and batch pacing for the commands that run once and
// allocate most of their memory once (batch: every command but serve).
// Main calls it, not the commands, so tests that run commands in their
// own process keep Go's defaults.
func tuneRuntime(batch bool) {
	if !batch {
		hugeheap.Enable(hugeheap.Server)
		return
	}
	hugeheap.Enable(hugeheap.Batch)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(batchGCPercent)
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(Main())
}
