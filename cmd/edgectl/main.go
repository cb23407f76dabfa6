// Command edgectl compiles a Git repository of routing intents into Envoy
// configuration, shows what a change does, and delivers it.
package main

import (
	"os"
	"runtime/debug"
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

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(Main())
}
