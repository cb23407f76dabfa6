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
	mj, err := fs.ReadFile(fsys, ManifestFile)
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
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) || strings.Contains(f.Path, `\`) {
			return nil, fmt.Errorf("manifest: invalid path %q", f.Path)
		}
		data, err := fs.ReadFile(fsys, f.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		if got := sum(data); got != f.SHA256 {
			return nil, fmt.Errorf("%s: content does not match the manifest (sha256 %s, want %s)", f.Path, got, f.SHA256)
		}
		b.Files = append(b.Files, File{Path: f.Path, Data: data})
	}
	slices.SortFunc(b.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	if err := b.verifyDigest(); err != nil {
		return nil, err
	}
	return b, nil
}

// verifyDigest recomputes the digest from the resource index and bootstraps.
func (b *Bundle) verifyDigest() error {
	static, dynamic := b.File(StaticBootstrapFile), b.File(FilesBootstrapFile)
	if static == nil || dynamic == nil {
		return errors.New("bundle lacks a bootstrap")
	}
	sorted := slices.IsSortedFunc(b.Manifest.Resources, func(x, y ResourceEntry) int {
		return strings.Compare(x.Type+"\x00"+x.Name, y.Type+"\x00"+y.Name)
	})
	if !sorted || digestOf(b.Manifest.Resources, sum(static), sum(dynamic)) != b.Digest {
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
func ReadDelivered(read func(name string) ([]byte, error)) (*Bundle, error) {
	mj, err := read(ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	b := &Bundle{Gateway: m.Gateway, Digest: m.Digest, Manifest: &m, Files: []File{{Path: ManifestFile, Data: mj}}}
	staticSum := ""
	for _, f := range m.Files {
		if f.Path == StaticBootstrapFile {
			staticSum = f.SHA256
			continue
		}
		if !fs.ValidPath(f.Path) {
			return nil, fmt.Errorf("manifest: invalid path %q", f.Path)
		}
		data, err := read(path.Base(f.Path))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path.Base(f.Path), err)
		}
		if got := sum(data); got != f.SHA256 {
			return nil, fmt.Errorf("%s: content does not match the manifest", path.Base(f.Path))
		}
		b.Files = append(b.Files, File{Path: f.Path, Data: data})
	}
	slices.SortFunc(b.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	dynamic := b.File(FilesBootstrapFile)
	if dynamic == nil || digestOf(m.Resources, staticSum, sum(dynamic)) != m.Digest {
		return nil, errors.New("the manifest's digest does not match its content")
	}
	if _, err := b.Resources(); err != nil {
		return nil, err
	}
	return b, nil
}
