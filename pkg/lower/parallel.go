package lower

import (
	"maps"
	"sync"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Lowering routes is most of the lowering stage's work, and one route's
// lowering reads the indexes built before it and writes only its findings
// and what it marks as used. So the routes of a large virtual host, and the
// virtual hosts of a large gateway, are lowered on several goroutines, each
// with a lowerer of its own (fork) whose findings and marks are then added
// to the parent's in the order a single goroutine would have made them
// (join): the result is the same, byte for byte.

// parallelRoutes is the number of routes from which a virtual host's own
// routes, or a repository's virtual hosts, are lowered in parallel; below
// it the goroutines cost more than they save.
const parallelRoutes = 1024

// fork returns a lowerer that reads what l has indexed and lowered so far,
// and records findings and marks of its own.
func (l *lowerer) fork() *lowerer {
	c := *l
	c.diags = nil
	c.usedBE, c.usedCert, c.usedRS, c.usedDef = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	return &c
}

// join adds the findings and marks of a fork of l.
func (l *lowerer) join(c *lowerer) {
	l.diags = append(l.diags, c.diags...)
	maps.Copy(l.usedBE, c.usedBE)
	maps.Copy(l.usedCert, c.usedCert)
	maps.Copy(l.usedRS, c.usedRS)
	maps.Copy(l.usedDef, c.usedDef)
}

// inParallel calls do(i) for i in [0, n) in about workers contiguous runs,
// each on its own goroutine with its own fork, and joins the forks in
// order.
func (l *lowerer) inParallel(n int, do func(l *lowerer, i int)) {
	workers := min(l.workers, n)
	if workers < 2 {
		for i := range n {
			do(l, i)
		}
		return
	}
	forks := make([]*lowerer, workers)
	var wg sync.WaitGroup
	for w := range workers {
		forks[w] = l.fork()
		from, to := w*n/workers, (w+1)*n/workers
		wg.Go(func() {
			for i := from; i < to; i++ {
				do(forks[w], i)
			}
		})
	}
	wg.Wait()
	for _, f := range forks {
		l.join(f)
	}
}

// ahead is the routes of a virtual host lowered before its turn, with the
// findings and marks that made.
type ahead struct {
	plain  bool
	routes []*ir.Route
	fork   *lowerer
}

// routesAhead lowers the routes of every virtual host of a large repository
// in parallel, for lowerVirtualHosts to take in its order. Whether a
// virtual host serves plain HTTP, which an include's checks read, is found
// as lowerVirtualHosts finds it, on a fork whose findings are dropped: that
// loop reports them in their place.
func (l *lowerer) routesAhead(gws map[string]*gatewayBuilder) map[*intent.VirtualHost]*ahead {
	total := 0
	for _, vh := range l.m.VirtualHosts {
		total += len(vh.Spec.Routes)
	}
	if total < parallelRoutes || l.workers < 2 || len(l.m.VirtualHosts) < 2 {
		return nil
	}
	type job struct {
		vh *intent.VirtualHost
		gb *gatewayBuilder
		a  *ahead
	}
	var jobs []job
	scratch := l.fork()
	for _, vh := range l.m.VirtualHosts {
		gb, ok := gws[vh.Spec.Gateway]
		if l.firstVirtualHost(vh.Doc.Name) != vh || !ok || vh.Spec.Passthrough != nil {
			continue
		}
		var cert *ir.CertRef
		if vh.Spec.TLS != nil {
			cert, _ = scratch.certRef(vh.Doc, vh.Spec.TLS.Certificate, false, "spec", "tls", "certificate")
		}
		plain := servesPlain(gb, vh, scratch.selectListeners(gb, vh), cert != nil)
		jobs = append(jobs, job{vh, gb, &ahead{plain: plain}})
	}
	out := make(map[*intent.VirtualHost]*ahead, len(jobs))
	for _, j := range jobs {
		out[j.vh] = j.a
	}
	// Contiguous runs of virtual hosts, one goroutine each; a virtual host
	// with many routes lowers them in parallel itself.
	l.inParallel(len(jobs), func(w *lowerer, i int) {
		j := jobs[i]
		j.a.fork = w.fork()
		j.a.routes = j.a.fork.routes(j.vh, j.gb, j.a.plain)
	})
	return out
}
