package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/internal/kubetest"
	"github.com/edgectl/edgectl/pkg/bundle"
)

// TestKubeTarget delivers bundles to a real kube-apiserver: create, no-op,
// dry run, sharding over the ConfigMap limit, pruning, and what the API
// server refuses (conflicts, RBAC).
func TestKubeTarget(t *testing.T) {
	t.Parallel()
	c := kubetest.Start(t)
	small := bundles(t, 50, 2)
	large := bundles(t, 3000, 1)[0] // about 1.5 MB: two ConfigMaps
	ctx := context.Background()
	admin := c.Kubeconfig(t, c.AdminToken)

	target := func(t *testing.T, kubeconfig string) *Kube {
		t.Helper()
		k, err := NewKube(Target{Scheme: "k8s", Namespace: c.Namespace(t), Name: "envoy-config"}, kubeconfig, "")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	push := func(t *testing.T, k *Kube, b *bundle.Bundle, opts Options, force bool) Result {
		t.Helper()
		r, err := k.Push(ctx, b, opts, force)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	current := func(t *testing.T, k *Kube) string {
		t.Helper()
		b, err := k.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return ""
		}
		return b.Digest
	}

	t.Run("lifecycle", func(t *testing.T) {
		k := target(t, admin)
		if d := current(t, k); d != "" {
			t.Fatalf("empty namespace holds %s", d)
		}
		if r := push(t, k, small[0], Options{DryRun: true}, false); r.Status != WouldPush {
			t.Errorf("dry run: %+v", r)
		}
		if d := current(t, k); d != "" {
			t.Fatalf("a dry run created %s", d)
		}

		r := push(t, k, small[0], Options{}, false)
		if r.Status != Pushed || r.Previous != "" || r.Digest != small[0].Digest {
			t.Errorf("first push: %+v", r)
		}
		cms := configMaps(t, c, k.Namespace)
		if len(cms) != 1 || cms[0].Metadata.Name != "envoy-config" {
			t.Fatalf("ConfigMaps: %v", cmNames(cms))
		}
		assertHolds(t, cms, small[0])
		if got := cms[0].Metadata.Annotations[AnnDigest]; got != small[0].Digest {
			t.Errorf("digest annotation %q", got)
		}

		if r := push(t, k, small[0], Options{}, false); r.Status != UpToDate {
			t.Errorf("second push of the same bundle: %+v", r)
		}
		if _, err := k.Push(ctx, small[1], Options{ExpectDigest: small[0].Digest}, false); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("push of another bundle with --expect-digest: %v", err)
		}

		r = push(t, k, large, Options{}, false)
		if r.Status != Pushed || r.Previous != small[0].Digest {
			t.Errorf("push of the large bundle: %+v", r)
		}
		cms = configMaps(t, c, k.Namespace)
		if len(cms) < 2 {
			t.Fatalf("a %d-byte bundle in %d ConfigMap(s)", size(large), len(cms))
		}
		for _, cm := range cms {
			if n := dataSize(cm); n > ConfigMapBudget {
				t.Errorf("%s holds %d bytes", cm.Metadata.Name, n)
			}
			if got := cm.Metadata.Annotations[AnnShards]; got != fmt.Sprint(len(cms)) {
				t.Errorf("%s: shards annotation %q, want %d", cm.Metadata.Name, got, len(cms))
			}
		}
		assertHolds(t, cms, large)
		if d := current(t, k); d != large.Digest {
			t.Errorf("current %s, want %s", d, large.Digest)
		}

		r = push(t, k, small[1], Options{DryRun: true}, false)
		if r.Status != WouldPush || !slices.ContainsFunc(r.Detail, func(s string) bool { return strings.HasPrefix(s, "deleted") }) {
			t.Errorf("dry run back to one ConfigMap: %+v", r)
		}
		if got := len(configMaps(t, c, k.Namespace)); got != len(cms) {
			t.Errorf("a dry run pruned: %d ConfigMaps left of %d", got, len(cms))
		}
		push(t, k, small[1], Options{}, false)
		cms = configMaps(t, c, k.Namespace)
		if len(cms) != 1 {
			t.Errorf("after pushing a small bundle, %v: shards not pruned", cmNames(cms))
		}
		assertHolds(t, cms, small[1])
	})

	t.Run("a damaged ConfigMap is pushed again", func(t *testing.T) {
		k := target(t, admin)
		push(t, k, small[0], Options{}, false)
		// Someone edits a file by hand, under another field manager.
		apply(t, c, k.Namespace, "envoy-config", "kubectl-edit", map[string]string{"cds.yaml": "resources: []\n"}, true)
		if _, err := k.Current(ctx); err == nil || !strings.Contains(err.Error(), "cds.yaml") {
			t.Fatalf("Current of an edited ConfigMap: %v", err)
		}
		if _, err := k.Push(ctx, small[0], Options{}, false); err == nil ||
			!strings.Contains(err.Error(), "another field manager") || !strings.Contains(err.Error(), "--force-conflicts") ||
			!strings.Contains(err.Error(), `"kubectl-edit"`) || !strings.Contains(err.Error(), ".data.cds.yaml") {
			t.Fatalf("push over another manager's field: %v", err)
		}
		if r := push(t, k, small[0], Options{}, true); r.Status != Pushed {
			t.Errorf("push with force: %+v", r)
		}
		if d := current(t, k); d != small[0].Digest {
			t.Errorf("after a forced push: %s", d)
		}
	})

	t.Run("forbidden", func(t *testing.T) {
		k, err := NewKube(Target{Scheme: "k8s", Namespace: c.Namespace(t), Name: "envoy-config"}, c.Kubeconfig(t, c.NobodyToken), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.Push(ctx, small[0], Options{}, false)
		if err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("push without RBAC: %v", err)
		}
	})

	testKubeAuth(t, c, small[0])
}

// TestConfigMapsRefuseAFileTooLarge checks the error comes before the API
// server: one route configuration of more than a ConfigMap holds.
func TestConfigMapsRefuseAFileTooLarge(t *testing.T) {
	t.Parallel()
	b := bundles(t, 50, 1)[0]
	big := *b
	big.Files = slices.Clone(b.Files)
	for i, f := range big.Files {
		if f.Path == "xds/cds.yaml" {
			big.Files[i].Data = bytes.Repeat([]byte("#"), ConfigMapBudget+1)
		}
	}
	_, err := ConfigMaps(&big, "edge", "envoy-config")
	if err == nil || !strings.Contains(err.Error(), "cds.yaml is 1000001 bytes") || !strings.Contains(err.Error(), "split the backends over more gateways") {
		t.Fatalf("ConfigMaps: %v", err)
	}
}

func configMaps(t *testing.T, c *kubetest.Cluster, ns string) []ConfigMap {
	t.Helper()
	client := c.Client(c.AdminToken)
	defer client.CloseIdleConnections()
	resp, err := client.Get(c.URL + "/api/v1/namespaces/" + ns + "/configmaps?labelSelector=" + LabelManagedBy + "%3Dedgectl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Items []ConfigMap }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// assertHolds checks the ConfigMaps hold exactly the bundle's delivered
// files, byte for byte.
func assertHolds(t *testing.T, cms []ConfigMap, b *bundle.Bundle) {
	t.Helper()
	got := map[string]string{}
	for _, cm := range cms {
		for k, v := range cm.Data {
			if _, dup := got[k]; dup {
				t.Errorf("%s in two ConfigMaps", k)
			}
			got[k] = v
		}
	}
	want := b.Delivered()
	if len(got) != len(want) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
	for _, f := range want {
		if got[f.Path] != string(f.Data) {
			t.Errorf("%s differs from the bundle", f.Path)
		}
	}
}

// apply server-side applies data into a ConfigMap as another field manager.
func apply(t *testing.T, c *kubetest.Cluster, ns, name, manager string, data map[string]string, force bool) {
	t.Helper()
	body, _ := json.Marshal(ConfigMap{APIVersion: "v1", Kind: "ConfigMap", Metadata: ObjectMeta{Name: name}, Data: data})
	url := fmt.Sprintf("%s/api/v1/namespaces/%s/configmaps/%s?fieldManager=%s&force=%t", c.URL, ns, name, manager, force)
	req, _ := http.NewRequest(http.MethodPatch, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/apply-patch+yaml")
	client := c.Client(c.AdminToken)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("apply as %s: %s: %s", manager, resp.Status, msg)
	}
}

func cmNames(cms []ConfigMap) []string {
	var out []string
	for _, cm := range cms {
		out = append(out, cm.Metadata.Name)
	}
	return out
}

func dataSize(cm ConfigMap) int {
	n := 0
	for _, v := range cm.Data {
		n += len(v)
	}
	return n
}

func size(b *bundle.Bundle) int {
	n := 0
	for _, f := range b.Delivered() {
		n += len(f.Data)
	}
	return n
}
