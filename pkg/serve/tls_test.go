package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/xds"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// testCA is a certificate authority made for one test; its keys live only
// in the test's temporary directory.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// File is the CA certificate in PEM.
	File string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key}
	ca.File = ca.write(name+"-ca.pem", pemBlock("CERTIFICATE", der))
	return ca
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func (ca *testCA) write(name string, data []byte) string {
	ca.t.Helper()
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue signs a certificate with the given serial for 127.0.0.1 and the
// DNS and URI names given, and returns its PEM certificate and key.
func (ca *testCA) issue(serial int64, names ...string) (certPEM, keyPEM []byte) {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("serial %d", serial)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	for _, n := range names {
		if u, err := url.Parse(n); err == nil && u.Scheme != "" {
			tmpl.URIs = append(tmpl.URIs, u)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder)
}

// issueFiles issues a certificate into files named after prefix.
func (ca *testCA) issueFiles(prefix string, serial int64, names ...string) (certFile, keyFile string) {
	ca.t.Helper()
	c, k := ca.issue(serial, names...)
	return ca.write(prefix+".pem", c), ca.write(prefix+"-key.pem", k)
}

// tlsServer serves the mesh gateway of grpcRepo over TLS with the files
// given; the second result is what the TLS reloader logs.
func tlsServer(t *testing.T, files TLSFiles) (*server, *syncBuffer) {
	t.Helper()
	out := t.TempDir() + "/out"
	res := compileFiles(t, grpcRepo(1, 2, "alpha"))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	tlsLog := &syncBuffer{}
	conf, err := TLSConfig(files, slog.New(slog.NewTextHandler(tlsLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{TLS: conf}, Dir{Path: out})
	eventually(t, "the mesh gateway to be served", func() bool { return s.servedVersion(t, "mesh") == res.Bundles[0].Digest })
	return s, tlsLog
}

// askListeners opens an ADS stream with creds, asks for the listeners of
// a node cluster as Envoy, and returns how many came, or the error the
// stream ended with.
func askListeners(t *testing.T, addr, cluster string, creds credentials.TransportCredentials) (int, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return 0, err
	}
	err = stream.Send(&discoveryv3.DiscoveryRequest{
		Node:    &corev3.Node{Id: "tls-test", Cluster: cluster, UserAgentName: "envoy"},
		TypeUrl: resource.ListenerType,
	})
	if err != nil {
		return 0, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return 0, err
	}
	return len(resp.GetResources()), nil
}

func clientTLS(t *testing.T, ca *testCA, certFile, keyFile string) credentials.TransportCredentials {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(c)
}

// TestTLSGRPCClient: grpc-go's own xDS client, with the TLS channel
// credentials of its bootstrap (CA, client certificate and key as files),
// gets its resources from an mTLS server and makes RPCs with them.
func TestTLSGRPCClient(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 10, "xds.test")
	alpha, beta := healthBackend(t, "alpha"), healthBackend(t, "beta")
	out := t.TempDir() + "/out"
	res := compileFiles(t, grpcRepo(alpha, beta, "alpha"))
	if err := bundle.WriteOutput(out, res.Bundles); err != nil {
		t.Fatal(err)
	}
	conf, err := TLSConfig(TLSFiles{Cert: cert, Key: key, ClientCA: ca.File}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{TLS: conf}, Dir{Path: out})
	eventually(t, "version 1", func() bool { return s.servedVersion(t, "mesh") == res.Bundles[0].Digest })

	clientCert, clientKey := ca.issueFiles("client", 20, "greeter.test")
	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "tls", "config": {
			"ca_certificate_file": %q, "certificate_file": %q, "private_key_file": %q}}],
			"server_features": ["xds_v3"]}],
		"node": {"id": "greeter-client-1", "cluster": "mesh", "locality": {"region": "r1"}}
	}`, s.xds, ca.File, clientCert, clientKey)
	rb, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///greeter.test", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(rb))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := healthgrpc.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "alpha"})
	if err != nil {
		t.Fatalf("Check through the routes served over mTLS: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check reached the wrong backend: %v", resp.GetStatus())
	}
	if n := s.metric(t, `edgectl_serve_streams{protocol="sotw"}`); n != 1 {
		t.Errorf("streams = %v, want 1", n)
	}
}

// TestTLSRefusals: who gets resources from a TLS and an mTLS server.
func TestTLSRefusals(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	other := newTestCA(t, "stranger")
	cert, key := ca.issueFiles("server", 10)
	clientCert, clientKey := ca.issueFiles("client", 20)
	strangerCert, strangerKey := other.issueFiles("stranger", 30)

	tlsOnly, _ := tlsServer(t, TLSFiles{Cert: cert, Key: key})
	mtls, _ := tlsServer(t, TLSFiles{Cert: cert, Key: key, ClientCA: ca.File})

	tests := []struct {
		name   string
		server *server
		creds  credentials.TransportCredentials
		ok     bool
	}{
		{"TLS server, TLS client", tlsOnly, clientTLS(t, ca, "", ""), true},
		{"TLS server, plaintext client", tlsOnly, insecure.NewCredentials(), false},
		{"TLS server, client trusting another CA", tlsOnly, clientTLS(t, other, "", ""), false},
		{"mTLS server, client with a certificate", mtls, clientTLS(t, ca, clientCert, clientKey), true},
		{"mTLS server, client without a certificate", mtls, clientTLS(t, ca, "", ""), false},
		{"mTLS server, client certificate from another CA", mtls, clientTLS(t, ca, strangerCert, strangerKey), false},
		{"mTLS server, plaintext client", mtls, insecure.NewCredentials(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := askListeners(t, tt.server.xds, "mesh", tt.creds)
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.ok && n == 0:
				t.Fatal("no listeners")
			case !tt.ok && err == nil:
				t.Fatalf("got %d listeners, want a refusal", n)
			}
		})
	}
	if strings.Contains(tlsOnly.log.String(), "plaintext") {
		t.Error("a TLS server warns that it is plaintext")
	}
}

// TestPlaintextWarning: without TLS, the server says at start that any
// client can ask for any gateway.
func TestPlaintextWarning(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, Dir{Path: t.TempDir()})
	eventually(t, "the warning", func() bool {
		return strings.Contains(s.log.String(), "level=WARN msg=\"the xDS port is plaintext: any client that reaches it can ask for any gateway's configuration\"")
	})
}

// peerSerial makes a TLS connection to addr and returns the serial of the
// certificate the server presents.
func peerSerial(t *testing.T, addr string, ca *testCA) int64 {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSRotation: the certificate files are references. The handshake
// after they are replaced presents the new certificate; a half-replaced
// pair (a certificate without its key) keeps the last good one.
func TestTLSRotation(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 1)
	s, tlsLog := tlsServer(t, TLSFiles{Cert: cert, Key: key})
	if got := peerSerial(t, s.xds, ca); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}

	replace := func(name string, data []byte) {
		t.Helper()
		// Replace the file in one rename, as a secret volume does.
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil {
			t.Fatal(err)
		}
	}
	c2, k2 := ca.issue(2)
	replace(cert, c2)
	if got := peerSerial(t, s.xds, ca); got != 1 {
		t.Fatalf("certificate replaced without its key: serial %d, want the last good 1", got)
	}
	if !strings.Contains(tlsLog.String(), "keeping the last good TLS certificate") {
		t.Errorf("the unusable pair is not logged:\n%s", tlsLog)
	}
	replace(key, k2)
	if got := peerSerial(t, s.xds, ca); got != 2 {
		t.Fatalf("after rotation: serial %d, want 2", got)
	}
	if !strings.Contains(tlsLog.String(), "TLS certificate reloaded") || !strings.Contains(tlsLog.String(), "serial=2") {
		t.Errorf("the rotation is not logged:\n%s", tlsLog)
	}
	c3, k3 := ca.issue(3)
	// Overwritten in place, the key first this time.
	if err := os.WriteFile(key, k3, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, c3, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := peerSerial(t, s.xds, ca); got != 3 {
		t.Fatalf("after the second rotation: serial %d, want 3", got)
	}
	// The server still serves xDS over the new certificate.
	if n, err := askListeners(t, s.xds, "mesh", clientTLS(t, ca, "", "")); err != nil || n == 0 {
		t.Fatalf("after rotation: %d listeners, %v", n, err)
	}
}

// TestTLSConfigErrors: TLS material that cannot be used is an error at
// start, naming the file.
func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "fleet")
	cert, key := ca.issueFiles("server", 1)
	_, otherKey := ca.issueFiles("other", 2)
	garbage := ca.write("garbage.pem", []byte("not PEM\n"))
	tests := []struct {
		name  string
		files TLSFiles
		want  string
	}{
		{"missing key", TLSFiles{Cert: cert, Key: filepath.Join(ca.dir, "nope.pem")}, "nope.pem: no such file"},
		{"missing certificate", TLSFiles{Cert: filepath.Join(ca.dir, "nope.pem"), Key: key}, "nope.pem: no such file"},
		{"key of another certificate", TLSFiles{Cert: cert, Key: otherKey}, "private key does not match public key"},
		{"certificate not PEM", TLSFiles{Cert: garbage, Key: key}, "garbage.pem"},
		{"client CA not PEM", TLSFiles{Cert: cert, Key: key, ClientCA: garbage}, `load client CA "` + garbage + `": no PEM certificate in it`},
		{"missing client CA", TLSFiles{Cert: cert, Key: key, ClientCA: filepath.Join(ca.dir, "nope.pem")}, "nope.pem: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := TLSConfig(tt.files, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := TLSConfig(TLSFiles{Cert: cert, Key: key, ClientCA: ca.File}, nil); err != nil {
		t.Fatal(err)
	}
}
