package serve

import (
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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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

// metrics scrapes /metrics and parses it with the Prometheus text parser.
func (s *server) metrics(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := s.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mfs
}

// metric returns the value of the first series a selector matches, or -1
// when none does. A selector is a metric name and some of its labels, as
// PromQL writes them: `edgectl_serve_nacks_total{protocol="sotw",type="cluster"}`.
// Histograms give their count.
func (s *server) metric(t testing.TB, selector string) float64 {
	t.Helper()
	name, labels := parseSelector(t, selector)
	mf := s.metrics(t)[name]
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		default:
			return m.GetUntyped().GetValue()
		}
	}
	return -1
}

func parseSelector(t testing.TB, sel string) (string, map[string]string) {
	t.Helper()
	name, rest, _ := strings.Cut(sel, "{")
	labels := map[string]string{}
	rest = strings.TrimSuffix(rest, "}")
	for rest != "" {
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("selector %q: no value for %q", sel, rest)
		}
		v, err := strconv.QuotedPrefix(after)
		if err != nil {
			t.Fatalf("selector %q: %v", sel, err)
		}
		labels[k], _ = strconv.Unquote(v)
		rest = strings.TrimPrefix(after[len(v):], ",")
	}
	return name, labels
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// servedVersion is the version served to a gateway, from /metrics.
func (s *server) servedVersion(t testing.TB, gateway string) string {
	t.Helper()
	for _, m := range s.metrics(t)["edgectl_serve_gateway_version"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		if l["gateway"] == gateway {
			return l["version"]
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
