package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// cmpPlugin is the part of an Argo CD ConfigManagementPlugin the tests read.
type cmpPlugin struct {
	Metadata struct{ Name string }
	Spec     struct {
		Version  string
		Generate struct{ Command, Args []string }
		Discover struct {
			FileName string `yaml:"fileName"`
		}
		Parameters struct {
			Static []struct {
				Name   string
				String *string
			}
		}
	}
}

// TestArgoCDPlugin runs deploy/argocd/plugin.yaml the way Argo CD's
// sidecar does: discovery in the application directory, then the generate
// command there, with parameters as PARAM_* and the app in ARGOCD_APP_*.
// The defaults announced to the UI must be render's own.
func TestArgoCDPlugin(t *testing.T) {
	data, err := os.ReadFile("../../deploy/argocd/plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var p cmpPlugin
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	app, err := os.ReadFile("../../deploy/argocd/application.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := "name: " + p.Metadata.Name + "-" + p.Spec.Version; !strings.Contains(string(app), want) {
		t.Errorf("application.yaml does not name the plugin (%s)", want)
	}

	render := newRenderCmd()
	for _, param := range p.Spec.Parameters.Static {
		f := render.Flags().Lookup(param.Name)
		if f == nil {
			t.Errorf("parameter %s is no render flag", param.Name)
			continue
		}
		if param.String != nil && *param.String != f.DefValue {
			t.Errorf("parameter %s announces default %q, render's is %q", param.Name, *param.String, f.DefValue)
		}
	}

	dir, err := filepath.Abs("../../examples/acme")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, p.Spec.Discover.FileName)); len(m) != 1 {
		t.Fatalf("discover %s does not match the example", p.Spec.Discover.FileName)
	}
	cmd := append(p.Spec.Generate.Command, p.Spec.Generate.Args...)
	if len(cmd) < 2 || cmd[0] != "edgectl" {
		t.Fatalf("generate runs %v", cmd)
	}
	t.Chdir(dir)
	t.Setenv("ARGOCD_APP_NAME", "edge")
	t.Setenv("ARGOCD_APP_NAMESPACE", "edge-prod")
	t.Setenv("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
	// acme has two gateways; the Application (deploy/argocd) renders edge.
	t.Setenv("PARAM_GATEWAY", "edge")
	t.Setenv("PARAM_ENVOY", "true")
	t.Setenv("PARAM_REPLICAS", "3")
	var stdout, stderr bytes.Buffer
	if code := run(cmd[1:], &stdout, &stderr); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr.String())
	}
	cms, deploy := decodeRendered(t, stdout.Bytes())
	if len(cms) == 0 || deploy.Spec.Replicas != 3 || deploy.Metadata.Namespace != "edge-prod" {
		t.Errorf("generate printed %d ConfigMaps and a Deployment of %d replicas in %q",
			len(cms), deploy.Spec.Replicas, deploy.Metadata.Namespace)
	}
	if deploy.Metadata.Name != "envoy-edge" {
		t.Errorf("generate rendered the Deployment %q, want envoy-edge", deploy.Metadata.Name)
	}
	for _, cm := range cms {
		if !strings.HasPrefix(cm.Metadata.Name, "envoy-edge") {
			t.Errorf("generate rendered the ConfigMap %q of another gateway than edge", cm.Metadata.Name)
		}
	}
	if got := cms[0].Metadata.Annotations[annRevision]; got != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("revision annotation %q", got)
	}
}
