package push

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/edgectl/edgectl/internal/kubetest"
	"github.com/edgectl/edgectl/pkg/bundle"
)

// execTokenEnv makes the test binary an exec credential plugin: it prints
// an ExecCredential with the variable's value as bearer token, or fails
// when the value is "fail".
const execTokenEnv = "EDGECTL_TEST_EXEC_TOKEN"

func TestMain(m *testing.M) {
	if tok, ok := os.LookupEnv(execTokenEnv); ok {
		os.Exit(execPlugin(tok))
	}
	os.Exit(m.Run())
}

func execPlugin(token string) int {
	// client-go says which version it wants; a plugin answers in it.
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("KUBERNETES_EXEC_INFO")), &info); err != nil || info.APIVersion == "" {
		fmt.Fprintln(os.Stderr, "exec plugin: no KUBERNETES_EXEC_INFO")
		return 1
	}
	if token == "fail" {
		fmt.Fprintln(os.Stderr, "exec plugin: no credentials for you")
		return 1
	}
	out, _ := json.Marshal(map[string]any{
		"apiVersion": info.APIVersion,
		"kind":       "ExecCredential",
		"status":     map[string]any{"token": token},
	})
	os.Stdout.Write(out)
	return 0
}

// execUser is a kubeconfig user whose credentials come from this test
// binary run as an exec plugin.
func execUser(t *testing.T, token string) map[string]any {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"exec": map[string]any{
		"apiVersion":      "client.authentication.k8s.io/v1",
		"command":         self,
		"env":             []any{map[string]any{"name": execTokenEnv, "value": token}},
		"interactiveMode": "Never",
	}}
}

// testKubeAuth checks the ways edgectl authenticates besides a token in a
// kubeconfig, against the real API server: an exec plugin (as EKS, GKE and
// AKS use), a pod's service account, and kubeconfig files merged as
// $KUBECONFIG merges them.
func testKubeAuth(t *testing.T, c *kubetest.Cluster, b *bundle.Bundle) {
	ctx := context.Background()
	pushWith := func(t *testing.T, rules *clientcmd.ClientConfigLoadingRules, context string, p pod) error {
		t.Helper()
		cfg, err := restConfig(rules, context, p)
		if err != nil {
			return err
		}
		k, err := newKube(cfg, Target{Scheme: "k8s", Namespace: c.Namespace(t), Name: "envoy-config"})
		if err != nil {
			return err
		}
		if _, err := k.Push(ctx, b, Options{}, false); err != nil {
			return err
		}
		cur, err := k.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur == nil || cur.Digest != b.Digest {
			t.Fatalf("after a push, the target holds %v", cur)
		}
		return nil
	}
	kubeconfigs := func(paths ...string) *clientcmd.ClientConfigLoadingRules {
		return &clientcmd.ClientConfigLoadingRules{Precedence: paths}
	}
	noPod := pod{dir: t.TempDir(), getenv: func(string) string { return "" }}
	none := filepath.Join(t.TempDir(), "absent")

	t.Run("exec plugin", func(t *testing.T) {
		if err := pushWith(t, loadingRules(c.KubeconfigUser(t, execUser(t, c.AdminToken))), "", noPod); err != nil {
			t.Fatalf("push as the plugin's admin token: %v", err)
		}
		err := pushWith(t, loadingRules(c.KubeconfigUser(t, execUser(t, c.NobodyToken))), "", noPod)
		if err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("push as the plugin's nobody token: %v", err)
		}
		err = pushWith(t, loadingRules(c.KubeconfigUser(t, execUser(t, "fail"))), "", noPod)
		if err == nil || !strings.Contains(err.Error(), "failed with exit code 1") {
			t.Fatalf("push when the plugin fails: %v", err)
		}
	})

	t.Run("auth provider", func(t *testing.T) {
		// The test API server trusts no OIDC issuer: it answers 401 to the
		// provider's ID token, where a request with no credentials at all
		// would be anonymous and get 403.
		claims := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://issuer.invalid","sub":"ci","exp":4102444800}`))
		user := map[string]any{"auth-provider": map[string]any{"name": "oidc", "config": map[string]any{
			"idp-issuer-url": "https://issuer.invalid",
			"client-id":      "edgectl",
			"id-token":       "eyJhbGciOiJSUzI1NiJ9." + claims + ".c2ln",
		}}}
		err := pushWith(t, loadingRules(c.KubeconfigUser(t, user)), "", noPod)
		if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Fatalf("push with an OIDC ID token the server does not trust: %v", err)
		}
		err = pushWith(t, loadingRules(c.KubeconfigUser(t, map[string]any{})), "", noPod)
		if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "system:anonymous") {
			t.Fatalf("push with no credentials: %v", err)
		}
	})

	t.Run("in cluster", func(t *testing.T) {
		u, err := url.Parse(c.URL)
		if err != nil {
			t.Fatal(err)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}
		inPod := func(t *testing.T, token string) pod {
			dir := t.TempDir()
			if token != "" {
				if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "ca.crt"), c.CAPEM, 0o600); err != nil {
				t.Fatal(err)
			}
			return pod{dir: dir, getenv: func(k string) string { return env[k] }}
		}
		if err := pushWith(t, kubeconfigs(none), "", inPod(t, c.AdminToken)); err != nil {
			t.Fatalf("push as the pod's admin service account: %v", err)
		}
		if err := pushWith(t, kubeconfigs(none), "", inPod(t, c.NobodyToken)); err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("push as the pod's nobody service account: %v", err)
		}
		// A kubeconfig, when there is one, comes first.
		if err := pushWith(t, kubeconfigs(c.Kubeconfig(t, c.NobodyToken)), "", inPod(t, c.AdminToken)); err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("push with a nobody kubeconfig in an admin pod: %v", err)
		}
		if err := pushWith(t, kubeconfigs(none), "", inPod(t, "")); err == nil || !strings.Contains(err.Error(), "read service account") {
			t.Fatalf("push from a pod without a token: %v", err)
		}
		if err := pushWith(t, kubeconfigs(none), "", noPod); err == nil || !strings.Contains(err.Error(), "no Kubernetes cluster") {
			t.Fatalf("push with neither kubeconfig nor pod: %v", err)
		}
	})

	t.Run("kubeconfig files merged", func(t *testing.T) {
		// The first file names the cluster and context; its user's token
		// is in the second, as $KUBECONFIG=a:b merges them. The first file
		// to set a name wins.
		admin, nobody := c.Kubeconfig(t, c.AdminToken), c.Kubeconfig(t, c.NobodyToken)
		if err := pushWith(t, kubeconfigs(admin, nobody), "", noPod); err != nil {
			t.Fatalf("admin kubeconfig first: %v", err)
		}
		if err := pushWith(t, kubeconfigs(nobody, admin), "", noPod); err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("nobody kubeconfig first: %v", err)
		}
		users := filepath.Join(t.TempDir(), "users")
		clusters := filepath.Join(t.TempDir(), "clusters")
		writeSplit(t, admin, clusters, users)
		if err := pushWith(t, kubeconfigs(none, clusters, users), "", noPod); err != nil {
			t.Fatalf("cluster and user from two files: %v", err)
		}
		if err := pushWith(t, kubeconfigs(clusters, users), "nosuch", noPod); err == nil || !strings.Contains(err.Error(), `context "nosuch"`) {
			t.Fatalf("a context no file names: %v", err)
		}
	})
}

// writeSplit writes a kubeconfig's users to one file and the rest to
// another.
func writeSplit(t *testing.T, kubeconfig, rest, users string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	u := clientcmdapi.NewConfig()
	u.AuthInfos = cfg.AuthInfos
	cfg.AuthInfos = nil
	if err := clientcmd.WriteToFile(*cfg, rest); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*u, users); err != nil {
		t.Fatal(err)
	}
}
