package kubetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/internal/kubetest"
)

func TestClusterServesConfigMaps(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t)
	admin := c.Client(c.AdminToken)
	url := c.URL + "/api/v1/namespaces/" + ns + "/configmaps/demo"

	// Create through server-side apply, as the push path does.
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  greeting: hello\n"
	req, err := http.NewRequest(http.MethodPatch, url+"?fieldManager=edgectl-test", strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/apply-patch+yaml")
	status, body := do(t, admin, req)
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("apply configmap: got %d, want 201 or 200: %s", status, body)
	}

	req, err = http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body = do(t, admin, req)
	if status != http.StatusOK {
		t.Fatalf("get configmap as admin: got %d, want 200: %s", status, body)
	}
	var cm struct {
		Metadata struct {
			Name          string `json:"name"`
			Namespace     string `json:"namespace"`
			ManagedFields []struct {
				Manager   string `json:"manager"`
				Operation string `json:"operation"`
			} `json:"managedFields"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(body, &cm); err != nil {
		t.Fatalf("decode configmap: %v: %s", err, body)
	}
	if cm.Metadata.Name != "demo" || cm.Metadata.Namespace != ns {
		t.Errorf("configmap is %s/%s, want %s/demo", cm.Metadata.Namespace, cm.Metadata.Name, ns)
	}
	if got := cm.Data["greeting"]; got != "hello" || len(cm.Data) != 1 {
		t.Errorf("data = %v, want map[greeting:hello]", cm.Data)
	}
	applied := false
	for _, mf := range cm.Metadata.ManagedFields {
		if mf.Manager == "edgectl-test" && mf.Operation == "Apply" {
			applied = true
		}
	}
	if !applied {
		t.Errorf("managedFields has no Apply entry for edgectl-test: %+v", cm.Metadata.ManagedFields)
	}

	// A user without RBAC grants is authenticated but forbidden.
	req, err = http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body = do(t, c.Client(c.NobodyToken), req)
	if status != http.StatusForbidden {
		t.Fatalf("get configmap as nobody: got %d, want 403: %s", status, body)
	}
	var st struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("decode status: %v: %s", err, body)
	}
	if st.Reason != "Forbidden" || !strings.Contains(st.Message, `User "nobody"`) {
		t.Errorf("403 status has reason %q, message %q; want Forbidden for user nobody", st.Reason, st.Message)
	}

	// The kubeconfig points at this cluster with the given token.
	kc, err := os.ReadFile(c.Kubeconfig(t, c.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{c.URL, c.AdminToken, "current-context: test"} {
		if !strings.Contains(string(kc), want) {
			t.Errorf("kubeconfig lacks %q:\n%s", want, kc)
		}
	}
}

func do(t *testing.T, client *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body
}
