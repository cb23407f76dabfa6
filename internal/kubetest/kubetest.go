// Package kubetest runs a real kube-apiserver backed by etcd on loopback for
// tests, so the Kubernetes push path is exercised against the same
// validation, admission, server-side apply and RBAC code as a production
// cluster.
//
// The binaries come from hack/kube/assets.sh, which builds them once per
// machine into a cache directory. Without them, Start skips the test, or
// fails it when CI or EDGECTL_REQUIRE_KUBE is set.
package kubetest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// KubeVersion is the Kubernetes version hack/kube/assets.sh builds; it names
// the cache subdirectory.
const KubeVersion = "v1.37.1"

const (
	readyTimeout = 60 * time.Second
	pollInterval = 50 * time.Millisecond
	stopGrace    = 5 * time.Second
	// Attempts to start the cluster when a picked port was taken by someone
	// else between picking it and the server binding it.
	startAttempts = 3
)

// Cluster is a running etcd + kube-apiserver pair, stopped when the test that
// started it ends.
type Cluster struct {
	// URL is the apiserver's base URL, https://127.0.0.1:PORT.
	URL string
	// CAPEM is the PEM certificate of the CA that signed the serving cert.
	CAPEM []byte
	// AdminToken authenticates as user admin in group system:masters.
	AdminToken string
	// NobodyToken authenticates as user nobody, who has no RBAC grants.
	NobodyToken string
}

// AssetsDir returns the directory expected to hold the etcd and kube-apiserver
// binaries: $EDGECTL_KUBE_ASSETS, else the cache directory that
// hack/kube/assets.sh fills.
func AssetsDir() string {
	if dir := os.Getenv("EDGECTL_KUBE_ASSETS"); dir != "" {
		return dir
	}
	base := os.Getenv("EDGECTL_KUBE_CACHE")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache", "edgectl", "kube")
	}
	return filepath.Join(base, KubeVersion)
}

// Start starts etcd and kube-apiserver on free loopback ports, waits until
// the apiserver is ready and registers their shutdown with t.Cleanup.
func Start(t testing.TB) *Cluster {
	t.Helper()
	dir := AssetsDir()
	etcdBin := filepath.Join(dir, "etcd")
	apiBin := filepath.Join(dir, "kube-apiserver")
	for _, bin := range []string{etcdBin, apiBin} {
		if err := checkExecutable(bin); err != nil {
			msg := fmt.Sprintf("kubetest: %v; run hack/kube/assets.sh to build etcd and kube-apiserver (or set EDGECTL_KUBE_ASSETS)", err)
			if os.Getenv("CI") != "" || os.Getenv("EDGECTL_REQUIRE_KUBE") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}

	// t.TempDir registers its removal before the process cleanups below, so
	// it runs after them: the processes are gone before their dirs are.
	tmp := t.TempDir()
	c, err := writePKI(tmp)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}

	began := time.Now()
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		runDir := filepath.Join(tmp, "run"+strconv.Itoa(attempt))
		err := c.launch(t, tmp, runDir, etcdBin, apiBin)
		if err == nil {
			t.Logf("kubetest: kube-apiserver ready at %s in %v", c.URL, time.Since(began).Round(time.Millisecond))
			return c
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("kubetest: attempt %d: %v; retrying with other ports", attempt, err)
	}
	t.Fatalf("kubetest: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port already in use")

// launch starts etcd and kube-apiserver with fresh ports and data under
// runDir, and waits for /readyz. On error, both processes are stopped.
func (c *Cluster) launch(t testing.TB, pkiDir, runDir, etcdBin, apiBin string) error {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("create run dir: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[2])

	etcd, err := startProcess(t, runDir, "etcd", etcdBin,
		"--name=default",
		"--data-dir="+filepath.Join(runDir, "etcd-data"),
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=default="+etcdPeer,
		// Test data is thrown away: skip fsync, which dominates on slow disks.
		"--unsafe-no-fsync",
	)
	if err != nil {
		return err
	}
	pki := func(name string) string { return filepath.Join(pkiDir, name) }
	api, err := startProcess(t, runDir, "kube-apiserver", apiBin,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--etcd-servers="+etcdClient,
		"--tls-cert-file="+pki("apiserver.crt"),
		"--tls-private-key-file="+pki("apiserver.key"),
		"--client-ca-file="+pki("ca.crt"),
		"--token-auth-file="+pki("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki("sa.pub"),
		"--service-account-signing-key-file="+pki("sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		// The default reconciler refuses a loopback advertise address and the
		// server exits; nothing here needs the kubernetes Endpoints.
		"--endpoint-reconciler-type=none",
	)
	if err != nil {
		etcd.stop()
		return err
	}

	if err := c.waitReady(etcd, api); err != nil {
		api.stop()
		etcd.stop()
		if etcd.logContains("address already in use") || api.logContains("address already in use") {
			err = fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return fmt.Errorf("%w\n%s\n%s", err, etcd.tail(), api.tail())
	}

	// Dump both logs if the test fails later on; registered after the
	// processes' cleanups, so it runs before they are stopped.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kubetest: %s", etcd.tail())
			t.Logf("kubetest: %s", api.tail())
		}
	})
	return nil
}

// waitReady polls /readyz every pollInterval until it answers 200, a process
// exits or readyTimeout passes.
func (c *Cluster) waitReady(procs ...*process) error {
	client := c.Client(c.AdminToken)
	client.Timeout = 2 * time.Second
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	last := "no answer yet"
	for {
		resp, err := client.Get(c.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		for _, p := range procs {
			select {
			case <-p.done:
				return fmt.Errorf("wait for readyz: %s exited early: %v", p.name, p.waitErr)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for readyz: not ready after %v: %s", readyTimeout, last)
		}
		time.Sleep(pollInterval)
	}
}

// Kubeconfig writes a kubeconfig for this cluster that authenticates with
// token, with a single context named "test", and returns its path.
func (c *Cluster) Kubeconfig(t testing.TB, token string) string {
	t.Helper()
	return c.KubeconfigUser(t, map[string]any{"token": token})
}

// KubeconfigUser writes a kubeconfig for this cluster whose user is user
// (the fields of a kubeconfig user: token, exec, ...), with a single
// context named "test", and returns its path.
func (c *Cluster) KubeconfigUser(t testing.TB, user map[string]any) string {
	t.Helper()
	// JSON is YAML: the user goes in as a flow mapping.
	u, err := json.Marshal(user)
	if err != nil {
		t.Fatalf("kubetest: encode kubeconfig user: %v", err)
	}
	// YAML accepts Go-quoted ASCII strings as double-quoted scalars.
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: test
  user: %s
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
`, strconv.Quote(c.URL), base64.StdEncoding.EncodeToString(c.CAPEM), u)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("kubetest: write kubeconfig: %v", err)
	}
	return path
}

// Client returns an HTTP client that trusts the cluster's CA and sends token
// as a bearer token (none if token is empty).
func (c *Cluster) Client(token string) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport: bearer{token: token, next: tr},
		Timeout:   30 * time.Second,
	}
}

type bearer struct {
	token string
	next  *http.Transport
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if b.token != "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (b bearer) CloseIdleConnections() { b.next.CloseIdleConnections() }

// Namespace creates a fresh, uniquely named namespace as admin and returns
// its name. Namespaces are not deleted: without kube-controller-manager a
// deleted namespace stays Terminating, and the cluster dies with the test.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := "test-" + randomHex(t, 6)
	body, err := json.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]string{"edgectl.dev/test": "true"},
		},
	})
	if err != nil {
		t.Fatalf("kubetest: encode namespace: %v", err)
	}
	client := c.Client(c.AdminToken)
	defer client.CloseIdleConnections()
	resp, err := client.Post(c.URL+"/api/v1/namespaces", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("kubetest: create namespace %s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("kubetest: create namespace %s: %s: %s", name, resp.Status, msg)
	}
	return name
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("kubetest: read random: %v", err)
	}
	return hex.EncodeToString(b)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("find %s: %w", filepath.Base(path), err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("find %s: %s is not executable", filepath.Base(path), path)
	}
	return nil
}

// freePorts asks the kernel for n distinct free loopback ports. The listeners
// are held until all are picked so the ports differ; another process may
// still take one before the servers bind it, which launch detects and Start
// retries.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a started child whose output goes to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	once    sync.Once
}

func startProcess(t testing.TB, dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	setPdeathsig(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p, nil
}

// stop sends SIGTERM, then SIGKILL after stopGrace, and waits for the exit.
// It is safe to call more than once.
func (p *process) stop() {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// tail returns the last lines of the process's log, for failure messages.
func (p *process) tail() string {
	const maxLines = 40
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("%s log: %v", p.name, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return fmt.Sprintf("last lines of %s (%s):\n%s", p.name, p.logPath, strings.Join(lines, "\n"))
}

func (p *process) logContains(s string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(data, []byte(s))
}

// childEnv is the test's environment without ETCD_* variables, which etcd
// reads as flags and which could point it at another cluster or data dir.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return env
}

// writePKI writes a CA, an apiserver serving cert, a service-account key pair
// and a static token file into dir, and returns a Cluster with CAPEM and the
// tokens filled in.
func writePKI(dir string) (*Cluster, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "edgectl-kubetest-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create ca cert: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse ca cert: %w", err)
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate apiserver key: %w", err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// 10.0.0.1 is the kubernetes service IP in --service-cluster-ip-range.
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames: []string{
			"localhost",
			"kubernetes",
			"kubernetes.default",
			"kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local",
		},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create apiserver cert: %w", err)
	}
	srvKeyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return nil, fmt.Errorf("encode apiserver key: %w", err)
	}

	// kube-apiserver signs and verifies service-account tokens with this pair.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate service-account key: %w", err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode service-account public key: %w", err)
	}

	var tok [2]string
	for i := range tok {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate token: %w", err)
		}
		tok[i] = hex.EncodeToString(b)
	}
	c := &Cluster{
		CAPEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		AdminToken:  tok[0],
		NobodyToken: tok[1],
	}
	// Static token file format: token,user,uid,"group1,group2".
	tokens := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n%s,nobody,nobody\n", c.AdminToken, c.NobodyToken)

	files := []struct {
		name string
		data []byte
	}{
		{"ca.crt", c.CAPEM},
		{"apiserver.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER})},
		{"apiserver.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: srvKeyDER})},
		{"sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)})},
		{"sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER})},
		{"tokens.csv", []byte(tokens)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return c, nil
}
