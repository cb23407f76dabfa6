package hugeheap

import (
	"bufio"
	"os"
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
	if n := enable(); n != 0 {
		t.Fatalf("with %s=0 Enable marked %d bytes", Off, n)
	}
	if after := hugeSpans(t); after != before {
		t.Fatalf("with %s=0 the marked mappings went from %d to %d bytes", Off, before, after)
	}

	t.Setenv(Off, "")
	n := enable()
	after := hugeSpans(t)
	if Mode() != "madvise" {
		// Huge pages come without asking (always) or not at all.
		if n != 0 || after != before {
			t.Fatalf("THP mode %q: Enable marked %d bytes, mappings went from %d to %d", Mode(), n, before, after)
		}
		return
	}
	if n < minSpan || n%hugePage != 0 {
		t.Fatalf("Enable marked %d bytes, want a whole number of huge pages, at least %d", n, minSpan)
	}
	if after-before < n {
		t.Fatalf("Enable says it marked %d bytes, but marked mappings grew by %d", n, after-before)
	}
}
