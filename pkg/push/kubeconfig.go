package push

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	// The kubeconfig auth providers kubectl knows: oidc, and the removed
	// azure and gcp ones, which say to use an exec plugin instead.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// requestTimeout bounds each request to the API server.
const requestTimeout = 30 * time.Second

// pod says where a process running in a pod finds the API server and its
// service account. Kubernetes mounts the account's token and the cluster's
// CA at a fixed path; tests point dir elsewhere.
type pod struct {
	dir    string // holds token and ca.crt
	getenv func(string) string
}

// thisPod is the pod edgectl runs in, if any.
var thisPod = pod{dir: "/var/run/secrets/kubernetes.io/serviceaccount", getenv: os.Getenv}

// restConfig resolves where the API server is and how to authenticate to
// it, as kubectl does: the --kubeconfig file, else the files of $KUBECONFIG
// merged in order, else ~/.kube/config; the context of the target URL, else
// --context, else the current one. Users may authenticate by token, client
// certificate, exec plugin or auth provider. With no kubeconfig at all, a
// process in a pod uses its service account.
func restConfig(rules *clientcmd.ClientConfigLoadingRules, context string, p pod) (*rest.Config, error) {
	merged, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*merged, context, overrides, rules).ClientConfig()
	if clientcmd.IsEmptyConfig(err) && context == "" {
		cfg, err = p.config()
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, ErrNoCluster
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "edgectl"
	cfg.Timeout = requestTimeout
	// A push makes a handful of requests; the API server's own priority
	// and fairness limits them, and client-side throttling would only add
	// waits and log lines.
	cfg.QPS = -1
	return cfg, nil
}

// config is what rest.InClusterConfig builds, read from p.dir. The token
// file is named rather than read, so client-go rereads it as the kubelet
// rotates it.
func (p pod) config() (*rest.Config, error) {
	host, port := p.getenv("KUBERNETES_SERVICE_HOST"), p.getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, rest.ErrNotInCluster
	}
	token := filepath.Join(p.dir, "token")
	ca := filepath.Join(p.dir, "ca.crt")
	for _, f := range []string{token, ca} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("read service account: %w", err)
		}
	}
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(host, port),
		TLSClientConfig: rest.TLSClientConfig{CAFile: ca},
		BearerTokenFile: token,
	}, nil
}

// ErrNoCluster says that no kubeconfig names a cluster and edgectl is not
// running in a pod.
var ErrNoCluster = errors.New("no Kubernetes cluster: no kubeconfig names one (set --kubeconfig or $KUBECONFIG, or write ~/.kube/config), and edgectl is not running in a pod")

// RESTConfig finds a cluster and how to authenticate to it as a push to
// k8s:// does (see restConfig): the kubeconfig file given, else
// $KUBECONFIG's files, else ~/.kube/config, at context (default: the
// current one), else the pod edgectl runs in.
func RESTConfig(kubeconfig, context string) (*rest.Config, error) {
	return restConfig(loadingRules(kubeconfig), context, thisPod)
}

// loadingRules are kubectl's: an explicit file, else $KUBECONFIG merged,
// else ~/.kube/config.
func loadingRules(kubeconfig string) *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	return rules
}
