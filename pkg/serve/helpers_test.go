package serve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

// compileFiles compiles a repository given as file contents and fails the
// test on any error finding.
func compileFiles(t testing.TB, files map[string]string) *compile.Result {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return compileDir(t, dir)
}

func compileDir(t testing.TB, dir string) *compile.Result {
	t.Helper()
	res, diags, err := compile.Compile(context.Background(), &source.Source{FS: os.DirFS(dir)}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("compile %s: %v", dir, diags)
	}
	return res
}

const project = `apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: test}
`

// server is a running Server on loopback.
type server struct {
	xds, http string
	log       *syncBuffer
}

// startServer serves the sources until the test ends.
func startServer(t *testing.T, opts Options, sources ...Source) *server {
	t.Helper()
	s := &server{log: &syncBuffer{}}
	opts.Logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	grpcL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.xds, s.http = grpcL.Addr().String(), httpL.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Serve(ctx, grpcL, httpL, sources...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	return s
}

// get fetches a path of the HTTP endpoint.
func (s *server) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metric returns the value of the series whose name and labels start with
// prefix (for example `edgectl_serve_nacks_total{protocol="sotw",type="cluster"}`),
// or -1 when there is none.
func (s *server) metric(t testing.TB, prefix string) float64 {
	t.Helper()
	_, body := s.get(t, "/metrics")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, prefix) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return v
	}
	return -1
}

// servedVersion is the version served to a gateway, from /metrics.
func (s *server) servedVersion(t testing.TB, gateway string) string {
	t.Helper()
	_, body := s.get(t, "/metrics")
	prefix := fmt.Sprintf("edgectl_serve_gateway_version{gateway=%q,", gateway)
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			_, v, _ := strings.Cut(rest, `version="`)
			return v[:strings.IndexByte(v, '"')]
		}
	}
	return ""
}

// eventually polls cond until it holds or time runs out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// pushTarget writes bundles the way a push target holds them: the files
// of version n in ..vN, each name a link into ..data, and ..data swapped to
// the new version in one rename, as the kubelet updates a ConfigMap volume.
type pushTarget struct {
	t   testing.TB
	dir string
	n   int
}

func (p *pushTarget) write(files []bundle.File) {
	p.t.Helper()
	p.n++
	version := fmt.Sprintf("..v%d", p.n)
	if err := os.MkdirAll(filepath.Join(p.dir, version), 0o755); err != nil {
		p.t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(p.dir, version, f.Path), f.Data, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
	tmp := filepath.Join(p.dir, "..data_tmp")
	if err := os.Symlink(version, tmp); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, "..data")); err != nil {
		p.t.Fatal(err)
	}
	for _, f := range files {
		link := filepath.Join(p.dir, f.Path)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", f.Path), link); err != nil {
			p.t.Fatal(err)
		}
	}
	if p.n > 1 {
		_ = os.RemoveAll(filepath.Join(p.dir, fmt.Sprintf("..v%d", p.n-1)))
	}
}
