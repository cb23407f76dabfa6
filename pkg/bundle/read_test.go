package bundle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/compile"
	"github.com/edgectl/edgectl/pkg/source"
)

var example = sync.OnceValues(func() (*bundle.Bundle, error) {
	res, diags, err := compile.Compile(context.Background(), &source.Source{FS: os.DirFS("../../examples/acme")}, compile.Options{})
	if err == nil && diags.HasErrors() {
		err = errors.New("the example has errors")
	}
	if err != nil {
		return nil, err
	}
	return res.Bundles[0], nil
})

// tamper is one way of changing a bundle after compile. It edits the
// files (path to content, paths as the layout has them) and the manifest
// in place; the manifest is written back afterwards.
type tamper struct {
	name  string
	edit  func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool)
	files []string // the files the error must name, as the layout has them (flat: base names)
}

func shaOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// rehash sets the manifest's per-file hash of a file to its new content,
// as someone hiding an edit would.
func rehash(files map[string][]byte, m *bundle.Manifest, p string, flat bool) {
	key := p
	if flat {
		key = filepath.Base(p)
	}
	for i, f := range m.Files {
		if f.Path == p {
			m.Files[i].SHA256 = shaOf(files[key])
			m.Files[i].Size = len(files[key])
		}
	}
}

func key(p string, flat bool) string {
	if flat {
		return filepath.Base(p)
	}
	return p
}

var tampers = []tamper{
	{
		name: "edited xDS file, per-file hash updated",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			k := key("xds/cds.yaml", flat)
			if !strings.Contains(string(files[k]), "port_value: 8080") {
				t.Fatal("the example has no port 8080")
			}
			files[k] = []byte(strings.Replace(string(files[k]), "port_value: 8080", "port_value: 8081", 1))
			rehash(files, m, "xds/cds.yaml", flat)
		},
		files: []string{"xds/cds.yaml"},
	},
	{
		name: "edited xDS file, per-file hash, resource index and digest updated",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			k := key("xds/cds.yaml", flat)
			files[k] = []byte(strings.Replace(string(files[k]), "port_value: 8080", "port_value: 8081", 1))
			rehash(files, m, "xds/cds.yaml", flat)
			for i, r := range m.Resources {
				if r.File == "xds/cds.yaml" {
					m.Resources[i].SHA256 = strings.Repeat("0", 64)
				}
			}
			m.Digest = "sha256:" + strings.Repeat("1", 64)
		},
		files: []string{"manifest.json", "xds/cds.yaml"},
	},
	{
		name: "a comment added, same resources, per-file hash updated",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			k := key("xds/lds.yaml", flat)
			files[k] = append([]byte("# harmless?\n"), files[k]...)
			rehash(files, m, "xds/lds.yaml", flat)
		},
		files: []string{"xds/lds.yaml"},
	},
	{
		name: "edited bootstrap, per-file hash updated",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			k := key(bundle.FilesBootstrapFile, flat)
			files[k] = append(files[k], []byte("overload_manager: {}\n")...)
			rehash(files, m, bundle.FilesBootstrapFile, flat)
		},
		files: []string{"manifest.json"},
	},
	{
		name: "a file the manifest does not list",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			files[key("xds/rds-extra.yaml", flat)] = []byte("resources: []\n")
		},
		files: []string{"xds/rds-extra.yaml"},
	},
	{
		name: "a file listed in the manifest, outside the digest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			files["notes.txt"] = []byte("hello")
			m.Files = append(m.Files, bundle.FileEntry{Path: "notes.txt", SHA256: shaOf(files["notes.txt"]), Size: 5})
		},
		files: []string{"notes.txt"},
	},
	{
		name: "an empty route file listed in the manifest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			k := key("xds/rds-extra.yaml", flat)
			files[k] = []byte("version_info: " + m.Digest + "\nresources: []\ntype_url: type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n")
			m.Files = append(m.Files, bundle.FileEntry{Path: "xds/rds-extra.yaml", SHA256: shaOf(files[k]), Size: len(files[k])})
		},
		files: []string{"xds/rds-extra.yaml"},
	},
	{
		name: "a file missing",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			delete(files, key("xds/cds.yaml", flat))
		},
		files: []string{"xds/cds.yaml"},
	},
	{
		name: "a file missing, its manifest entries removed",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			delete(files, key("xds/cds.yaml", flat))
			m.Files = slices.DeleteFunc(m.Files, func(f bundle.FileEntry) bool { return f.Path == "xds/cds.yaml" })
			m.Resources = slices.DeleteFunc(m.Resources, func(r bundle.ResourceEntry) bool { return r.File == "xds/cds.yaml" })
		},
		files: []string{"manifest.json"},
	},
	// The manifest's fields that push, render and serve act on are bound to
	// the content: the gateway name by the digest, the node and the xDS
	// directory by the dynamic bootstrap.
	{
		name: "gateway renamed in the manifest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			m.Gateway = "other"
		},
		files: []string{"manifest.json"},
	},
	{
		name: "node cluster changed in the manifest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			m.Node.Cluster = "internal-fleet"
		},
		files: []string{"manifest.json"},
	},
	{
		name: "node id changed in the manifest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			m.Node.ID = "someone-else"
		},
		files: []string{"manifest.json"},
	},
	{
		name: "xDS directory changed in the manifest",
		edit: func(t *testing.T, files map[string][]byte, m *bundle.Manifest, flat bool) {
			m.XDSDirectory = "/tmp/elsewhere"
		},
		files: []string{"manifest.json"},
	},
}

// layout writes a bundle's files as a compile output has them, or flat as
// a target has them, and reads them back.
type layout struct {
	name  string
	flat  bool
	files func(b *bundle.Bundle) []bundle.File
	read  func(dir string) (*bundle.Bundle, error)
}

var layouts = []layout{
	{"compile output", false, func(b *bundle.Bundle) []bundle.File { return b.Files }, func(dir string) (*bundle.Bundle, error) { return bundle.Read(os.DirFS(dir)) }},
	{"delivered", true, (*bundle.Bundle).Delivered, func(dir string) (*bundle.Bundle, error) { return bundle.ReadDelivered(os.DirFS(dir)) }},
}

// TestReadVerifiesTheDigest changes a bundle's files in ways that keep the
// manifest's own records consistent, and expects every reader to refuse
// the result and name the files at fault: the digest, recomputed from the
// content, is the proof.
func TestReadVerifiesTheDigest(t *testing.T) {
	t.Parallel()
	b, err := example()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layouts {
		t.Run(l.name+"/genuine", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, toMap(l.files(b)))
			got, err := l.read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != b.Digest {
				t.Fatalf("digest %s, want %s", got.Digest, b.Digest)
			}
			if _, err := got.Resources(); err != nil {
				t.Fatal(err)
			}
		})
		for _, tc := range tampers {
			t.Run(l.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				files := toMap(l.files(b))
				var m bundle.Manifest
				if err := json.Unmarshal(files[bundle.ManifestFile], &m); err != nil {
					t.Fatal(err)
				}
				tc.edit(t, files, &m, l.flat)
				mj, err := json.MarshalIndent(&m, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				files[bundle.ManifestFile] = append(mj, '\n')
				dir := t.TempDir()
				writeFiles(t, dir, files)
				_, err = l.read(dir)
				var d *bundle.DamagedError
				if !errors.As(err, &d) {
					t.Fatalf("read a tampered bundle: %v", err)
				}
				var want []string
				for _, f := range tc.files {
					want = append(want, key(f, l.flat))
				}
				slices.Sort(want)
				if got := d.Files(); !slices.Equal(got, want) {
					t.Errorf("files named %v, want %v\n%v", got, want, err)
				}
			})
		}
	}
}

// TestVerifyDeliveredExtraKey holds a ConfigMap's data to the same rules.
func TestVerifyDeliveredExtraKey(t *testing.T) {
	t.Parallel()
	b, err := example()
	if err != nil {
		t.Fatal(err)
	}
	files := toMap(b.Delivered())
	if _, err := bundle.VerifyDelivered(files); err != nil {
		t.Fatal(err)
	}
	files["notes.txt"] = []byte("hello")
	if _, err := bundle.VerifyDelivered(files); err == nil || !strings.Contains(err.Error(), "notes.txt is not listed in the manifest") {
		t.Errorf("extra key: %v", err)
	}
}

func toMap(fs []bundle.File) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range fs {
		out[f.Path] = f.Data
	}
	return out
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzVerifyDelivered feeds the reader a delivered bundle with one file
// replaced by arbitrary bytes. The reader must never panic, and may accept
// only the original content: every file is rebuilt from the resources and
// held to a digest the fuzzer cannot forge, so any other bytes it accepted
// would be content that escapes the digest.
func FuzzVerifyDelivered(f *testing.F) {
	b, err := example()
	if err != nil {
		f.Fatal(err)
	}
	orig := map[string][]byte{}
	var names []string
	for _, file := range b.Delivered() {
		orig[file.Path] = file.Data
		names = append(names, file.Path)
	}
	slices.Sort(names)
	for i, n := range names {
		f.Add(uint8(i), orig[n])
		f.Add(uint8(i), append(slices.Clone(orig[n]), "\n# comment\n"...))
		f.Add(uint8(i), []byte(strings.Replace(string(orig[n]), "edge", "edgf", 1)))
	}
	f.Add(uint8(0), []byte(`{"kind":"BundleManifest","schemaVersion":1,"files":[{"path":"../x"}]}`))
	f.Add(uint8(slices.Index(names, bundle.ManifestFile)), append(slices.Clone(orig[bundle.ManifestFile]), `{"more": 1}`...))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		files := maps.Clone(orig)
		files[name] = data
		got, err := bundle.VerifyDelivered(files)
		if err != nil {
			return
		}
		if got.Digest != b.Digest || got.Gateway != b.Gateway || got.Manifest.Node != b.Manifest.Node || got.Manifest.XDSDirectory != b.Manifest.XDSDirectory {
			t.Fatalf("accepted %s changed to %q: digest %s, gateway %q, node %v, directory %q", name, data,
				got.Digest, got.Gateway, got.Manifest.Node, got.Manifest.XDSDirectory)
		}
		// The manifest's description (provenance, counts, the per-file
		// hashes' formatting) is outside the digest; every other file must
		// be exactly what was compiled.
		if name != bundle.ManifestFile && !bytes.Equal(data, orig[name]) {
			t.Fatalf("accepted %s changed to %q", name, data)
		}
	})
}
