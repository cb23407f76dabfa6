package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/push"
	"github.com/edgectl/edgectl/pkg/serve"
)

type serveFlags struct {
	listen   string
	http     string
	bundles  string
	rescan   time.Duration
	git      string
	ref      string
	interval time.Duration
	subdir   string
	cacheDir string
	logLevel string
	tlsCert  string
	tlsKey   string
	clientCA string
	identity []string
	idFile   string

	kubeconfig string
	context    string

	tokenFile     string
	tokenEnv      string
	username      string
	sshKey        string
	passphraseEnv string
	knownHosts    string
	webhookSecret string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve (--bundles DIR | --git URL) [flags]",
		Short: "Serve bundles to Envoy and gRPC clients over ADS (xDS)",
		Long: `Serve is an aggregated xDS server (ADS, state of the world and delta) for a
fleet of Envoys, fed by one of:

  --bundles DIR  the bundles in DIR, followed as DIR changes: a compile
                 output (one subdirectory per gateway), a push target (a
                 bundle's files side by side behind a ..data link swapped in
                 one rename, as a Kubernetes ConfigMap volume), or a
                 directory of push targets. Changes are seen at once through
                 inotify, and DIR is read again every --rescan regardless.
  --git URL      pull-mode GitOps: the remote (https://, ssh:// or
                 user@host:path, git://, file:// or a local path) is fetched
                 every --interval into --cache-dir, and each new commit at
                 --ref is compiled, without a checkout, and served. A fetch
                 brings the tip of --ref alone (depth 1), or everything from a
                 server that cannot fetch shallow. After a failed fetch the
                 next waits twice as long, up to 10 intervals or 5 minutes,
                 until one works.

A bundle or commit is served only once it is read, verified (every file and
resource against its manifest) and validated in the form served. One that is
broken or rejected leaves every gateway on its last good version; the log
and the metrics say why, with the commit. A gateway that disappears from the
source is not withdrawn: its clients keep the version they have.

A private remote over HTTPS takes a token, from --git-token-file FILE (read
again before each fetch, so a rotated token is used without a restart) or
--git-token-env NAME, never from the command line: a URL with a password
in it is refused. It goes as HTTP basic auth with the user --git-username,
default the URL's user or x-access-token (GitHub; GitLab takes oauth2).
Over SSH, --git-ssh-key FILE is the private key (encrypted: its passphrase
in the variable --git-ssh-key-passphrase-env names) and the host's key must
be in --git-known-hosts (default ~/.ssh/known_hosts): a host that is not
there, or presents another key, is refused. No token, key or passphrase
is ever logged or shown in an error or a metric.

With --webhook-secret-file FILE, --http also serves POST /webhook for the
git host to call on each push: a call signed with the secret (GitHub's
X-Hub-Signature-256) or carrying it (GitLab's X-Gitlab-Token) fetches at
once, whatever the backoff; calls during a fetch make one more fetch. A
call without a valid signature gets 401; calls are counted in
edgectl_serve_webhooks_total{result}.

Which gateway a client gets is decided by its node.cluster: the gateway
whose manifest has that node cluster (spec.node.cluster of the Gateway,
default the gateway's name). node.id is free to name each instance. The
version is the bundle digest (for endpoints from Kubernetes, the digest
and a hash of them), so any number of replicas serving the same
bundles agree without talking to each other, and Envoy's /config_dump shows
the digest.

A client whose node.user_agent_name starts with "gRPC" (grpc-go sends
"gRPC Go", grpc-java "gRPC Java") is a proxyless gRPC client and gets the
gateway in the form gRPC reads: for each exact hostname of each virtual host,
an api_listener of that name (dial xds:///HOSTNAME), the route
configurations, and the clusters as EDS clusters with their endpoints.
Clusters with upstream TLS are left out of that form, with a warning.

A Backend that names a Kubernetes Service (spec.kubernetes) is an EDS
cluster: serve follows the Service and its EndpointSlices (client-go
informers, only the Services the served bundles name) and serves their
endpoints as they change, with no new bundle: ready ones HEALTHY,
terminating ones still serving DRAINING, the others UNHEALTHY, one locality
per zone. The cluster is the one --kubeconfig and --context name, else the
files of $KUBECONFIG merged, else ~/.kube/config, else the pod serve runs
in (its service account needs list and watch on services and
discovery.k8s.io endpointslices). /readyz waits for every such Service to
be listed.

Envoy's bootstrap needs node.cluster, a static cluster reaching --listen
over HTTP/2, and dynamic_resources with ads_config (api_type GRPC or
DELTA_GRPC, transport_api_version V3) and lds_config and cds_config set to
{ads: {}}; edgectl bootstrap prints one.

--tls-cert and --tls-key serve xDS over TLS; --client-ca also requires
every client to present a certificate signed by one of its CAs (mTLS). The
files are read again on each new connection, so a rotated certificate is
used without a restart (a certificate replaced before its key keeps the
last good pair, with an error logged). Without TLS the xDS port is
plaintext and any client that reaches it can ask for any gateway's
configuration: the server warns at start.

With mTLS, --identity SAN=CLUSTER[,CLUSTER...] (repeatable) or
--identity-file FILE (one such line per mapping, read at start; lines
starting with # are comments) says
which node clusters a client may ask for, by the DNS or URI names of its
certificate. A stream whose node.cluster its certificate's names do not
allow is ended with PermissionDenied, logged and counted in
edgectl_serve_identity_refused_total{gateway}. Without them, any client
with a certificate from --client-ca may ask for any gateway.

Beside --listen (gRPC), --http serves /healthz (the process is up), /readyz
(200 once every gateway of the source has a version served, 503 with the
reasons before), POST /webhook with --webhook-secret-file, and /metrics (Prometheus text: the version served per
gateway, open streams, responses, NACKs per gateway, how long a version
takes until every stream of its gateway has acknowledged it, source errors
and the time of the last, the commit served and the commit rejected, and
the Go runtime and process figures).

A NACK (a client rejecting a version) is logged and counted, and the version
is not sent to that client again until a new one replaces it. SIGINT or
SIGTERM stops the server gracefully: /readyz fails, every xDS stream is ended
so its client reconnects to another replica, and the server exits.

Logs go to stderr, one line per event.`,
		Example: `  edgectl serve --bundles out
  edgectl serve --bundles /etc/edgectl/bundles --listen :18000 --http :9090
  edgectl serve --git https://github.com/acme/routing --ref main --interval 30s
  edgectl serve --git file:///srv/git/routing.git --subdir edge --cache-dir /var/cache/edgectl
  edgectl serve --git https://github.com/acme/routing.git --git-token-file /etc/edgectl/git-token --webhook-secret-file /etc/edgectl/webhook-secret
  edgectl serve --git git@gitlab.example.com:platform/routing.git --git-ssh-key /etc/edgectl/ssh/id_ed25519 --git-known-hosts /etc/edgectl/ssh/known_hosts
  edgectl serve --bundles out --tls-cert /etc/edgectl/tls.crt --tls-key /etc/edgectl/tls.key --client-ca /etc/edgectl/fleet-ca.crt`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", ":18000", "address of the xDS (gRPC) server")
	fl.StringVar(&f.http, "http", ":9090", "address of /healthz, /readyz, /metrics and /webhook")
	fl.StringVar(&f.bundles, "bundles", "", "serve the bundles in this directory, following its changes")
	fl.DurationVar(&f.rescan, "rescan", 10*time.Second, "with --bundles: read the directory this often even without a change event")
	fl.StringVar(&f.git, "git", "", "serve what this git remote compiles to, following --ref")
	fl.StringVar(&f.ref, "ref", "main", "with --git: the branch or tag to follow")
	fl.DurationVar(&f.interval, "interval", 30*time.Second, "with --git: time between fetches")
	fl.StringVar(&f.subdir, "subdir", "", "with --git: the project directory inside the repository")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "with --git: where the clone is kept (default: the user cache directory, edgectl/serve)")
	fl.StringVar(&f.tokenFile, "git-token-file", "", "with an https:// --git: the file holding the token, read again before each fetch")
	fl.StringVar(&f.tokenEnv, "git-token-env", "", "with an https:// --git: the environment variable holding the token")
	fl.StringVar(&f.username, "git-username", "", "the user the token goes with (default: the URL's user, or "+serve.DefaultGitUsername+"; GitLab: oauth2)")
	fl.StringVar(&f.sshKey, "git-ssh-key", "", "with an SSH --git: the private key file, read again before each fetch")
	fl.StringVar(&f.passphraseEnv, "git-ssh-key-passphrase-env", "", "the environment variable holding the passphrase of an encrypted --git-ssh-key")
	fl.StringVar(&f.knownHosts, "git-known-hosts", "", "with an SSH --git: the known_hosts file that must hold the host's key (default ~/.ssh/known_hosts)")
	fl.StringVar(&f.webhookSecret, "webhook-secret-file", "", "with --git: serve POST /webhook on --http, verified with the secret in this file (GitHub or GitLab)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve xDS over TLS with this certificate (PEM; reloaded when it changes)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.StringVar(&f.clientCA, "client-ca", "", "with --tls-cert: require client certificates signed by these CAs (PEM), mutual TLS")
	fl.StringArrayVar(&f.identity, "identity", nil, "with --client-ca: SAN=CLUSTER[,CLUSTER...]: a client certificate with this DNS or URI name may ask for these node clusters (repeatable)")
	fl.StringVar(&f.idFile, "identity-file", "", "with --client-ca: read --identity lines from this file, one per line")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "the cluster whose EndpointSlices give endpoints to Backends that name a Kubernetes Service (default: the files of $KUBECONFIG merged, then ~/.kube/config, then the pod's service account)")
	fl.StringVar(&f.context, "context", "", "the kubeconfig context of that cluster (default: the current one)")
	fl.StringVar(&f.logLevel, "log-level", "info", "least severe log lines shown: debug, info, warn or error")
	return cmd
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	if err := oneOf(cmd, "log-level"); err != nil {
		return err
	}
	src, hook, err := serveSource(cmd, f)
	if err != nil {
		return err
	}
	switch {
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return usageErrorf("--tls-cert and --tls-key go together")
	case f.clientCA != "" && f.tlsCert == "":
		return usageErrorf("--client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
	case (len(f.identity) > 0 || f.idFile != "") && f.clientCA == "":
		return usageErrorf("--identity and --identity-file need --client-ca: identities are client certificates")
	}
	ids, err := serveIdentities(f.identity, f.idFile)
	if err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(f.logLevel))
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	if g, ok := src.(serve.Git); ok && (g.Auth.TokenFile != "" || g.Auth.Token != "") && strings.HasPrefix(g.URL, "http://") {
		log.Warn("the git token goes over plaintext http://: anyone on the path can read it; use https://", "source", g.String())
	}
	var tlsConf *tls.Config
	if f.tlsCert != "" {
		tlsConf, err = serve.TLSConfig(serve.TLSFiles{Cert: f.tlsCert, Key: f.tlsKey, ClientCA: f.clientCA}, log)
		if err != nil {
			return err
		}
	}

	kube, err := serveKubernetes(f, log)
	if err != nil {
		return err
	}

	grpcL, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen for xDS: %w", err)
	}
	httpL, err := net.Listen("tcp", f.http)
	if err != nil {
		grpcL.Close()
		return fmt.Errorf("listen for HTTP: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	return serve.New(serve.Options{Logger: log, TLS: tlsConf, Identities: ids, Webhook: hook, Kubernetes: kube}).Serve(ctx, grpcL, httpL, src)
}

// serveKubernetes finds the cluster whose Services give endpoints to
// Backends that name one, as kubectl would. With --kubeconfig or
// --context, a cluster that cannot be found or configured stops serve at
// start. Without, finding none is no error: serve runs without Kubernetes
// and /readyz names any gateway that needs it.
func serveKubernetes(f serveFlags, log *slog.Logger) (kubernetes.Interface, error) {
	explicit := f.kubeconfig != "" || f.context != ""
	cfg, err := push.RESTConfig(f.kubeconfig, f.context)
	switch {
	case err == nil:
	case errors.Is(err, push.ErrNoCluster) && !explicit:
		log.Debug("no Kubernetes cluster: Backends that name a Service get no endpoints")
		return nil, nil
	case !explicit:
		log.Warn("no Kubernetes cluster: Backends that name a Service get no endpoints", "error", err)
		return nil, nil
	default:
		return nil, err
	}
	client, err := serve.NewKubernetes(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("endpoints of Kubernetes Services come from the cluster", "server", cfg.Host)
	return client, nil
}

// serveSource checks the source flags: exactly one source, and the flags
// of the other left alone. The git credentials and the webhook secret are
// read once here, so that a missing file stops serve at start.
func serveSource(cmd *cobra.Command, f serveFlags) (serve.Source, serve.Webhook, error) {
	changed := func(names ...string) string {
		for _, n := range names {
			if cmd.Flags().Changed(n) {
				return n
			}
		}
		return ""
	}
	switch {
	case f.bundles == "" && f.git == "":
		return nil, serve.Webhook{}, usageErrorf("missing --bundles DIR or --git URL: what to serve")
	case f.bundles != "" && f.git != "":
		return nil, serve.Webhook{}, usageErrorf("use either --bundles or --git, not both")
	case f.bundles != "":
		if n := changed("ref", "interval", "subdir", "cache-dir", "git-token-file", "git-token-env", "git-username",
			"git-ssh-key", "git-ssh-key-passphrase-env", "git-known-hosts", "webhook-secret-file"); n != "" {
			return nil, serve.Webhook{}, usageErrorf("--%s goes with --git, not --bundles", n)
		}
		if f.rescan <= 0 {
			return nil, serve.Webhook{}, usageErrorf("--rescan must be positive")
		}
		return serve.Dir{Path: f.bundles, Rescan: f.rescan}, serve.Webhook{}, nil
	}
	if n := changed("rescan"); n != "" {
		return nil, serve.Webhook{}, usageErrorf("--%s goes with --bundles, not --git", n)
	}
	if f.interval <= 0 {
		return nil, serve.Webhook{}, usageErrorf("--interval must be positive")
	}
	if f.ref == "" {
		return nil, serve.Webhook{}, usageErrorf("--ref must name a branch or tag")
	}
	auth, err := gitAuth(cmd, f)
	if err != nil {
		return nil, serve.Webhook{}, err
	}
	cacheDir := f.cacheDir
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, serve.Webhook{}, usageErrorf("no user cache directory (%v); set --cache-dir", err)
		}
		cacheDir = filepath.Join(dir, "edgectl", "serve")
	}
	hook := serve.Webhook{Trigger: &serve.Trigger{}}
	if f.webhookSecret != "" {
		data, err := os.ReadFile(f.webhookSecret)
		if err != nil {
			return nil, serve.Webhook{}, fmt.Errorf("read webhook secret: %w", err)
		}
		hook.Secret = serve.Secret(strings.TrimSpace(string(data)))
		if hook.Secret == "" {
			return nil, serve.Webhook{}, usageErrorf("--webhook-secret-file %s is empty", f.webhookSecret)
		}
	}
	return serve.Git{
		URL:      f.git,
		Ref:      f.ref,
		Subdir:   f.subdir,
		Interval: f.interval,
		CacheDir: cacheDir,
		Compile:  compile.Options{Edgectl: buildInfo()},
		Auth:     auth,
		Trigger:  hook.Trigger,
	}, hook, nil
}

// gitAuth checks the credential flags against the kind of remote, reads
// the environment variables they name, and reads the files once.
func gitAuth(cmd *cobra.Command, f serveFlags) (serve.GitAuth, error) {
	var none serve.GitAuth
	protocol, err := serve.GitRemote(f.git)
	if errors.Is(err, serve.ErrURLPassword) {
		return none, usageErrorf("--git: the URL holds a password, which every user of the host can read in its process list: put the token in a file (--git-token-file) or an environment variable (--git-token-env) instead")
	}
	if err != nil {
		return none, usageErrorf("--git: %v", err)
	}
	changed := func(names ...string) string {
		for _, n := range names {
			if cmd.Flags().Changed(n) {
				return n
			}
		}
		return ""
	}
	https := protocol == "https" || protocol == "http"
	switch {
	case f.tokenFile != "" && f.tokenEnv != "":
		return none, usageErrorf("use either --git-token-file or --git-token-env, not both")
	case !https && changed("git-token-file", "git-token-env", "git-username") != "":
		return none, usageErrorf("--%s is for https:// remotes; %s is fetched over %s", changed("git-token-file", "git-token-env", "git-username"), f.git, protocol)
	case f.username != "" && f.tokenFile == "" && f.tokenEnv == "":
		return none, usageErrorf("--git-username goes with --git-token-file or --git-token-env")
	case protocol != "ssh" && changed("git-ssh-key", "git-ssh-key-passphrase-env", "git-known-hosts") != "":
		return none, usageErrorf("--%s is for SSH remotes (ssh://host/path or user@host:path); %s is fetched over %s", changed("git-ssh-key", "git-ssh-key-passphrase-env", "git-known-hosts"), f.git, protocol)
	case protocol == "ssh" && f.sshKey == "":
		return none, usageErrorf("an SSH remote needs --git-ssh-key FILE, its private key")
	case f.passphraseEnv != "" && f.sshKey == "":
		return none, usageErrorf("--git-ssh-key-passphrase-env goes with --git-ssh-key")
	}
	env := func(flag, name string) (serve.Secret, error) {
		if name == "" {
			return "", nil
		}
		v := os.Getenv(name)
		if v == "" {
			return "", usageErrorf("--%s: the environment variable %s is empty or not set", flag, name)
		}
		return serve.Secret(v), nil
	}
	auth := serve.GitAuth{Username: f.username, TokenFile: f.tokenFile, SSHKey: f.sshKey, KnownHosts: f.knownHosts}
	if auth.Token, err = env("git-token-env", f.tokenEnv); err != nil {
		return none, err
	}
	if auth.SSHKeyPassphrase, err = env("git-ssh-key-passphrase-env", f.passphraseEnv); err != nil {
		return none, err
	}
	if protocol == "ssh" && auth.KnownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return none, usageErrorf("no home directory (%v); set --git-known-hosts", err)
		}
		auth.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	if err := auth.Check(f.git); err != nil {
		return none, fmt.Errorf("git credentials: %w", err)
	}
	return auth, nil
}

// serveIdentities reads the --identity mappings and the lines of
// --identity-file; nil when there are none.
func serveIdentities(flags []string, file string) (serve.Identities, error) {
	if len(flags) == 0 && file == "" {
		return nil, nil
	}
	ids := serve.Identities{}
	add := func(where, line string) error {
		san, clusters, ok := cutLast(line, "=")
		san = strings.TrimSpace(san)
		if !ok || san == "" {
			return usageErrorf("%s: %q: want SAN=CLUSTER[,CLUSTER...]", where, line)
		}
		for c := range strings.SplitSeq(clusters, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				return usageErrorf("%s: %q: an empty node cluster", where, line)
			}
			if !slices.Contains(ids[san], c) {
				ids[san] = append(ids[san], c)
			}
		}
		return nil
	}
	for _, fl := range flags {
		if err := add("--identity", fl); err != nil {
			return nil, err
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read identities: %w", err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(fmt.Sprintf("%s:%d", file, i+1), line); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// cutLast cuts s around the last sep: a URI name may hold "=", a node
// cluster does not.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
