package serve

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// TLSFiles names the xDS server's TLS material on disk. The files are
// references: they are read again on every handshake and, when their
// content has changed, the new certificate (or client CA) is used from
// that handshake on, so a rotated certificate needs no restart.
type TLSFiles struct {
	// Cert and Key are the server certificate (PEM, leaf first, then any
	// intermediates) and its private key.
	Cert, Key string
	// ClientCA, when set, is a PEM bundle of the CAs that sign client
	// certificates: every client must present one it signed (mTLS).
	ClientCA string
}

// TLSConfig returns the server TLS configuration for files. The files are
// read and checked now, so a key that cannot be read or does not match its
// certificate is an error at start; later, a change that cannot be used
// (such as a certificate replaced before its key) is logged and the last
// good material stays in use.
func TLSConfig(files TLSFiles, log *slog.Logger) (*tls.Config, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &tlsReloader{files: files, log: log}
	if _, err := r.config(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.config()
		},
	}, nil
}

// tlsReloader keeps the configuration made from the files' last content.
type tlsReloader struct {
	files TLSFiles
	log   *slog.Logger

	mu      sync.Mutex
	read    [3][]byte // cert, key, client CA as last read
	bad     [3][]byte // content last found unusable, logged once
	current *tls.Config
}

// config reads the files and returns the configuration for their content:
// the last one when nothing changed, a new one when something did, and the
// last good one (with the failure logged once) when the new content is
// unusable. With no configuration yet, the failure is returned.
func (r *tlsReloader) config() (*tls.Config, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now, err := r.readFiles()
	if err == nil && r.current != nil && sameContent(now, r.read) {
		return r.current, nil
	}
	var c *tls.Config
	if err == nil {
		c, err = r.build(now)
	}
	if err != nil {
		if r.current == nil {
			return nil, err
		}
		if !sameContent(now, r.bad) {
			r.bad = now
			r.log.Error("keeping the last good TLS certificate", "error", err)
		}
		return r.current, nil
	}
	if r.current != nil {
		r.log.Info("TLS certificate reloaded", "cert", r.files.Cert, "serial", c.Certificates[0].Leaf.SerialNumber.String())
	}
	r.read, r.current, r.bad = now, c, [3][]byte{}
	return c, nil
}

func sameContent(a, b [3][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (r *tlsReloader) readFiles() ([3][]byte, error) {
	var out [3][]byte
	for i, name := range []string{r.files.Cert, r.files.Key, r.files.ClientCA} {
		if name == "" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return out, fmt.Errorf("read TLS file: %w", err)
		}
		out[i] = b
	}
	return out, nil
}

func (r *tlsReloader) build(files [3][]byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(files[0], files[1])
	if err != nil {
		return nil, fmt.Errorf("load server certificate %q with key %q: %w", r.files.Cert, r.files.Key, err)
	}
	// X509KeyPair fills Leaf since Go 1.23; the log line uses it.
	if cert.Leaf == nil {
		return nil, errors.New("load server certificate: no leaf")
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
		Certificates: []tls.Certificate{cert},
	}
	if r.files.ClientCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(files[2]) {
			return nil, fmt.Errorf("load client CA %q: no PEM certificate in it", r.files.ClientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
