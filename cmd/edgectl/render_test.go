package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/push"
	"github.com/edgectl/edgectl/pkg/render"
)

// TestRenderMatchesFilePush proves the two ways into a pod agree: the
// ConfigMaps render prints, laid out the way kubelet mounts a projected
// volume, are byte for byte the files push --to file:// writes. The
// generated repository needs two ConfigMaps.
func TestRenderMatchesFilePush(t *testing.T) {
	t.Parallel()
	generated := t.TempDir()
	if _, err := genrepo.Write(generated, genrepo.Options{Routes: 3000}); err != nil {
		t.Fatal(err)
	}
	// acme has two gateways (edge and internal): render and push its edge.
	for name, args := range map[string][]string{
		"acme":      {"../../examples/acme", "--gateway", "edge"},
		"generated": {generated},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"render", "--envoy", "--namespace", "edge"}, args...), &stdout, &stderr); code != 0 {
				t.Fatalf("render: exit %d\n%s", code, stderr.String())
			}
			cms, deploy := decodeRendered(t, stdout.Bytes())
			if name == "generated" && len(cms) < 2 {
				t.Errorf("a 3000-route bundle in %d ConfigMap", len(cms))
			}

			mounted := t.TempDir()
			kubeletMount(t, mounted, cms)
			pushed := t.TempDir()
			if code := run(append([]string{"push", "--to", "file://" + pushed}, args...), io.Discard, &stderr); code != 0 {
				t.Fatalf("push: exit %d\n%s", code, stderr.String())
			}
			a, b := visible(t, mounted), visible(t, pushed)
			if !slices.Equal(a, b) {
				t.Fatalf("mounted files %v, pushed files %v", a, b)
			}
			for _, f := range a {
				x, _ := os.ReadFile(filepath.Join(mounted, f))
				y, _ := os.ReadFile(filepath.Join(pushed, f))
				if !bytes.Equal(x, y) {
					t.Errorf("%s: rendered and pushed bytes differ", f)
				}
				lx, _ := os.Readlink(filepath.Join(mounted, f))
				ly, _ := os.Readlink(filepath.Join(pushed, f))
				if lx != ly {
					t.Errorf("%s: kubelet links to %s, push to %s", f, lx, ly)
				}
			}

			// The Deployment mounts every ConfigMap, where the bootstrap
			// looks, and rolls when the bootstrap changes.
			boot, _ := os.ReadFile(filepath.Join(pushed, "bootstrap-xds.yaml"))
			sum := sha256.Sum256(boot)
			if got := deploy.Spec.Template.Metadata.Annotations[render.AnnBootstrap]; got != hex.EncodeToString(sum[:]) {
				t.Errorf("bootstrap checksum %q", got)
			}
			var sources []string
			for _, s := range deploy.Spec.Template.Spec.Volumes[0].Projected.Sources {
				sources = append(sources, s.ConfigMap.Name)
			}
			var names []string
			for _, cm := range cms {
				names = append(names, cm.Metadata.Name)
			}
			if !slices.Equal(sources, names) {
				t.Errorf("the volume projects %v, render printed %v", sources, names)
			}
			c := deploy.Spec.Template.Spec.Containers[0]
			if !strings.Contains(string(boot), "path: "+c.VolumeMounts[0].MountPath+"/lds.yaml") {
				t.Errorf("the volume is mounted at %s, which the bootstrap does not read", c.VolumeMounts[0].MountPath)
			}
			if want := c.VolumeMounts[0].MountPath + "/bootstrap-xds.yaml"; !slices.Contains(c.Args, want) {
				t.Errorf("Envoy runs with %v, not %s", c.Args, want)
			}
		})
	}
}

// decodeRendered splits render's stream into ConfigMaps and the Deployment.
func decodeRendered(t *testing.T, stream []byte) ([]push.ConfigMap, render.Deployment) {
	t.Helper()
	var cms []push.ConfigMap
	var deploy render.Deployment
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := node.Decode(&head); err != nil {
			t.Fatal(err)
		}
		switch head.Kind {
		case "ConfigMap":
			var cm push.ConfigMap
			if err := node.Decode(&cm); err != nil {
				t.Fatal(err)
			}
			cms = append(cms, cm)
		case "Deployment":
			if err := node.Decode(&deploy); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cms, deploy
}

// kubeletMount writes ConfigMaps the way kubelet fills a projected volume:
// every key in a timestamped directory, ..data pointing at it, and a link
// per key through ..data.
func kubeletMount(t *testing.T, dir string, cms []push.ConfigMap) {
	t.Helper()
	version := "..2026_11_22_06_00_00.123456789"
	if err := os.Mkdir(filepath.Join(dir, version), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms {
		for key, value := range cm.Data {
			if err := os.WriteFile(filepath.Join(dir, version, key), []byte(value), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..data", key), filepath.Join(dir, key)); err != nil {
				t.Fatal(err) // a key in two ConfigMaps
			}
		}
	}
	if err := os.Symlink(version, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// visible lists the names a reader of the directory sees, as Envoy does:
// everything not hidden.
func visible(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}
