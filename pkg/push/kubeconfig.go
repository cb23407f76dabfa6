package push

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// kubeconfig is the part of a kubeconfig file edgectl reads.
type kubeconfig struct {
	Clusters []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server        string `yaml:"server"`
			CA            string `yaml:"certificate-authority"`
			CAData        string `yaml:"certificate-authority-data"`
			Insecure      bool   `yaml:"insecure-skip-tls-verify"`
			TLSServerName string `yaml:"tls-server-name"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			Token          string `yaml:"token"`
			TokenFile      string `yaml:"tokenFile"`
			ClientCert     string `yaml:"client-certificate"`
			ClientCertData string `yaml:"client-certificate-data"`
			ClientKey      string `yaml:"client-key"`
			ClientKeyData  string `yaml:"client-key-data"`
			Exec           any    `yaml:"exec"`
			AuthProvider   any    `yaml:"auth-provider"`
		} `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster   string `yaml:"cluster"`
			User      string `yaml:"user"`
			Namespace string `yaml:"namespace"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	CurrentContext string `yaml:"current-context"`
}

// kubeconfigPath finds the kubeconfig the way kubectl does: the flag, else
// the first existing file of $KUBECONFIG, else ~/.kube/config.
func kubeconfigPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("none of the files in $KUBECONFIG exists")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("no kubeconfig: set --kubeconfig or $KUBECONFIG")
	}
	return filepath.Join(home, ".kube", "config"), nil
}

// apiClient is what a context of a kubeconfig gives: where the API server
// is, and an HTTP client that authenticates to it.
type apiClient struct {
	server string
	http   *http.Client
}

func loadKubeconfig(path, context string) (*apiClient, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("parse kubeconfig %s: %w", path, err)
	}
	if context == "" {
		context = kc.CurrentContext
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	for _, c := range kc.Contexts {
		if c.Name != context {
			continue
		}
		tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
		var server string
		found := false
		for _, cl := range kc.Clusters {
			if cl.Name != c.Context.Cluster {
				continue
			}
			found = true
			server = strings.TrimSuffix(cl.Cluster.Server, "/")
			tlsConf.InsecureSkipVerify = cl.Cluster.Insecure
			tlsConf.ServerName = cl.Cluster.TLSServerName
			ca, err := material(cl.Cluster.CAData, rel(cl.Cluster.CA))
			if err != nil {
				return nil, fmt.Errorf("kubeconfig cluster %s: certificate authority: %w", cl.Name, err)
			}
			if ca != nil {
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(ca) {
					return nil, fmt.Errorf("kubeconfig cluster %s: no certificate in its certificate authority", cl.Name)
				}
				tlsConf.RootCAs = pool
			}
		}
		if !found {
			return nil, fmt.Errorf("kubeconfig context %s names cluster %q, which is not in %s", context, c.Context.Cluster, path)
		}
		var token string
		for _, u := range kc.Users {
			if u.Name != c.Context.User {
				continue
			}
			if u.User.Exec != nil || u.User.AuthProvider != nil {
				return nil, fmt.Errorf("kubeconfig user %s authenticates with a plugin, which edgectl does not run; use a token or a client certificate (for example a service account)", u.Name)
			}
			token = u.User.Token
			if u.User.TokenFile != "" {
				b, err := os.ReadFile(rel(u.User.TokenFile))
				if err != nil {
					return nil, fmt.Errorf("kubeconfig user %s: %w", u.Name, err)
				}
				token = strings.TrimSpace(string(b))
			}
			cert, err := material(u.User.ClientCertData, rel(u.User.ClientCert))
			if err != nil {
				return nil, fmt.Errorf("kubeconfig user %s: client certificate: %w", u.Name, err)
			}
			key, err := material(u.User.ClientKeyData, rel(u.User.ClientKey))
			if err != nil {
				return nil, fmt.Errorf("kubeconfig user %s: client key: %w", u.Name, err)
			}
			if cert != nil && key != nil {
				pair, err := tls.X509KeyPair(cert, key)
				if err != nil {
					return nil, fmt.Errorf("kubeconfig user %s: %w", u.Name, err)
				}
				tlsConf.Certificates = []tls.Certificate{pair}
			}
		}
		transport := &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true, Proxy: http.ProxyFromEnvironment}
		var rt http.RoundTripper = transport
		if token != "" {
			rt = bearer{token: token, next: transport}
		}
		return &apiClient{server: server, http: &http.Client{Transport: rt, Timeout: 30 * time.Second}}, nil
	}
	if context == "" {
		return nil, fmt.Errorf("kubeconfig %s has no current context; name one with --context", path)
	}
	return nil, fmt.Errorf("kubeconfig %s has no context %q", path, context)
}

// material reads inline base64 data, or else a file.
func material(data, file string) ([]byte, error) {
	if data != "" {
		return base64.StdEncoding.DecodeString(data)
	}
	if file != "" {
		return os.ReadFile(file)
	}
	return nil, nil
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
