// Package par runs independent pieces of work on several goroutines.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Each calls do(i) for every i in [0, n) on up to workers goroutines (zero
// or less: one per core), each taking the next i as it finishes one, so
// pieces of very different sizes still spread evenly. It returns when all
// are done. do writes its result to a slot of its own, which keeps the
// outcome independent of timing.
func Each(n, workers int, do func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				do(i)
			}
		})
	}
	wg.Wait()
}
