package par

import (
	"sync/atomic"
	"testing"
)

// TestEachCallsEveryIndexOnce holds Each to calling do once for each index,
// whatever the number of workers.
func TestEachCallsEveryIndexOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, workers int }{{0, 2}, {1, 4}, {5, 1}, {100, 3}, {1000, 0}, {3, 10}} {
		calls := make([]atomic.Int32, c.n)
		Each(c.n, c.workers, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if got := calls[i].Load(); got != 1 {
				t.Errorf("n=%d workers=%d: index %d called %d times", c.n, c.workers, i, got)
			}
		}
	}
}
