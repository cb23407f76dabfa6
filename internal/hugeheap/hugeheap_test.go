package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hugeSpans sums the sizes of this process's mappings marked
// MADV_HUGEPAGE ("hg" in their VmFlags).
func hugeSpans(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, size := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 3 && fields[0] == "Size:":
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			size = kb << 10
		case len(fields) > 0 && fields[0] == "VmFlags:":
			for _, fl := range fields[1:] {
				if fl == "hg" {
					total += size
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

func TestEnable(t *testing.T) {
	t.Setenv(Off, "0")
	before := hugeSpans(t)
	if n := enable(Batch); n != 0 {
		t.Fatalf("with %s=0 Enable marked %d bytes", Off, n)
	}
	if after := hugeSpans(t); after != before {
		t.Fatalf("with %s=0 the marked mappings went from %d to %d bytes", Off, before, after)
	}

	t.Setenv(Off, "")
	for _, max := range []int{Server, Batch} {
		n := enable(max)
		after := hugeSpans(t)
		if Mode() != "madvise" {
			// Huge pages come without asking (always) or not at all.
			if n != 0 || after != before {
				t.Fatalf("THP mode %q: Enable marked %d bytes, mappings went from %d to %d", Mode(), n, before, after)
			}
			return
		}
		if n < minSpan || n > max || n%hugePage != 0 {
			t.Fatalf("Enable(%d) marked %d bytes, want a whole number of huge pages, at least %d and at most %[1]d", max, n, minSpan)
		}
		if after-before < n {
			t.Fatalf("Enable says it marked %d bytes, but marked mappings grew by %d", n, after-before)
		}
		before = after
	}
}

// resident is this process's resident memory in bytes.
func resident() int {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.Atoi(f[1])
	return pages * os.Getpagesize()
}

// TestEnableTouchesNothing: the span must come from memory the runtime
// knows to be zero. Memory a collection freed at the top of the heap is
// not: were the span to start there, the runtime would clear all of it,
// touching gigabytes. Each case runs in a process of its own, as Enable
// does once per process.
func TestEnableTouchesNothing(t *testing.T) {
	if Mode() != "madvise" {
		t.Skipf("THP mode %q: Enable does nothing (TestEnable checks that)", Mode())
	}
	for _, dirty := range []int{0, 1 << 20, 16 << 20, 48 << 20} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", childEnv, dirty), Off+"=")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "marked ") {
			t.Errorf("dirty %d MB: %v\n%s", dirty>>20, err, out)
		}
	}
}

const childEnv = "HUGEHEAP_TEST_DIRTY"

// TestMain runs TestEnableTouchesNothing's processes: each frees
// HUGEHEAP_TEST_DIRTY bytes it wrote at the top of the heap, enables, and
// exits 1 if that made the span resident.
func TestMain(m *testing.M) {
	v := os.Getenv(childEnv)
	if v == "" {
		os.Exit(m.Run())
	}
	dirty, err := strconv.Atoi(v)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	b := make([]byte, dirty)
	for i := range b {
		b[i] = 1
	}
	b = nil
	runtime.GC()
	before := resident()
	n := enable(Batch)
	grew := resident() - before
	switch {
	case n == 0:
		fmt.Println("enable marked nothing")
		os.Exit(1)
	case grew > 2*dirty+(32<<20):
		fmt.Printf("enable made %d MB resident marking %d MB: the span was cleared\n", grew>>20, n>>20)
		os.Exit(1)
	}
	fmt.Printf("marked %d MB; resident grew by %d MB\n", n>>20, grew>>20)
}
