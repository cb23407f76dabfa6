package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/edgectl/edgectl/internal/gittest"
	"github.com/edgectl/edgectl/pkg/source"
)

// The remotes here are real: git's own http-backend behind a handler that
// asks for basic auth, and an SSH server that runs git's own upload-pack,
// both on loopback.

// gitExecPath is where the git CLI keeps its programs.
func gitExecPath(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// tokenBox is the token a remote accepts, changed by the test.
type tokenBox struct {
	mu sync.Mutex
	v  string
}

func (b *tokenBox) get() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.v
}

func (b *tokenBox) set(v string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.v = v
}

// httpRemote serves the repository of repo over git's smart HTTP protocol
// with git http-backend run as a CGI program, to requests with HTTP basic
// auth of user and the token the box holds at the time. It returns the
// repository's URL.
func httpRemote(t *testing.T, repo *gittest.Repo, user string, token *tokenBox) string {
	t.Helper()
	root := filepath.Dir(repo.Dir)
	backend := &cgi.Handler{
		Path: filepath.Join(gitExecPath(t), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + root},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != token.get() {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(repo.Dir) + "/.git"
}

// fetchCommit fetches g's ref into a fresh clone under g.CacheDir (or the
// one there) and returns the commit it is at.
func fetchCommit(t testing.TB, g Git) (string, error) {
	t.Helper()
	dir := filepath.Join(g.CacheDir, cacheName(g.URL))
	if _, err := g.fetch(context.Background(), dir, true); err != nil {
		return "", err
	}
	repo, err := source.OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	return resolveRef(repo, g.ref())
}

func writeFile(t testing.TB, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGitToken fetches a private repository over HTTP with the real git
// http-backend: the token goes as basic auth, the token file is read again
// at each fetch, and a missing or refused token is an error that says so
// and never shows the token.
func TestGitToken(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	c1 := commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
	const token1, token2 = "ghs_first0token0value", "ghs_second0token0value"
	accepted := &tokenBox{v: token1}
	url := httpRemote(t, repo, DefaultGitUsername, accepted)
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), token1+"\n")
	g := Git{URL: url, Ref: "main", CacheDir: t.TempDir(), Auth: GitAuth{TokenFile: tokenFile}}

	if got, err := fetchCommit(t, g); err != nil || got != c1 {
		t.Fatalf("with the token: %s, %v; want %s", got, err, c1)
	}

	// The remote rotates its token: the old one is refused, and the new
	// one works as soon as the file holds it, with no restart.
	accepted.set(token2)
	c2 := commitFiles(repo, "", edgeRepo(map[string]string{"a": "2s"}))
	_, err := fetchCommit(t, g)
	if err == nil || !strings.Contains(err.Error(), "the remote refused the credentials") || !strings.Contains(err.Error(), DefaultGitUsername) {
		t.Errorf("with a token the remote no longer takes: %v; want it refused, with the user", err)
	}
	writeFile(t, tokenFile, token2)
	if got, err := fetchCommit(t, g); err != nil || got != c2 {
		t.Fatalf("after the token file changed: %s, %v; want %s", got, err, c2)
	}

	// A token from the environment, and a user of one's own.
	userURL := httpRemote(t, repo, "oauth2", accepted)
	g2 := Git{URL: userURL, Ref: "main", CacheDir: t.TempDir(), Auth: GitAuth{Token: token2, Username: "oauth2"}}
	if got, err := fetchCommit(t, g2); err != nil || got != c2 {
		t.Errorf("with --git-username: %s, %v; want %s", got, err, c2)
	}

	for _, tt := range []struct {
		name string
		auth GitAuth
		want string
	}{
		{"no token", GitAuth{}, "the remote asks for credentials and none were given"},
		{"a wrong token", GitAuth{Token: "ghs_wrong0token0value"}, "the remote refused the credentials"},
		{"a wrong user", GitAuth{Token: token2, Username: "someone"}, "the remote refused the credentials (http-basic-auth - someone:"},
		{"an empty token file", GitAuth{TokenFile: writeFile(t, filepath.Join(t.TempDir(), "empty"), "\n")}, "is empty"},
		{"a missing token file", GitAuth{TokenFile: filepath.Join(t.TempDir(), "missing")}, "read token file: open "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetchCommit(t, Git{URL: url, Ref: "main", CacheDir: t.TempDir(), Auth: tt.auth})
			t.Logf("the error: %v", err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one that says %q", err, tt.want)
			}
			for _, tok := range []string{token1, token2, "ghs_wrong0token0value"} {
				if strings.Contains(err.Error(), tok) {
					t.Errorf("the error shows a token: %v", err)
				}
			}
		})
	}
}

// TestGitTokenNotShown serves a private repository whose token is first
// wrong, then fixed in its file: the server recovers by itself, and
// neither its log nor its metrics ever hold the token.
func TestGitTokenNotShown(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	files := edgeRepo(map[string]string{"a": "1s"})
	commitFiles(repo, "", files)
	const token = "glpat-secret0token0value"
	url := httpRemote(t, repo, "oauth2", &tokenBox{v: token})
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), "glpat-stale0token0value")
	trigger := &Trigger{}
	src := Git{URL: url, Ref: "main", Interval: time.Hour, CacheDir: t.TempDir(), Trigger: trigger,
		Auth: GitAuth{TokenFile: tokenFile, Username: "oauth2"}}
	s := startServer(t, Options{}, src)
	errs := `edgectl_serve_source_errors_total{source="` + src.String() + `"}`
	eventually(t, "the refused fetch", func() bool { return s.metric(t, errs) >= 1 })
	if !containsLine(s.log.String(), "keeping the last good version", "the remote refused the credentials", "oauth2") {
		t.Errorf("the log does not say the token was refused")
	}

	writeFile(t, tokenFile, token)
	trigger.Fire()
	want := digest(compileFiles(t, files), "edge")
	eventually(t, "the repository served", func() bool { return s.servedVersion(t, "edge") == want })
	_, metrics := s.get(t, "/metrics")
	for _, tok := range []string{token, "glpat-stale0token0value"} {
		if strings.Contains(s.log.String(), tok) || strings.Contains(metrics, tok) {
			t.Errorf("the token %q is in the log or the metrics", tok)
		}
	}
}

// sshRemote is an SSH server on loopback that lets one key in and runs
// git upload-pack on the repository an exec request names, under root.
type sshRemote struct {
	addr    string
	hostKey ssh.PublicKey
}

func startSSHRemote(t *testing.T, root string, client ssh.PublicKey) *sshRemote {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if !bytes.Equal(key.Marshal(), client.Marshal()) {
				return nil, errors.New("unknown key")
			}
			return nil, nil
		},
	}
	conf.AddHostKey(hostKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveSSH(t, conn, conf, root) })
		}
	})
	return &sshRemote{addr: l.Addr().String(), hostKey: hostKey.PublicKey()}
}

func serveSSH(t *testing.T, conn net.Conn, conf *ssh.ServerConfig, root string) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, conf)
	if err != nil {
		return // a refused key or host key: the client says why
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range chReqs {
				if req.Type != "exec" {
					req.Reply(false, nil)
					continue
				}
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					req.Reply(false, nil)
					return
				}
				req.Reply(true, nil)
				status := runUploadPack(t, ch, root, p.Command)
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				return
			}
		}()
	}
}

// runUploadPack runs `git-upload-pack 'PATH'`, as an SSH client asks for
// it, on PATH under root.
func runUploadPack(t *testing.T, ch ssh.Channel, root, command string) uint32 {
	quoted, ok := strings.CutPrefix(command, "git-upload-pack ")
	path, ok2 := strings.CutPrefix(quoted, "'")
	path, ok3 := strings.CutSuffix(path, "'")
	if !ok || !ok2 || !ok3 || strings.ContainsAny(path, "'") || strings.Contains(path, "..") {
		fmt.Fprintf(ch.Stderr(), "refused: %q\n", command)
		return 128
	}
	cmd := exec.Command("git", "upload-pack", filepath.Join(root, filepath.FromSlash(path)))
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Error(err)
		return 128
	}
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return 128
	}
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return uint32(ee.ExitCode())
		}
		return 128
	}
	return 0
}

// sshKey makes a key pair and writes the private key, encrypted with
// passphrase when one is given.
func sshKey(t *testing.T, passphrase string) (ssh.PublicKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sshPub, writeFile(t, filepath.Join(t.TempDir(), "id_ed25519"), string(pem.EncodeToMemory(block)))
}

// TestGitSSH fetches over a real SSH transport: a key the server knows,
// a host key checked against known_hosts, and the real git upload-pack.
// An unknown or changed host key, a key the server does not know and a
// key that cannot be decrypted are errors that say which.
func TestGitSSH(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	commit := commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
	clientKey, keyFile := sshKey(t, "")
	encKey, encKeyFile := sshKey(t, "open sesame")
	root := filepath.Dir(repo.Dir)
	remote := startSSHRemote(t, root, clientKey)
	remoteEnc := startSSHRemote(t, root, encKey)
	_, otherKeyFile := sshKey(t, "")
	otherHost, _ := sshKey(t, "")

	dir := t.TempDir()
	knownHosts := func(name string, lines ...string) string {
		return writeFile(t, filepath.Join(dir, name), strings.Join(lines, "\n")+"\n")
	}
	hostLine := func(r *sshRemote, key ssh.PublicKey) string {
		return knownhosts.Line([]string{knownhosts.Normalize(r.addr)}, key)
	}
	good := knownHosts("known_hosts",
		knownhosts.Line([]string{"git.example.com"}, otherHost),
		hostLine(remote, remote.hostKey), hostLine(remoteEnc, remoteEnc.hostKey))
	unknown := knownHosts("known_hosts_unknown", knownhosts.Line([]string{"git.example.com"}, otherHost))
	changed := knownHosts("known_hosts_changed", knownhosts.Line([]string{"git.example.com"}, otherHost), hostLine(remote, otherHost))
	url := func(r *sshRemote) string { return "ssh://git@" + r.addr + "/" + filepath.Base(repo.Dir) }

	tests := []struct {
		name   string
		remote *sshRemote
		auth   GitAuth
		want   string // an error; empty: the commit is fetched
	}{
		{"a known key and host", remote, GitAuth{SSHKey: keyFile, KnownHosts: good}, ""},
		{"an encrypted key", remoteEnc, GitAuth{SSHKey: encKeyFile, SSHKeyPassphrase: "open sesame", KnownHosts: good}, ""},
		{"an unknown host", remote, GitAuth{SSHKey: keyFile, KnownHosts: unknown},
			fmt.Sprintf("the host key of %s is not in %s", knownhosts.Normalize(remote.addr), unknown)},
		{"a changed host key", remote, GitAuth{SSHKey: keyFile, KnownHosts: changed},
			fmt.Sprintf("the host key of %s (ssh-ed25519 %s) does not match %s:2", knownhosts.Normalize(remote.addr), ssh.FingerprintSHA256(remote.hostKey), changed)},
		{"a key the server does not know", remote, GitAuth{SSHKey: otherKeyFile, KnownHosts: good}, "unable to authenticate"},
		{"no passphrase", remoteEnc, GitAuth{SSHKey: encKeyFile, KnownHosts: good}, "is encrypted and no passphrase was given"},
		{"a wrong passphrase", remoteEnc, GitAuth{SSHKey: encKeyFile, SSHKeyPassphrase: "open barley", KnownHosts: good}, "decrypt SSH key"},
		{"no known_hosts file", remote, GitAuth{SSHKey: keyFile, KnownHosts: filepath.Join(dir, "missing")}, "read known hosts: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fetchCommit(t, Git{URL: url(tt.remote), Ref: "main", CacheDir: t.TempDir(), Auth: tt.auth})
			switch {
			case tt.want == "" && (err != nil || got != commit):
				t.Fatalf("fetched %s, %v; want %s", got, err, commit)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v; want one that says %q", err, tt.want)
			}
			if err != nil {
				t.Logf("the error: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "sesame") {
				t.Errorf("the error shows the passphrase: %v", err)
			}
		})
	}
}

// TestGitURLs: how each kind of URL is fetched, and that a password in a
// URL is refused without being repeated, and hidden wherever the URL is
// shown.
func TestGitURLs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url, protocol, address string
	}{
		{"https://github.com/acme/routing.git", "https", ""},
		{"https://x-access-token@github.com/acme/routing.git", "https", ""},
		{"http://127.0.0.1:8080/routing.git", "http", ""},
		{"ssh://git@github.com/acme/routing.git", "ssh", "github.com:22"},
		{"ssh://git@git.example.com:2222/acme/routing.git", "ssh", "git.example.com:2222"},
		{"git@github.com:acme/routing.git", "ssh", "github.com:22"},
		{"git://git.example.com/routing.git", "git", ""},
		{"file:///srv/git/routing.git", "file", ""},
		{"/srv/git/routing.git", "file", ""},
	} {
		ep, err := endpoint(tt.url)
		if err != nil || ep.Protocol != tt.protocol {
			t.Errorf("%s: %v, %v; want %s", tt.url, ep, err, tt.protocol)
			continue
		}
		if tt.address != "" {
			if got := sshAddress(ep); got != tt.address {
				t.Errorf("%s: dials %s, want %s", tt.url, got, tt.address)
			}
		}
		if got := redactURL(tt.url); got != tt.url {
			t.Errorf("redactURL(%s) = %s; nothing to hide", tt.url, got)
		}
	}
	for _, tt := range []struct{ url, shown string }{
		{"https://me:ghp_secret0value@github.com/acme/routing.git", "https://me:xxxxx@github.com/acme/routing.git"},
		{"ssh://git:hunter2secret@git.example.com/routing.git", "ssh://git:xxxxx@git.example.com/routing.git"},
		{"git:hunter2secret@git.example.com:routing.git", "git:xxxxx@git.example.com:routing.git"},
	} {
		_, err := GitRemote(tt.url)
		if err == nil || !strings.Contains(err.Error(), "holds a password") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v; want it refused, without the password", tt.shown, err)
		}
		if got := redactURL(tt.url); got != tt.shown {
			t.Errorf("redactURL: %s, want %s", got, tt.shown)
		}
		if s := (Git{URL: tt.url}).String(); strings.Contains(s, "secret") {
			t.Errorf("the source's name shows the password: %s", s)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", GitAuth{Token: "tok0secret"}, GitAuth{Token: "tok0secret"}, GitAuth{Token: "tok0secret"}); strings.Contains(s, "tok0secret") {
		t.Errorf("a printed GitAuth shows the token: %s", s)
	}
}
