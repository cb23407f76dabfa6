// Package hugeheap backs the Go heap with transparent huge pages where the
// kernel gives them only to memory that asks for them (THP mode
// "madvise", the default of many distributions and VMs).
//
// A compile allocates most of its memory once: parse trees, the IR, the
// encoded bundle. Every fresh 4 KiB page costs a page fault on first
// touch, and on the 2-core VM of the benchmarks a fault costs about 16 µs:
// the 400,000 faults of a 100,000-route compile were 4 s of its 8.5. A
// 2 MiB page takes one fault for 512 of them. The Go runtime does not ask
// for huge pages for its heap (it did briefly, see golang/go#63334), so
// Enable does: it maps a span of the heap by allocating large blocks,
// marks them MADV_HUGEPAGE, and frees them. The heap's later allocations
// reuse that span, lowest addresses first.
package hugeheap

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	hugePage   = 2 << 20
	block      = 64 << 20
	minSpan    = block
	plugMargin = 1 << 20
)

// Off is the environment variable that turns Enable off when set to 0.
const Off = "EDGECTL_HUGEPAGES"

// Batch is the span for a command that runs once: above what a
// 100,000-route compile keeps.
const Batch = 2 << 30

// Server is the span for edgectl serve, whose heap holds a few versions of
// each gateway (a 10,000-route gateway's is about 100 MB): the span shows
// in its metrics as mapped memory (go_memstats_sys_bytes), so it asks for
// no more than a fleet's heap plausibly needs. Beyond it the heap has
// 4 KiB pages, as without Enable.
const Server = 512 << 20

// Enable marks a span of at most max bytes of the heap for huge pages,
// and reports its size (0 when it did nothing). It does nothing when
// EDGECTL_HUGEPAGES=0, when the kernel's THP mode is not "madvise" (under
// "always" the heap has huge pages already; under "never" it cannot), when
// the kernel refuses to overcommit (mode 2: the span would count against
// the commit limit, touched or not), or on a machine with under 256 MiB of
// memory. The span is also at most a quarter of the machine's memory;
// untouched, it costs address space, not memory. Only the first call in a
// process does anything.
func Enable(max int) int {
	once.Do(func() { marked = enable(max) })
	return marked
}

var (
	once   sync.Once
	marked int
)

func enable(max int) int {
	if os.Getenv(Off) == "0" || Mode() != "madvise" {
		return 0
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || strings.TrimSpace(string(b)) == "2" {
		return 0
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	size := min(uint64(max), uint64(si.Totalram)*uint64(si.Unit)/4) &^ (hugePage - 1)
	if size < minSpan {
		return 0
	}
	// The runtime clears a new block unless all of it is memory never
	// used, which it knows to be zero. Where the free run a block would
	// take starts at memory a collection freed (the top of the heap), it
	// would clear gigabytes. A plug a little larger than the whole heap so
	// far takes that run's start first, so the blocks lie beyond anything
	// used; and the span is taken in blocks of 64 MiB, so that if the plug
	// ever falls short only the first block is cleared. No collection
	// runs while they are taken: each would find nothing to free.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	plug := make([]byte, heapMapped()+plugMargin)
	blocks := make([][]byte, size/block)
	marked := 0
	for i := range blocks {
		blocks[i] = make([]byte, block)
		p := uintptr(unsafe.Pointer(unsafe.SliceData(blocks[i])))
		beg := (p + hugePage - 1) &^ (hugePage - 1)
		end := (p + block) &^ (hugePage - 1)
		if err := unix.Madvise(blocks[i][beg-p:end-p], unix.MADV_HUGEPAGE); err != nil {
			break
		}
		marked += int(end - beg)
	}
	runtime.KeepAlive(plug)
	plug, blocks = nil, nil
	runtime.GC()
	return marked
}

// heapMapped is the address space the heap has mapped so far: objects,
// stacks, free, and returned to the kernel.
func heapMapped() uint64 {
	sample := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}
	metrics.Read(sample)
	var n uint64
	for _, s := range sample {
		if s.Value.Kind() == metrics.KindUint64 {
			n += s.Value.Uint64()
		}
	}
	return n
}

// Mode is the kernel's THP mode: "always", "madvise", "never", or "" when
// the kernel has no THP.
func Mode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}
