package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Read loads the bundle in fsys (rooted at the bundle directory) and checks
// that every file matches the manifest.
func Read(fsys fs.FS) (*Bundle, error) {
	return read(func(p string) ([]byte, error) { return fs.ReadFile(fsys, p) }, false)
}

// read loads a bundle, file by manifest path, and checks every file and
// the digest. A delivered bundle has no static bootstrap: its hash comes
// from the manifest.
func read(readFile func(path string) ([]byte, error), delivered bool) (*Bundle, error) {
	mj, err := readFile(ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if m.Kind != "BundleManifest" || m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("manifest: unsupported kind %q or schema version %d", m.Kind, m.SchemaVersion)
	}
	b := &Bundle{Gateway: m.Gateway, Digest: m.Digest, Manifest: &m, Files: []File{{Path: ManifestFile, Data: mj}}}
	staticSum := ""
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) || strings.Contains(f.Path, `\`) {
			return nil, fmt.Errorf("manifest: invalid path %q", f.Path)
		}
		if f.Path == StaticBootstrapFile {
			staticSum = f.SHA256
			if delivered {
				continue
			}
		}
		data, err := readFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		if got := sum(data); got != f.SHA256 {
			return nil, fmt.Errorf("%s: content does not match the manifest (sha256 %s, want %s)", f.Path, got, f.SHA256)
		}
		b.Files = append(b.Files, File{Path: f.Path, Data: data})
	}
	slices.SortFunc(b.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	if err := b.verifyDigest(staticSum); err != nil {
		return nil, err
	}
	return b, nil
}

// verifyDigest recomputes the digest from the resource index and the
// bootstraps' hashes.
func (b *Bundle) verifyDigest(staticSum string) error {
	dynamic := b.File(FilesBootstrapFile)
	if staticSum == "" || dynamic == nil {
		return errors.New("bundle lacks a bootstrap")
	}
	sorted := slices.IsSortedFunc(b.Manifest.Resources, func(x, y ResourceEntry) int {
		return strings.Compare(x.Type+"\x00"+x.Name, y.Type+"\x00"+y.Name)
	})
	if !sorted || digestOf(b.Manifest.Resources, staticSum, sum(dynamic)) != b.Digest {
		return errors.New("the manifest's digest does not match its content")
	}
	return nil
}

// Delivered is what a target holds of a bundle: the manifest, the dynamic
// bootstrap and the xDS files, flat, as a directory Envoy watches or a
// ConfigMap holds them. The static bootstrap stays behind: it is for a
// deployment that reads no xDS at all.
func (b *Bundle) Delivered() []File {
	var out []File
	for _, f := range b.Files {
		if f.Path != StaticBootstrapFile {
			out = append(out, File{Path: path.Base(f.Path), Data: f.Data})
		}
	}
	slices.SortFunc(out, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// ReadDelivered reads a bundle as a target holds it (see Delivered), with
// read returning a flat file by name, and verifies all of it: every file
// against the manifest, every resource against its hash, and the digest.
func ReadDelivered(readFlat func(name string) ([]byte, error)) (*Bundle, error) {
	b, err := read(func(p string) ([]byte, error) { return readFlat(path.Base(p)) }, true)
	if err != nil {
		return nil, err
	}
	if b.resources, err = b.Resources(); err != nil {
		return nil, err
	}
	return b, nil
}
