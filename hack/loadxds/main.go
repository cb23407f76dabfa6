// Command loadxds measures edgectl serve under many SotW ADS streams: how
// long a new version of a large gateway takes to reach every stream, and
// how much memory the server needs for it.
//
// It compiles two generated repositories (a small first version and a
// large second one), starts `edgectl serve --bundles` as a process of its
// own (so its memory is the server's alone), opens the streams over a few
// gRPC connections, each subscribed to the gateway's listeners, clusters
// and route configurations as Envoy is, and swaps the second version into
// the bundle directory. It reports the time until every stream has the new
// version, the server's memory, and the CPU time server and clients used
// in between: the clients stand in for Envoys on other machines, so they
// are kept lean (warmHeap, liteCodec), and what they still cost is shown.
//
//	go run ./hack/loadxds -streams 1000 -conns 10 -routes 10000
//
// With -profile DIR the server is built with -tags edgectl_profile and
// writes into DIR a CPU profile of the push (from the write until every
// stream has the new version, cpu.pprof) and two heap profiles: when the
// first stream has it (heap-1.pprof) and when all have (heap-2.pprof).
// Read them with go tool pprof BINARY FILE; the binary is DIR/edgectl.
// The clients' CPU profile of the same span is DIR/clients.pprof: they
// share the machine with the server, so what they cost is in the figures.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/internal/hugeheap"
	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// Config sizes a run.
type Config struct {
	Streams, Conns int
	FirstRoutes    int
	Routes         int
	Edgectl        string // the binary; empty: build one
	Timeout        time.Duration
	LogServer      bool
	Hold           time.Duration // keep the streams open this long after measuring
	Profile        string        // write the server's profiles of the push here
}

// Report is what a run measured.
type Report struct {
	Config
	FirstBytes, SecondBytes int64 // bytes of one stream's responses per version
	Compile                 time.Duration
	InitialSync             time.Duration
	Write                   time.Duration // WriteOutput of the new version
	First, P50, P99, All    time.Duration // from the write until streams have the new version
	ServerLine              string        // the server's log line for the new version
	Before, After           Memory
	Shutdown                time.Duration
	ServerCPU, ClientCPU    time.Duration // user and system time from the write until all streams have the new version
}

// Memory is the server's, from its /metrics and /proc.
type Memory struct {
	HeapInuse, Sys, RSS, HWM int64
}

func main() {
	var c Config
	flag.IntVar(&c.Streams, "streams", 1000, "SotW ADS streams")
	flag.IntVar(&c.Conns, "conns", 10, "gRPC connections the streams are spread over")
	flag.IntVar(&c.FirstRoutes, "first-routes", 100, "routes of the first version")
	flag.IntVar(&c.Routes, "routes", 10000, "routes of the version measured")
	flag.StringVar(&c.Edgectl, "edgectl", "", "edgectl binary to run (default: build ./cmd/edgectl)")
	flag.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.BoolVar(&c.LogServer, "log-server", false, "copy the server's log to stderr")
	flag.DurationVar(&c.Hold, "hold", 0, "keep the server and streams up this long after measuring, to inspect them")
	flag.StringVar(&c.Profile, "profile", "", "write the server's CPU and heap profiles of the push into this directory (builds edgectl with -tags edgectl_profile)")
	warm := flag.Bool("warm", true, "touch the clients' heap before measuring, so that their buffers are not memory touched for the first time (warmHeap)")
	flag.Parse()
	// The clients hold 1.5 GB of gRPC's buffers in a push: memory touched
	// for the first time, unless warmHeap touched it before, and then in
	// huge pages rather than 4 KiB ones.
	hugeheap.Enable(hugeheap.Batch)
	if *warm {
		warmHeap(warmBytes)
	}
	r, err := Run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadxds:", err)
		os.Exit(1)
	}
	r.Print(os.Stdout)
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	fmt.Fprintf(w, "streams %d over %d connections; version 1: %d routes, version 2: %d routes\n", r.Streams, r.Conns, r.FirstRoutes, r.Routes)
	fmt.Fprintf(w, "one stream receives %s for version 1 and %s for version 2 (all %d streams: %s)\n", mb(r.FirstBytes), mb(r.SecondBytes), r.Streams, mb(r.SecondBytes*int64(r.Streams)))
	fmt.Fprintf(w, "compile of both versions (not timed below): %v\n", r.Compile.Round(time.Millisecond))
	fmt.Fprintf(w, "initial sync of every stream to version 1: %v\n", r.InitialSync.Round(time.Millisecond))
	fmt.Fprintf(w, "version 2 written to the bundle directory in %v\n", r.Write.Round(time.Millisecond))
	fmt.Fprintf(w, "from the write, streams with version 2: first %v, p50 %v, p99 %v, all %v\n",
		r.First.Round(time.Millisecond), r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.All.Round(time.Millisecond))
	fmt.Fprintf(w, "server: %s\n", r.ServerLine)
	fmt.Fprintf(w, "CPU time from the write until all streams have version 2: server %v, clients %v\n", r.ServerCPU.Round(time.Millisecond), r.ClientCPU.Round(time.Millisecond))
	fmt.Fprintf(w, "server memory with version 1: heap in use %s, Go sys %s, RSS %s, peak RSS %s\n", mb(r.Before.HeapInuse), mb(r.Before.Sys), mb(r.Before.RSS), mb(r.Before.HWM))
	fmt.Fprintf(w, "server memory after version 2: heap in use %s, Go sys %s, RSS %s, peak RSS (VmHWM) %s\n", mb(r.After.HeapInuse), mb(r.After.Sys), mb(r.After.RSS), mb(r.After.HWM))
	fmt.Fprintf(w, "graceful shutdown (SIGTERM) with %d streams open: %v\n", r.Streams, r.Shutdown.Round(time.Millisecond))
}

// warmBytes is the heap the clients may use without touching memory for
// the first time: more than they hold when every stream is partway
// through a 10,000-route version (1.5 GB over 1,000 streams).
const warmBytes = 2 << 30

// warmHeap touches n bytes of heap and frees them, and keeps the runtime
// from handing them back to the kernel (no collection until the heap
// nears a limit above them): the clients' buffers of a push then reuse
// memory already mapped. On a VM, memory a process touches for the first
// time can cost more than everything the clients do with it: on the
// 2-core VM of the figures, first writes to 1.5 GB took 3.7 s with huge
// pages and 9.4 s without, again 0.07 s. The clients stand in for Envoys
// on other machines; their page faults would be this machine's time taken
// from the server.
func warmHeap(n int) {
	// At most a quarter of the machine: a small one measures cold.
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return
	}
	n = min(n, int(uint64(si.Totalram)*uint64(si.Unit)/4))
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(int64(n + n/2))
	blocks := make([][]byte, n/(64<<20))
	for i := range blocks {
		blocks[i] = make([]byte, 64<<20)
		for j := 0; j < len(blocks[i]); j += 4096 {
			blocks[i][j] = 1
		}
	}
	blocks = nil
	runtime.GC()
}

// Run does one measurement.
func Run(c Config) (*Report, error) {
	r := &Report{Config: c}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	work, err := os.MkdirTemp("", "loadxds-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	start := time.Now()
	v1, err := compileGenerated(ctx, filepath.Join(work, "repo1"), c.FirstRoutes)
	if err != nil {
		return nil, err
	}
	v2, err := compileGenerated(ctx, filepath.Join(work, "repo2"), c.Routes)
	if err != nil {
		return nil, err
	}
	r.Compile = time.Since(start)
	out := filepath.Join(work, "out")
	if err := bundle.WriteOutput(out, v1); err != nil {
		return nil, err
	}

	bin := c.Edgectl
	if bin == "" || c.Profile != "" {
		args := []string{"build"}
		if bin = filepath.Join(work, "edgectl"); c.Profile != "" {
			if c.Profile, err = filepath.Abs(c.Profile); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(c.Profile, 0o755); err != nil {
				return nil, err
			}
			bin = filepath.Join(c.Profile, "edgectl")
			args = append(args, "-tags", "edgectl_profile")
		}
		build := exec.CommandContext(ctx, "go", append(args, "-o", bin, "github.com/edgectl/edgectl/cmd/edgectl")...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build edgectl: %w", err)
		}
	}
	xdsAddr, httpAddr := freeAddr(), freeAddr()
	srv := exec.Command(bin, "serve", "--bundles", out, "--listen", xdsAddr, "--http", httpAddr)
	if c.Profile != "" {
		srv.Env = append(os.Environ(), "EDGECTL_PROFILE_DIR="+c.Profile)
	}
	logs := &lineLog{copy: c.LogServer}
	srv.Stderr = logs
	if err := srv.Start(); err != nil {
		return nil, err
	}
	defer srv.Process.Kill()
	if err := waitReady(ctx, httpAddr); err != nil {
		return nil, fmt.Errorf("server: %w\n%s", err, logs)
	}

	conns := make([]*grpc.ClientConn, c.Conns)
	for i := range conns {
		conns[i], err = grpc.NewClient(xdsAddr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)),
			grpc.WithInitialWindowSize(4<<20), grpc.WithInitialConnWindowSize(16<<20),
			// Fewer reads of the connection for the clients: what they
			// cost is machine time the server does not get. 256 KiB was
			// a little faster than 1 MiB, and than no buffer, in runs
			// taken in turn.
			grpc.WithReadBufferSize(256<<10))
		if err != nil {
			return nil, err
		}
		defer conns[i].Close()
	}
	streams := make([]*stream, c.Streams)
	for i := range streams {
		streams[i] = &stream{id: i, versions: map[string]string{}}
	}
	var running sync.WaitGroup
	errc := make(chan error, c.Streams)
	start = time.Now()
	for i, st := range streams {
		running.Go(func() {
			if err := st.run(ctx, conns[i%len(conns)]); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("stream %d: %w", i, err)
			}
		})
	}
	if _, err := waitAll(ctx, streams, v1[0].Digest, errc); err != nil {
		return nil, err
	}
	r.InitialSync = time.Since(start)
	r.FirstBytes = streams[0].bytes.Load()
	if r.Before, err = memory(httpAddr, srv.Process.Pid); err != nil {
		return nil, err
	}

	before := streams[0].bytes.Load()
	prof := profiler{dir: c.Profile, pid: srv.Process.Pid}
	if err := prof.signal(syscall.SIGUSR1); err != nil { // start the CPU profile
		return nil, err
	}
	stopClients, err := prof.clients()
	if err != nil {
		return nil, err
	}
	serverCPU, clientCPU := processCPU(srv.Process.Pid), processCPU(os.Getpid())
	start = time.Now()
	if err := bundle.WriteOutput(out, v2); err != nil {
		return nil, err
	}
	r.Write = time.Since(start)
	if c.Profile != "" {
		go func() {
			if firstReached(ctx, streams, v2[0].Digest) {
				prof.signal(syscall.SIGUSR2) // heap-1
			}
		}()
	}
	reached, err := waitAll(ctx, streams, v2[0].Digest, errc)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs)
	}
	r.ServerCPU, r.ClientCPU = processCPU(srv.Process.Pid)-serverCPU, processCPU(os.Getpid())-clientCPU
	if err := stopClients(); err != nil {
		return nil, err
	}
	if c.Profile != "" {
		// Stop the CPU profile, write heap-2, and wait for it: the
		// server writes its profiles in order.
		if err := prof.signal(syscall.SIGUSR1); err != nil {
			return nil, err
		}
		if err := prof.signal(syscall.SIGUSR2); err != nil {
			return nil, err
		}
		if err := prof.wait(ctx, "heap-2.pprof"); err != nil {
			return nil, err
		}
	}
	times := make([]time.Duration, len(reached))
	for i, at := range reached {
		times[i] = at.Sub(start)
	}
	slices.Sort(times)
	r.First, r.P50, r.P99, r.All = times[0], times[len(times)/2], times[len(times)*99/100], times[len(times)-1]
	r.SecondBytes = streams[0].bytes.Load() - before
	if r.After, err = memory(httpAddr, srv.Process.Pid); err != nil {
		return nil, err
	}
	r.ServerLine = logs.find("msg=serving", v2[0].Digest)
	if c.Hold > 0 {
		fmt.Fprintf(os.Stderr, "loadxds: holding for %v; server pid %d, http %s\n", c.Hold, srv.Process.Pid, httpAddr)
		time.Sleep(c.Hold)
	}

	start = time.Now()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	if err := srv.Wait(); err != nil {
		return nil, fmt.Errorf("server exit: %w\n%s", err, logs)
	}
	r.Shutdown = time.Since(start)
	cancel()
	running.Wait()
	return r, nil
}

func compileGenerated(ctx context.Context, dir string, routes int) ([]*bundle.Bundle, error) {
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: routes, Seed: 1}); err != nil {
		return nil, err
	}
	res, diags, err := compile.Compile(ctx, &source.Source{FS: os.DirFS(dir)}, compile.Options{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() || len(res.Bundles) != 1 {
		return nil, fmt.Errorf("compile %d routes: %v", routes, diags)
	}
	return res.Bundles, nil
}

// profiler signals a server built with -tags edgectl_profile.
type profiler struct {
	dir string
	pid int
}

func (p profiler) signal(s syscall.Signal) error {
	if p.dir == "" {
		return nil
	}
	return syscall.Kill(p.pid, s)
}

// clients starts this process's CPU profile.
func (p profiler) clients() (stop func() error, err error) {
	if p.dir == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(filepath.Join(p.dir, "clients.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func (p profiler) wait(ctx context.Context, name string) error {
	for {
		if _, err := os.Stat(filepath.Join(p.dir, name)); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server wrote no %s", name)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// firstReached waits until a stream has version v.
func firstReached(ctx context.Context, streams []*stream, v string) bool {
	for {
		for _, st := range streams {
			if _, ok := st.reached(v); ok {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(ctx context.Context, httpAddr string) error {
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("not ready in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitAll waits until every stream has version v of every type, and
// returns when each got there.
func waitAll(ctx context.Context, streams []*stream, v string, errc chan error) ([]time.Time, error) {
	out := make([]time.Time, len(streams))
	for i, st := range streams {
		for {
			if at, ok := st.reached(v); ok {
				out[i] = at
				break
			}
			select {
			case err := <-errc:
				return nil, err
			case <-ctx.Done():
				return nil, fmt.Errorf("stream %d did not get version %s in time", i, v)
			case <-st.changed():
			}
		}
	}
	return out, nil
}

// processCPU is the user and system time a process has used so far, from
// /proc (0 where it cannot be read).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// memory reads the server's memory figures.
func memory(httpAddr string, pid int) (Memory, error) {
	var m Memory
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		// The Prometheus client writes large values as floats (1.5e+09).
		f, _ := strconv.ParseFloat(val, 64)
		n := int64(f)
		switch name {
		case "go_memstats_heap_inuse_bytes":
			m.HeapInuse = n
		case "go_memstats_sys_bytes":
			m.Sys = n
		case "process_resident_memory_bytes":
			m.RSS = n
		}
	}
	// The peak from /proc directly: the server's own figure could only
	// report it as of the scrape.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			m.HWM = kb * 1024
		}
	}
	return m, nil
}

// stream is one ADS stream behaving as Envoy does: listeners and clusters
// by wildcard, then the route configurations the listeners name, each
// response acknowledged.
type stream struct {
	id    int
	bytes atomic.Int64

	mu       sync.Mutex
	versions map[string]string // type → version acknowledged
	wantRDS  []string          // what the listeners name
	gotRDS   []string          // what the last RDS response held
	reachedV string
	at       time.Time
	notify   chan struct{}
}

func (s *stream) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notify == nil {
		s.notify = make(chan struct{})
	}
	return s.notify
}

// reached reports when the stream had version v of every type.
func (s *stream) reached(v string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at, s.reachedV == v
}

func (s *stream) run(ctx context.Context, conn *grpc.ClientConn) error {
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx, grpc.ForceCodecV2(liteCodec{}))
	if err != nil {
		return err
	}
	node := &corev3.Node{Id: fmt.Sprintf("load-%d", s.id), Cluster: "edge", UserAgentName: "envoy"}
	for i, typ := range []string{resourcev3.ListenerType, resourcev3.ClusterType} {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: typ}
		if i == 0 {
			req.Node = node
		}
		if err := st.Send(req); err != nil {
			return err
		}
	}
	rdsNonce := ""
	for {
		resp := &liteResponse{}
		if err := st.RecvMsg(resp); err != nil {
			return err
		}
		s.bytes.Add(int64(resp.size))
		ack := &discoveryv3.DiscoveryRequest{TypeUrl: resp.typeURL, VersionInfo: resp.version, ResponseNonce: resp.nonce}
		var rds []string
		switch resp.typeURL {
		case resourcev3.ListenerType:
			if rds, err = routeNames(resp.version, resp.listeners); err != nil {
				return err
			}
		case resourcev3.RouteType:
			rdsNonce = resp.nonce
			s.mu.Lock()
			ack.ResourceNames = s.wantRDS
			s.gotRDS = resp.names
			s.mu.Unlock()
		}
		if err := st.Send(ack); err != nil {
			return err
		}
		s.mu.Lock()
		s.versions[resp.typeURL] = resp.version
		newRDS := resp.typeURL == resourcev3.ListenerType && !slices.Equal(rds, s.wantRDS)
		if newRDS {
			s.wantRDS = rds
		}
		s.check()
		var req *discoveryv3.DiscoveryRequest
		if newRDS {
			// Envoy asks for the route configurations its new listeners
			// name, answering the last RDS response (a request with an
			// older nonce is ignored).
			req = &discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: rds,
				VersionInfo: s.versions[resourcev3.RouteType], ResponseNonce: rdsNonce}
		}
		s.mu.Unlock()
		if req != nil {
			if err := st.Send(req); err != nil {
				return err
			}
		}
	}
}

// check notes when the stream has one version of every type and every
// route configuration its listeners name.
func (s *stream) check() {
	v := s.versions[resourcev3.ListenerType]
	if v == s.reachedV || s.versions[resourcev3.ClusterType] != v {
		return
	}
	if len(s.wantRDS) > 0 && (s.versions[resourcev3.RouteType] != v || !subset(s.wantRDS, s.gotRDS)) {
		return
	}
	s.reachedV, s.at = v, time.Now()
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// routeNamesSeen remembers routeNames by version: every stream is sent
// the same listeners for a version (a bundle's digest), and decoding them
// a thousand times would be the clients' work, not the server's.
var routeNamesSeen sync.Map // version → []string

// routeNames lists the route configurations the listeners of a version
// read over RDS; listeners is nil when the codec found the version known.
func routeNames(version string, listeners [][]byte) ([]string, error) {
	if out, ok := routeNamesSeen.Load(version); ok {
		return out.([]string), nil
	}
	var out []string
	for _, b := range listeners {
		l := &listenerv3.Listener{}
		if err := proto.Unmarshal(b, l); err != nil {
			return nil, err
		}
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) == nil && hcm.GetRds() != nil {
					out = append(out, hcm.GetRds().GetRouteConfigName())
				}
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	routeNamesSeen.Store(version, out)
	return out, nil
}

// liteResponse is a DiscoveryResponse read without decoding its
// resources: the names of route configurations, the listeners whole
// (unless their version is known), the rest only measured. A thousand
// clients decoding every resource would measure the clients, not the
// server.
type liteResponse struct {
	version, typeURL, nonce string
	names                   []string // of the route configurations
	listeners               [][]byte
	size                    int
}

// liteCodec reads a liteResponse from the buffers gRPC received it in,
// without joining them into one slice first (a copy of every response,
// which made the clients' share of the machine larger than the
// server's), and skipping what it does not need without reading it.
type liteCodec struct{}

func (liteCodec) Name() string { return "proto" }

func (liteCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

func (liteCodec) Unmarshal(data mem.BufferSlice, v any) error {
	resp, ok := v.(*liteResponse)
	if !ok {
		return proto.Unmarshal(data.Materialize(), v.(proto.Message))
	}
	resp.size = data.Len()
	c := &cursor{bufs: data}
	return c.fields(resp.size, func(num protowire.Number, n int) error {
		switch num {
		case 1:
			resp.version = c.string(n)
		case 4:
			resp.typeURL = c.string(n)
		case 5:
			resp.nonce = c.string(n)
		case 2:
			// An Any: its own type URL, as the response's comes after its
			// resources. Protobuf writes the URL (field 1) before the
			// value (field 2).
			var kind string
			return c.fields(n, func(num protowire.Number, n int) error {
				switch {
				case num == 1:
					kind = resourceKind(c.peek(n))
					c.skip(n)
				case num == 2 && kind == resourcev3.ListenerType:
					if _, known := routeNamesSeen.Load(resp.version); known {
						c.skip(n)
					} else {
						resp.listeners = append(resp.listeners, c.copy(n))
					}
				case num == 2 && kind == resourcev3.RouteType:
					// The name is field 1, which protobuf writes first.
					name := ""
					end := c.pos + n
					if n > 0 && c.uvarint() == 1<<3|uint64(protowire.BytesType) {
						name = c.string(int(c.uvarint()))
					}
					if c.pos > end {
						return io.ErrUnexpectedEOF
					}
					c.skip(end - c.pos)
					resp.names = append(resp.names, name)
				default:
					c.skip(n)
				}
				return nil
			})
		default:
			c.skip(n)
		}
		return nil
	})
}

// resourceKind is the type URL of the resources the clients read, or "".
func resourceKind(url []byte) string {
	for _, t := range []string{resourcev3.ListenerType, resourcev3.RouteType} {
		if string(url) == t {
			return t
		}
	}
	return ""
}

// cursor reads protobuf fields across the buffers of a message. A read
// past the end sets err and yields zeros; fields reports it.
type cursor struct {
	bufs mem.BufferSlice
	cur  []byte // what is left of the buffer being read
	pos  int    // bytes consumed
	err  error
	tmp  []byte
}

// fill makes cur non-empty, or sets err at the end of the message.
func (c *cursor) fill() bool {
	for len(c.cur) == 0 {
		if len(c.bufs) == 0 {
			c.err = io.ErrUnexpectedEOF
			return false
		}
		c.cur, c.bufs = c.bufs[0].ReadOnlyData(), c.bufs[1:]
	}
	return true
}

func (c *cursor) uvarint() uint64 {
	if len(c.cur) >= binary.MaxVarintLen64 {
		v, n := protowire.ConsumeVarint(c.cur)
		if n < 0 {
			c.err = protowire.ParseError(n)
			return 0
		}
		c.cur, c.pos = c.cur[n:], c.pos+n
		return v
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if !c.fill() {
			return 0
		}
		b := c.cur[0]
		c.cur, c.pos = c.cur[1:], c.pos+1
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	c.err = errors.New("varint overflows 64 bits")
	return 0
}

func (c *cursor) skip(n int) {
	for n > 0 && c.fill() {
		k := min(n, len(c.cur))
		c.cur, c.pos, n = c.cur[k:], c.pos+k, n-k
	}
}

// peek returns the next n bytes without consuming them, valid until the
// next read.
func (c *cursor) peek(n int) []byte {
	if len(c.cur) >= n {
		return c.cur[:n]
	}
	save := *c
	c.tmp = c.read(c.tmp[:0], n)
	tmp := c.tmp
	*c = save
	c.tmp = tmp
	return tmp
}

func (c *cursor) read(dst []byte, n int) []byte {
	for n > 0 && c.fill() {
		k := min(n, len(c.cur))
		dst = append(dst, c.cur[:k]...)
		c.cur, c.pos, n = c.cur[k:], c.pos+k, n-k
	}
	return dst
}

func (c *cursor) copy(n int) []byte { return c.read(make([]byte, 0, n), n) }

func (c *cursor) string(n int) string {
	if len(c.cur) >= n {
		s := string(c.cur[:n])
		c.cur, c.pos = c.cur[n:], c.pos+n
		return s
	}
	return string(c.copy(n))
}

// fields calls fn with the number and length of each length-delimited
// field in the next size bytes; fn reads or skips exactly the field.
// Other fields are skipped.
func (c *cursor) fields(size int, fn func(num protowire.Number, n int) error) error {
	end := c.pos + size
	for c.pos < end && c.err == nil {
		key := c.uvarint()
		num, typ := protowire.Number(key>>3), protowire.Type(key&7)
		switch typ {
		case protowire.BytesType:
			n := int(c.uvarint())
			if n < 0 || n > end-c.pos {
				return io.ErrUnexpectedEOF
			}
			if c.err == nil {
				if err := fn(num, n); err != nil {
					return err
				}
			}
		case protowire.VarintType:
			c.uvarint()
		case protowire.Fixed32Type:
			c.skip(4)
		case protowire.Fixed64Type:
			c.skip(8)
		default:
			return fmt.Errorf("field %d: wire type %d", num, typ)
		}
	}
	if c.err != nil {
		return c.err
	}
	if c.pos != end {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// lineLog keeps the server's log lines.
type lineLog struct {
	mu   sync.Mutex
	b    bytes.Buffer
	copy bool
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.copy {
		os.Stderr.Write(p)
	}
	return l.b.Write(p)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lineLog) find(parts ...string) string {
	for line := range strings.Lines(l.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
