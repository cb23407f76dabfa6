package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Secret is a string that is never printed: fmt and slog show it redacted.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string                 { return redacted }
func (Secret) GoString() string               { return redacted }
func (Secret) LogValue() slog.Value           { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// DefaultGitUsername goes with a token in HTTP basic auth when neither the
// options nor the URL name a user: GitHub takes it for every kind of token.
const DefaultGitUsername = "x-access-token"

// GitAuth are the credentials of a private remote: a token for an HTTP(S)
// remote, a key and the known host keys for an SSH one. The files are read
// again before each fetch, so rotated tokens and keys are used at once. No
// secret appears in a log line, an error or a metric.
type GitAuth struct {
	// Username goes with the token as HTTP basic auth; empty means the
	// URL's user, or DefaultGitUsername.
	Username string
	// TokenFile holds the token (surrounding white space is ignored).
	TokenFile string
	// Token is the token itself, when it does not come from a file.
	Token Secret
	// SSHKey is a private key file, OpenSSH or PEM.
	SSHKey string
	// SSHKeyPassphrase decrypts SSHKey when it is encrypted.
	SSHKeyPassphrase Secret
	// KnownHosts is the known_hosts file that must hold the SSH remote's
	// host key. A host that is not in it, or presents another key, is
	// refused: there is no way to accept any key.
	KnownHosts string
}

// ErrURLPassword refuses a URL with a password in it.
var ErrURLPassword = errors.New("the git URL holds a password: put the token in a file or an environment variable instead")

// GitRemote says how a URL is fetched: "https", "http", "ssh", "git" or
// "file" (local paths included). A URL with a password in it is refused,
// without repeating the URL: a secret on a command line is seen by every
// user of the host, and a URL ends up in logs.
func GitRemote(url string) (string, error) {
	ep, err := endpoint(url)
	if err != nil {
		return "", err
	}
	return ep.Protocol, nil
}

func endpoint(url string) (*transport.Endpoint, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("not a git URL: %s", strings.ReplaceAll(err.Error(), url, redactURL(url)))
	}
	if ep.Password != "" || strings.Contains(ep.User, ":") {
		return nil, ErrURLPassword
	}
	return ep, nil
}

// redactURL hides the password of a URL's user information, in URLs and
// scp-like addresses alike.
func redactURL(url string) string {
	start := 0
	if i := strings.Index(url, "://"); i >= 0 {
		start = i + 3
	}
	rest := url[start:]
	at := strings.LastIndex(rest[:strings.IndexAny(rest+"/", "/")], "@")
	if at < 0 {
		return url
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return url
	}
	return url[:start] + user + ":xxxxx" + rest[at:]
}

// method reads the credentials for one fetch from ep. It returns the
// secrets it read, so that errors can be scrubbed of them.
func (a GitAuth) method(ep *transport.Endpoint) (transport.AuthMethod, []string, error) {
	switch ep.Protocol {
	case "http", "https":
		token := string(a.Token)
		if a.TokenFile != "" {
			data, err := os.ReadFile(a.TokenFile)
			if err != nil {
				return nil, nil, fmt.Errorf("read token file: %w", err)
			}
			token = strings.TrimSpace(string(data))
			if token == "" {
				return nil, nil, fmt.Errorf("token file %s is empty", a.TokenFile)
			}
		}
		if token == "" {
			return nil, nil, nil
		}
		user := a.Username
		if user == "" {
			user = ep.User
		}
		if user == "" {
			user = DefaultGitUsername
		}
		return &githttp.BasicAuth{Username: user, Password: token}, []string{token}, nil
	case "ssh":
		if a.SSHKey == "" {
			return nil, nil, errors.New("an SSH remote needs a private key")
		}
		if a.KnownHosts == "" {
			return nil, nil, errors.New("an SSH remote needs a known_hosts file")
		}
		signer, err := readSSHKey(a.SSHKey, string(a.SSHKeyPassphrase))
		if err != nil {
			return nil, nil, err
		}
		hosts, err := readKnownHosts(a.KnownHosts)
		if err != nil {
			return nil, nil, err
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		return &sshAuth{user: user, signer: signer, hosts: hosts, algorithms: hosts.algorithms(sshAddress(ep))},
			[]string{string(a.SSHKeyPassphrase)}, nil
	}
	if a.TokenFile != "" || a.Token != "" || a.SSHKey != "" {
		return nil, nil, fmt.Errorf("credentials are for https:// and SSH remotes, not %s", ep.Protocol)
	}
	return nil, nil, nil
}

// Check reads the credentials once, as a fetch from url would: for a
// command to fail at start rather than at each fetch.
func (a GitAuth) Check(url string) error {
	ep, err := endpoint(url)
	if err != nil {
		return err
	}
	_, _, err = a.method(ep)
	return err
}

func readSSHKey(file, passphrase string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read SSH key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing) && passphrase == "":
		return nil, fmt.Errorf("SSH key %s is encrypted and no passphrase was given", file)
	case errors.As(err, &missing):
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(passphrase))
		if err != nil {
			return nil, fmt.Errorf("decrypt SSH key %s: %w", file, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read SSH key %s: %w", file, err)
	}
	return signer, nil
}

// sshAddress is where go-git's SSH transport dials for ep: the host and
// port of the URL, or those ~/.ssh/config gives for its host.
func sshAddress(ep *transport.Endpoint) string {
	host, port := ep.Host, ep.Port
	if cfg := gitssh.DefaultSSHConfig; cfg != nil {
		if h := cfg.Get(ep.Host, "Hostname"); h != "" {
			host = h
			if p, err := strconv.Atoi(cfg.Get(ep.Host, "Port")); err == nil {
				port = p
			}
		}
	}
	if port <= 0 {
		port = gitssh.DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// sshAuth is go-git's SSH auth method with a key and a host key check of
// ours.
type sshAuth struct {
	user       string
	signer     ssh.Signer
	hosts      *knownHosts
	algorithms []string
}

func (a *sshAuth) Name() string { return gitssh.PublicKeysName }

func (a *sshAuth) String() string {
	return fmt.Sprintf("user %s, key %s", a.user, ssh.FingerprintSHA256(a.signer.PublicKey()))
}

func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hosts.check,
		HostKeyAlgorithms: a.algorithms,
		// go-git's SSH dial does not follow the fetch's context.
		Timeout: 30 * time.Second,
	}, nil
}

// knownHosts checks host keys against a known_hosts file.
type knownHosts struct {
	file     string
	callback ssh.HostKeyCallback
}

func readKnownHosts(file string) (*knownHosts, error) {
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, fmt.Errorf("read known hosts: %w", err)
	}
	return &knownHosts{file: file, callback: cb}, nil
}

// check is the host key callback: it explains a refusal with the host and
// the file.
func (k *knownHosts) check(address string, remote net.Addr, key ssh.PublicKey) error {
	err := k.callback(address, remote, key)
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	host := knownhosts.Normalize(address)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return fmt.Errorf("the host key of %s is not in %s: add the host's line to it (ssh-keyscan %s prints it; compare %s with what the host's owner publishes)",
			host, k.file, keyscan(address), ssh.FingerprintSHA256(key))
	case errors.As(err, &keyErr):
		var lines []string
		for _, w := range keyErr.Want {
			lines = append(lines, fmt.Sprintf("%s:%d", w.Filename, w.Line))
		}
		return fmt.Errorf("the host key of %s (%s %s) does not match %s: the host's key changed, or someone is in between; refusing to fetch",
			host, key.Type(), ssh.FingerprintSHA256(key), strings.Join(lines, ", "))
	case errors.As(err, &revoked):
		return fmt.Errorf("the host key of %s is revoked in %s:%d", host, revoked.Revoked.Filename, revoked.Revoked.Line)
	}
	return fmt.Errorf("check the host key of %s against %s: %w", host, k.file, err)
}

func keyscan(address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil || port == "22" {
		return host
	}
	return "-p " + port + " " + host
}

// algorithms are the host key algorithms to ask the host for: those of
// the keys the file has for it. Without them a host with several keys may
// present one the file does not hold, and be refused as if its key had
// changed.
func (k *knownHosts) algorithms(address string) []string {
	// Checking a key nobody has makes the file list the keys it has.
	err := k.callback(address, probeAddr(address), probeKey{})
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil
	}
	var algos []string
	for _, w := range keyErr.Want {
		if t := w.Key.Type(); t == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		} else {
			algos = append(algos, t)
		}
	}
	var out []string
	for _, a := range algos {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

type probeAddr string

func (a probeAddr) Network() string { return "tcp" }
func (a probeAddr) String() string  { return string(a) }

type probeKey struct{}

func (probeKey) Type() string                        { return "edgectl-probe" }
func (probeKey) Marshal() []byte                     { return []byte("edgectl-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("not a key") }

// scrubbed is an error whose message had secrets in it. It does not
// unwrap: the original would show them.
type scrubbed string

func (e scrubbed) Error() string { return string(e) }

// maxErrorLength bounds an error's message: a remote's refusal brings the
// body of its answer, which can be a whole HTML page.
const maxErrorLength = 1000

// scrub removes secrets from an error's message, and puts it on one line.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	if len(msg) > maxErrorLength {
		msg = msg[:maxErrorLength] + " ..."
	}
	if msg == err.Error() {
		return err
	}
	return scrubbed(msg)
}
