package serve

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// NewKubernetes is a client for serve to read a cluster's Services and
// EndpointSlices with: cfg as it is, except that requests are not cut off
// after a time, as a watch is one long request.
func NewKubernetes(cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = 0
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("connect to Kubernetes: %w", err)
	}
	return client, nil
}

// defaultSyncTimeout bounds how long a new version waits for the first
// list of a Service it is the first to name before it is served, with no
// endpoints for that Service if the API server has not answered.
const defaultSyncTimeout = 10 * time.Second

// serviceKey names a Service.
type serviceKey struct{ namespace, name string }

func (k serviceKey) String() string { return k.namespace + "/" + k.name }

// endpointWatcher follows the Kubernetes Services the served gateways
// name: for each, an informer on its EndpointSlices (label
// kubernetes.io/service-name, in its namespace) and one on the Service
// itself (which maps port numbers to the names slices use). Each change
// marks the Service dirty and wakes whoever waits on wake.
type endpointWatcher struct {
	client      kubernetes.Interface
	log         *slog.Logger
	syncTimeout time.Duration
	wake        chan struct{} // one pending wake-up at most

	mu       sync.Mutex
	ctx      context.Context // informers run until it ends
	services map[serviceKey]*serviceWatch
	dirty    map[serviceKey]bool
	served   map[string]string // node cluster → the endpoint version last set
}

// serviceWatch is what is known of one Service.
type serviceWatch struct {
	stop    context.CancelFunc
	slices  cache.SharedIndexInformer
	service cache.SharedIndexInformer
	synced  []cache.ResourceEventHandlerRegistration

	mu      sync.Mutex
	lastErr string // the last list or watch error, reported until listed
}

func newEndpointWatcher(client kubernetes.Interface, log *slog.Logger, syncTimeout time.Duration) *endpointWatcher {
	if syncTimeout == 0 {
		syncTimeout = defaultSyncTimeout
	}
	return &endpointWatcher{
		client:      client,
		log:         log,
		syncTimeout: syncTimeout,
		wake:        make(chan struct{}, 1),
		ctx:         context.Background(),
		services:    map[serviceKey]*serviceWatch{},
		dirty:       map[serviceKey]bool{},
		served:      map[string]string{},
	}
}

// start sets the context the informers run in.
func (w *endpointWatcher) start(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ctx = ctx
}

func (w *endpointWatcher) touch(k serviceKey) {
	w.mu.Lock()
	w.dirty[k] = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// takeDirty returns the Services changed since the last call.
func (w *endpointWatcher) takeDirty() map[serviceKey]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dirty
	w.dirty = map[serviceKey]bool{}
	return d
}

// watch starts following the Services not followed yet, and waits (up to
// syncTimeout, or until ctx ends) until each of those has been listed
// once. A Service already followed is not waited for again, listed or
// not: one the API server refuses must not hold back every version.
func (w *endpointWatcher) watch(ctx context.Context, keys []serviceKey) {
	var waits []<-chan struct{}
	w.mu.Lock()
	for _, k := range keys {
		if w.services[k] != nil {
			continue
		}
		sw := w.startService(k)
		w.services[k] = sw
		for _, r := range sw.synced {
			waits = append(waits, r.HasSyncedChecker().Done())
		}
	}
	w.mu.Unlock()
	if len(waits) == 0 {
		return
	}
	timer := time.NewTimer(w.syncTimeout)
	defer timer.Stop()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// retain stops following the Services not in keep.
func (w *endpointWatcher) retain(keep map[serviceKey]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, sw := range w.services {
		if !keep[k] {
			sw.stop()
			delete(w.services, k)
			w.log.Info("no longer following Kubernetes Service", "service", k.String())
		}
	}
}

// startService starts the informers of one Service; w.mu is held.
func (w *endpointWatcher) startService(k serviceKey) *serviceWatch {
	ctx, stop := context.WithCancel(w.ctx)
	sw := &serviceWatch{stop: stop}
	bySvc := labels.Set{discoveryv1.LabelServiceName: k.name}.String()
	byName := fields.OneTermEqualSelector("metadata.name", k.name).String()
	sw.slices = discoveryinformers.NewFilteredEndpointSliceInformer(w.client, k.namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = bySvc })
	sw.service = coreinformers.NewFilteredServiceInformer(w.client, k.namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = byName })
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.touch(k) },
		UpdateFunc: func(any, any) { w.touch(k) },
		DeleteFunc: func(any) { w.touch(k) },
	}
	for _, inf := range []cache.SharedIndexInformer{sw.slices, sw.service} {
		// Errors are reported here, and in /readyz until the Service is
		// listed; the informer retries with backoff.
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			sw.mu.Lock()
			changed := sw.lastErr != err.Error()
			sw.lastErr = err.Error()
			sw.mu.Unlock()
			if changed && ctx.Err() == nil {
				w.log.Warn("cannot follow Kubernetes Service", "service", k.String(), "error", err)
			}
		})
		reg, err := inf.AddEventHandler(handler)
		if err != nil { // only for a stopped informer, which this is not
			panic(fmt.Sprintf("serve: watch %s: %v", k, err))
		}
		sw.synced = append(sw.synced, reg)
		go inf.RunWithContext(ctx)
	}
	w.log.Info("following Kubernetes Service", "service", k.String())
	return sw
}

// listed reports whether both informers of a Service have listed it.
func (sw *serviceWatch) listed() bool {
	for _, r := range sw.synced {
		if !r.HasSynced() {
			return false
		}
	}
	return true
}

// assignment builds the endpoints of a Service port from what the
// informers hold, or none when the Service is not followed.
func (w *endpointWatcher) assignment(name string, s ir.Service) (*endpointv3.ClusterLoadAssignment, string) {
	w.mu.Lock()
	sw := w.services[serviceKey{s.Namespace, s.Name}]
	w.mu.Unlock()
	if sw == nil {
		return &endpointv3.ClusterLoadAssignment{ClusterName: name}, "the Service is not followed"
	}
	var svc *corev1.Service
	for _, o := range sw.service.GetStore().List() {
		if x, ok := o.(*corev1.Service); ok && x.Name == s.Name {
			svc = x
		}
	}
	var list []*discoveryv1.EndpointSlice
	for _, o := range sw.slices.GetStore().List() {
		if x, ok := o.(*discoveryv1.EndpointSlice); ok {
			list = append(list, x)
		}
	}
	return assignment(name, s.Port, svc, list)
}

// problems lists, for /readyz, each followed Service that has not been
// listed yet, with the last error if any.
func (w *endpointWatcher) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, k := range slices.SortedFunc(maps.Keys(w.services), func(a, b serviceKey) int { return strings.Compare(a.String(), b.String()) }) {
		sw := w.services[k]
		if sw.listed() {
			continue
		}
		sw.mu.Lock()
		msg := fmt.Sprintf("Kubernetes Service %s: not listed yet", k)
		if sw.lastErr != "" {
			msg += ": " + sw.lastErr
		}
		sw.mu.Unlock()
		out = append(out, msg)
	}
	return out
}

// kubernetesServices are the Service ports a snapshot serves endpoints
// for, by EDS service name, sorted.
func kubernetesServices(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := xds.ParseServiceName(n); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
