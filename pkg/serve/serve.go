// Package serve serves compiled bundles to Envoy and proxyless gRPC clients over ADS (SotW and delta xDS), following a bundle directory or a git remote.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"k8s.io/client-go/kubernetes"
)

// Source delivers what a place holds: Watch calls apply with each new
// reading of it until ctx ends, and returns an error only when it cannot
// watch at all.
type Source interface {
	String() string
	Watch(ctx context.Context, apply func(Load)) error
}

// Load is one reading of a source.
type Load struct {
	// Revision is the commit a git source compiled; empty for a directory.
	Revision string
	// Gateways were read and verified.
	Gateways []*Gateway
	// Failed are the gateways that could not be read, by gateway name (or
	// by path when not even the manifest could be read). Each keeps the
	// version it had.
	Failed map[string]error
	// Err means the source as a whole could not be read or compiled:
	// nothing changes.
	Err error
	// Took is how long reading (or fetching and compiling) took.
	Took time.Duration
}

// Options tune a Server. The zero value is ready to use.
type Options struct {
	// Logger gets one line per event; nil discards them.
	Logger *slog.Logger
	// MaxConcurrentStreams bounds the streams of one gRPC connection;
	// zero means 100,000.
	MaxConcurrentStreams uint32
	// ShutdownTimeout bounds the graceful stop; zero means 10s.
	ShutdownTimeout time.Duration
	// TLS, when set, secures the xDS listener (see TLSConfig); nil serves
	// plaintext gRPC, with a warning at start.
	TLS *tls.Config
	// Identities, when not nil, limits each client to the node clusters
	// its certificate's names are given here; every other stream, and any
	// stream without a verified client certificate, is ended with
	// PermissionDenied. It needs a TLS config that verifies client
	// certificates.
	Identities Identities
	// Webhook, when it has a secret, serves POST /webhook on the HTTP
	// listener: each verified call fires its trigger.
	Webhook Webhook
	// Kubernetes, when set, is the cluster whose Services give endpoints
	// to the clusters of Backends that name one (see NewKubernetes); nil
	// leaves those clusters without endpoints, and /readyz says so.
	Kubernetes kubernetes.Interface

	// withoutNACKGuard serves from go-control-plane's cache as it is, for
	// the test that shows the storm the guard prevents.
	withoutNACKGuard bool
	// kubeSyncTimeout replaces defaultSyncTimeout, for tests of a cluster
	// that never answers.
	kubeSyncTimeout time.Duration
}

// Server is an ADS server fed by sources.
type Server struct {
	opts       Options
	log        *slog.Logger
	cache      cachev3.SnapshotCache
	watcher    cachev3.Cache
	codec      *sotwCodec
	metrics    *metrics
	deliveries *deliveries
	observer   *observer
	kube       *endpointWatcher // nil without Options.Kubernetes
	draining   atomic.Bool

	applyMu sync.Mutex // one load is applied at a time

	mu      sync.Mutex
	served  map[string]*version // by node cluster
	sources []*sourceState
}

// sourceState is what a source has delivered so far.
type sourceState struct {
	name   string
	loaded bool              // a load without Err has been applied
	err    string            // the last load's Err, until one succeeds
	names  []string          // the gateways the last such load named
	failed map[string]string // gateway → the error last reported for it
}

// New returns a server that serves nothing until its sources deliver.
func New(opts Options) *Server {
	if opts.MaxConcurrentStreams == 0 {
		opts.MaxConcurrentStreams = 100_000
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, log: log, served: map[string]*version{}}
	s.metrics = newMetrics(s.versions, opts.Webhook.Secret != "")
	s.deliveries = newDeliveries(s.metrics)
	s.codec = newSOTWCodec()
	inner := cachev3.NewSnapshotCache(true, nodeHash{}, nil)
	s.cache = newSOTWCache(inner, nodeHash{}, s.codec)
	s.watcher = s.cache
	if opts.withoutNACKGuard {
		s.watcher = inner
	}
	s.observer = newObserver(log, s.metrics, s.deliveries)
	if opts.Kubernetes != nil {
		s.kube = newEndpointWatcher(opts.Kubernetes, log, opts.kubeSyncTimeout)
	}
	return s
}

// Serve serves xDS on grpcL and /healthz, /readyz and /metrics on httpL,
// with what the sources deliver, until ctx ends or a source cannot watch.
// It then stops gracefully: readiness fails, every xDS stream is ended (its
// client reconnects, to another replica), and in-flight responses get
// ShutdownTimeout to go out.
func (s *Server) Serve(ctx context.Context, grpcL, httpL net.Listener, sources ...Source) error {
	xdsCtx, stopXDS := context.WithCancel(context.Background())
	defer stopXDS()
	callbacks := s.observer.callbacks()
	if s.opts.Identities != nil {
		callbacks = newIdentityGuard(s.opts.Identities, s.log, s.metrics.identityRefused, s.gatewayOf).wrap(callbacks)
	}
	xs := serverv3.NewServer(xdsCtx, s.watcher, callbacks)
	gopts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(s.codec),
		grpc.MaxConcurrentStreams(s.opts.MaxConcurrentStreams),
		// Envoy's and gRPC's xDS clients may ping idle connections; so may
		// load balancers in between.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	}
	if s.opts.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.opts.TLS)))
	}
	gs := grpc.NewServer(gopts...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 2+len(sources))
	go func() {
		if err := gs.Serve(grpcL); err != nil {
			errc <- fmt.Errorf("serve xDS: %w", err)
		}
	}()
	go func() {
		if err := hs.Serve(httpL); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve HTTP: %w", err)
		}
	}()
	srcCtx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	var wg sync.WaitGroup
	if s.kube != nil {
		s.kube.start(srcCtx)
		wg.Go(func() { s.followEndpoints(srcCtx) })
	}
	for _, src := range sources {
		st := s.addSource(src.String())
		wg.Go(func() {
			if err := src.Watch(srcCtx, func(l Load) { s.apply(srcCtx, st, l) }); err != nil {
				errc <- fmt.Errorf("watch %s: %w", src, err)
			}
		})
	}
	s.log.Info("listening", "xds", grpcL.Addr().String(), "http", httpL.Addr().String(), "tls", s.opts.TLS != nil)
	if s.opts.TLS == nil {
		s.log.Warn("the xDS port is plaintext: any client that reaches it can ask for any gateway's configuration", "xds", grpcL.Addr().String())
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down")
	s.draining.Store(true)
	stopSources()
	wg.Wait()
	stopXDS()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.log.Warn("graceful stop timed out; closing connections", "timeout", s.opts.ShutdownTimeout)
		gs.Stop()
	}
	hctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if herr := hs.Shutdown(hctx); herr != nil && err == nil {
		err = fmt.Errorf("stop HTTP: %w", herr)
	}
	return err
}

func (s *Server) addSource(name string) *sourceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &sourceState{name: name, failed: map[string]string{}}
	s.sources = append(s.sources, st)
	return st
}

// apply serves what a load holds. Each gateway's version is built and
// validated first; one that fails keeps the gateway on its last good
// version, and so does everything when the load failed as a whole.
func (s *Server) apply(ctx context.Context, st *sourceState, l Load) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if l.Err != nil {
		s.sourceError(st, l.Revision, "", l.Err)
		s.mu.Lock()
		st.err = l.Err.Error()
		s.mu.Unlock()
		return
	}
	names := map[string]bool{}
	failed := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(l.Failed)) {
		names[name] = true
		msg := l.Failed[name].Error()
		failed[name] = msg
		if st.failed[name] != msg { // said once, not at every re-scan
			s.sourceError(st, l.Revision, name, l.Failed[name])
		}
	}
	gateways := slices.SortedFunc(slices.Values(l.Gateways), func(a, b *Gateway) int { return strings.Compare(a.Name, b.Name) })
	claimed := map[string]string{} // node cluster → gateway
	for _, g := range gateways {
		names[g.Name] = true
		if other, dup := claimed[g.NodeCluster]; dup {
			err := fmt.Errorf("gateways %q and %q have the same node cluster %q; serving %q", other, g.Name, g.NodeCluster, other)
			failed[g.Name] = err.Error()
			if st.failed[g.Name] != err.Error() {
				s.sourceError(st, l.Revision, g.Name, err)
			}
			continue
		}
		claimed[g.NodeCluster] = g.Name
		s.mu.Lock()
		cur := s.served[g.NodeCluster]
		s.mu.Unlock()
		if cur != nil && cur.digest == g.Digest && cur.gateway == g.Name {
			continue
		}
		start := time.Now()
		v, err := buildVersion(g)
		if err != nil {
			err = fmt.Errorf("version %s: %w", g.Digest, err)
			failed[g.Name] = err.Error()
			if st.failed[g.Name] != err.Error() {
				s.sourceError(st, l.Revision, g.Name, err)
			}
			continue
		}
		built := time.Since(start)
		s.deliveries.set(g.NodeCluster, g.Name, g.Digest, time.Now())
		if err := s.setSnapshots(ctx, v, true); err != nil {
			s.deliveries.abandon(g.NodeCluster)
			s.sourceError(st, l.Revision, g.Name, fmt.Errorf("set snapshot: %w", err))
			continue
		}
		s.mu.Lock()
		s.served[g.NodeCluster] = v
		s.mu.Unlock()
		c := v.counts
		s.log.Info("serving", "gateway", g.Name, "node_cluster", g.NodeCluster, "version", g.Digest,
			"source", st.name, "revision", l.Revision, "read", l.Took.Round(time.Millisecond),
			"listeners", c.listeners, "route_configurations", c.routes, "clusters", c.clusters, "secrets", c.secrets,
			"grpc_listeners", c.grpcListeners, "grpc_clusters", c.grpcClusters,
			"build", built.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
		for _, n := range v.notes {
			s.log.Warn("proxyless gRPC clients", "gateway", g.Name, "version", g.Digest, "note", n)
		}
	}
	for _, old := range st.names {
		if !names[old] {
			// Its clients keep the version they have: a gateway that
			// disappears by mistake must not take its Envoys' listeners
			// with it.
			s.log.Warn("gateway is gone from the source; its clients keep their version", "gateway", old, "source", st.name)
		}
	}
	s.retainServices()
	if len(failed) == 0 {
		s.metrics.sourceServed(st.name, l.Revision)
	}
	s.mu.Lock()
	st.loaded, st.err = true, ""
	st.names = slices.Sorted(maps.Keys(names))
	st.failed = failed
	s.mu.Unlock()
}

func (s *Server) sourceError(st *sourceState, revision, gateway string, err error) {
	s.metrics.sourceError(st.name, revision, time.Now())
	args := []any{"source", st.name}
	if revision != "" {
		args = append(args, "revision", revision)
	}
	if gateway != "" {
		args = append(args, "gateway", gateway)
	}
	s.log.Error("keeping the last good version", append(args, "error", err)...)
}

// ready reports whether every source has delivered and every gateway it
// names has a version served, and if not, why.
func (s *Server) ready() (bool, []string) {
	if s.draining.Load() {
		return false, []string{"shutting down"}
	}
	endpoints := s.endpointProblems()
	s.mu.Lock()
	defer s.mu.Unlock()
	served := map[string]bool{}
	for _, v := range s.served {
		served[v.gateway] = true
	}
	var why []string
	if len(s.sources) == 0 {
		why = append(why, "no sources")
	}
	for _, st := range s.sources {
		switch {
		case !st.loaded && st.err != "":
			why = append(why, fmt.Sprintf("%s: %s", st.name, st.err))
		case !st.loaded:
			why = append(why, fmt.Sprintf("%s: not read yet", st.name))
		case len(st.names) == 0:
			why = append(why, fmt.Sprintf("%s: no bundles", st.name))
		}
		for _, n := range st.names {
			switch {
			case served[n]:
			case st.failed[n] != "":
				why = append(why, fmt.Sprintf("%s: gateway %q has no version served: %s", st.name, n, st.failed[n]))
			default:
				why = append(why, fmt.Sprintf("%s: gateway %q has no version served", st.name, n))
			}
		}
	}
	why = append(why, endpoints...)
	return len(why) == 0, why
}

// Handler serves /healthz (the process is alive), /readyz (every source
// has a version served), /metrics (Prometheus text format) and, with a
// webhook secret, POST /webhook.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := s.ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, strings.Join(why, "\n")+"\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: metricsLog{s.log}}))
	if s.opts.Webhook.Secret != "" {
		mux.HandleFunc("POST "+WebhookPath, s.webhook)
	}
	return mux
}

// metricsLog logs what goes wrong while gathering metrics.
type metricsLog struct{ log *slog.Logger }

func (l metricsLog) Println(v ...any) { l.log.Error("gather metrics", "error", fmt.Sprint(v...)) }

// gatewayOf names the gateway served to a node cluster, or "".
func (s *Server) gatewayOf(nodeCluster string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.served[nodeCluster]; v != nil {
		return v.gateway
	}
	return ""
}

// versions lists what is served, sorted.
func (s *Server) versions() []servedVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]servedVersion, 0, len(s.served))
	for _, v := range s.served {
		out = append(out, servedVersion{gateway: v.gateway, nodeCluster: v.nodeCluster, version: v.digest})
	}
	slices.SortFunc(out, func(a, b servedVersion) int {
		return strings.Compare(a.gateway+"\x00"+a.nodeCluster, b.gateway+"\x00"+b.nodeCluster)
	})
	return out
}
