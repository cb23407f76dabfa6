package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenGatewayAPIDirectory: a directory without edgectl.yaml is a
// project when it holds Gateway API manifests, and only then; one above
// it with edgectl.yaml still wins.
func TestOpenGatewayAPIDirectory(t *testing.T) {
	t.Parallel()
	const manifest = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge}\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		dir     string // opened, relative to the temporary root
		wantErr error
		wantFS  string // a file the opened project must hold
	}{
		{name: "manifests", files: map[string]string{"k8s/apps/gw.yaml": manifest}, dir: "k8s", wantFS: "apps/gw.yaml"},
		{name: "yml", files: map[string]string{"k8s/gw.yml": manifest}, dir: "k8s", wantFS: "gw.yml"},
		{name: "other yaml only", files: map[string]string{"k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"}, dir: "k8s", wantErr: ErrNoProject},
		{name: "hidden directory only", files: map[string]string{"k8s/.github/gw.yaml": manifest}, dir: "k8s", wantErr: ErrNoProject},
		{name: "not yaml", files: map[string]string{"k8s/gw.txt": manifest}, dir: "k8s", wantErr: ErrNoProject},
		{name: "project above", files: map[string]string{"edgectl.yaml": "kind: Project\n", "k8s/gw.yaml": manifest}, dir: "k8s", wantFS: "edgectl.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			// A .git directory bounds the walk up to edgectl.yaml.
			if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range tc.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			src, err := Open(Spec{Dir: filepath.Join(root, tc.dir)})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer src.Close()
			if _, err := src.FS.Open(tc.wantFS); err != nil {
				t.Errorf("the project does not hold %s: %v", tc.wantFS, err)
			}
		})
	}
}
