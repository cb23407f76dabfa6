package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgectl/edgectl/internal/gittest"
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
		// A file is read whole, however large, and the marker found
		// wherever it is: across the pieces it is read in, or after
		// megabytes of other manifests.
		{name: "large file", files: map[string]string{"k8s/all.yaml": strings.Repeat("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n", 120_000) + manifest}, dir: "k8s", wantFS: "all.yaml"},
		{name: "marker across pieces", files: map[string]string{"k8s/gw.yaml": strings.Repeat("#", 64<<10-10) + "\n" + manifest}, dir: "k8s", wantFS: "gw.yaml"},
		{name: "marker cut", files: map[string]string{"k8s/gw.yaml": strings.Repeat("#", 64<<10-10) + "\napiVersion: gateway.networking.k8s.io"}, dir: "k8s", wantErr: ErrNoProject},
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

// TestGatewayAPIRevisionOfLargeFile: a revision whose Gateway API
// manifests are all in one file of megabytes is read as such a project.
func TestGatewayAPIRevisionOfLargeFile(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("k8s/all.yaml", strings.Repeat("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n", 120_000)+
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge}\n")
	r.Commit("manifests")
	repo, err := OpenRepo(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	src, err := repo.Git("HEAD", "k8s")
	if err != nil {
		t.Fatalf("HEAD:k8s: %v", err)
	}
	if _, err := fs.Stat(src.FS, "all.yaml"); err != nil {
		t.Errorf("the project does not hold all.yaml: %v", err)
	}
}
