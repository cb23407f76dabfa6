package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/internal/par"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Every reader of a bundle (push, serve, status, rollback) comes through
// verify, the one place that decides whether a bundle is what its digest
// says. The proof is the digest recomputed from the content, exactly as
// Encode computes it: every resource parsed and re-encoded canonically,
// every xDS file rebuilt byte for byte from its resources, both
// bootstraps hashed. The manifest's per-file and per-resource hashes are
// checked too, but only to name the files at fault: whoever edits a file
// can edit its hash.

// Problem is one thing wrong with one file of a bundle.
type Problem struct {
	File   string `json:"file"` // as the reader sees it: xds/lds.yaml in a compile output, lds.yaml in a target
	Detail string `json:"detail"`
}

// DamagedError is a bundle whose content is not what its manifest says,
// with every file at fault.
type DamagedError struct {
	Problems []Problem
}

func (e *DamagedError) Error() string {
	var b strings.Builder
	b.WriteString("damaged bundle")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", p.File, p.Detail)
	}
	return b.String()
}

// Files names the files at fault, sorted, once each.
func (e *DamagedError) Files() []string {
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.File)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Read loads the bundle in fsys, a compile output's bundle directory, and
// verifies it (see verify). A file the manifest does not list is an error.
func Read(fsys fs.FS) (*Bundle, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			files[p] = nil // reported as not listed, or as not matching
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		files[p] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return verify(files, false)
}

// ReadDelivered loads a bundle as a target holds it (see Delivered): the
// flat files of fsys's top directory, every one of which the manifest must
// list. It verifies the bundle like Read.
func ReadDelivered(fsys fs.FS) (*Bundle, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			files[e.Name()] = nil
			continue
		}
		if files[e.Name()], err = fs.ReadFile(fsys, e.Name()); err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
	}
	return VerifyDelivered(files)
}

// VerifyDelivered verifies a delivered bundle held in memory, file name to
// content (a ConfigMap's data).
func VerifyDelivered(files map[string][]byte) (*Bundle, error) {
	return verify(files, true)
}

// verify builds a bundle from its files and checks it, collecting every
// problem before it answers. A delivered bundle is flat and lacks the
// static bootstrap: that file's hash comes from the manifest (Envoy never
// reads it from a target).
func verify(files map[string][]byte, delivered bool) (*Bundle, error) {
	mj, ok := files[ManifestFile]
	if !ok {
		return nil, fmt.Errorf("read manifest: no %s", ManifestFile)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parse manifest: data after the manifest's JSON object")
	}
	if m.Kind != "BundleManifest" || m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("manifest: unsupported kind %q or schema version %d", m.Kind, m.SchemaVersion)
	}
	// name is how the reader sees a file of the manifest.
	name := func(p string) string {
		if delivered {
			return path.Base(p)
		}
		return p
	}
	var probs []Problem
	b := &Bundle{Gateway: m.Gateway, Digest: m.Digest, Manifest: &m, Files: []File{{Path: ManifestFile, Data: mj}}}
	listed := map[string]bool{ManifestFile: true}
	staticSum := ""
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) || strings.Contains(f.Path, `\`) || f.Path == ManifestFile || listed[name(f.Path)] {
			return nil, fmt.Errorf("manifest: invalid or repeated path %q", f.Path)
		}
		if f.Path != StaticBootstrapFile && f.Path != FilesBootstrapFile && path.Dir(f.Path) != XDSDir && path.Dir(f.Path) != RateLimitDir {
			probs = append(probs, Problem{name(f.Path), "is listed in the manifest, but is no file of a bundle"})
		}
		listed[name(f.Path)] = true
		if delivered && f.Path == StaticBootstrapFile {
			staticSum = f.SHA256
			continue
		}
		data, ok := files[name(f.Path)]
		switch {
		case !ok:
			probs = append(probs, Problem{name(f.Path), "is missing"})
			continue
		case data == nil:
			probs = append(probs, Problem{name(f.Path), "is not a regular file"})
			continue
		case sum(data) != f.SHA256:
			probs = append(probs, Problem{name(f.Path), "differs from the sha256 the manifest lists for it"})
		}
		if f.Path == StaticBootstrapFile {
			staticSum = sum(data)
		}
		b.Files = append(b.Files, File{Path: f.Path, Data: data})
	}
	for _, n := range sortedKeys(files) {
		if !listed[n] {
			probs = append(probs, Problem{n, "is not listed in the manifest"})
		}
	}
	slices.SortFunc(b.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })

	// The proof: the digest of the content as Encode computes it.
	entries, res, xprobs := b.index(name)
	probs = append(probs, xprobs...)
	dynamic := b.File(FilesBootstrapFile)
	if staticSum == "" || dynamic == nil {
		if len(probs) == 0 {
			probs = append(probs, Problem{ManifestFile, "lists no " + StaticBootstrapFile + " or no " + FilesBootstrapFile})
		}
		return nil, &DamagedError{probs}
	}
	faulty := map[string]bool{}
	for _, p := range probs {
		faulty[p.File] = true
	}
	probs = append(probs, compareIndex(m.Resources, entries, name, faulty)...)
	// With no file at fault, a wrong digest is the manifest's.
	var others []File
	for _, f := range b.Files {
		if path.Dir(f.Path) == RateLimitDir {
			others = append(others, f)
			if _, err := parseRateLimitFile(f.Path, f.Data); err != nil {
				probs = append(probs, Problem{name(f.Path), "is no rate-limit configuration: " + err.Error()})
			}
		}
	}
	if got := digestOf(m.Gateway, entries, staticSum, sum(dynamic), fileEntries(others)); got != m.Digest && len(probs) == 0 {
		probs = append(probs, Problem{ManifestFile, fmt.Sprintf("says digest %s, but the content's digest is %s", m.Digest, got)})
	}
	if len(probs) == 0 {
		probs = append(probs, b.checkManifestAgainstBootstrap()...)
	}
	if len(probs) > 0 {
		return nil, &DamagedError{probs}
	}
	b.resources = res
	return b, nil
}

// checkManifestAgainstBootstrap holds the manifest's node and xDS directory,
// which serve and push act on, to the dynamic bootstrap, which the digest
// covers: a manifest edited to hand a bundle to another node cluster is
// damaged even when its digest is right.
func (b *Bundle) checkManifestAgainstBootstrap() []Problem {
	boot, err := b.Bootstrap(FilesBootstrapFile)
	if err != nil {
		return []Problem{{FilesBootstrapFile, "is not a valid Envoy bootstrap: " + err.Error()}}
	}
	var probs []Problem
	m := b.Manifest
	if n := boot.GetNode(); n.GetId() != m.Node.ID || n.GetCluster() != m.Node.Cluster {
		probs = append(probs, Problem{ManifestFile, fmt.Sprintf("says node %q in cluster %q, but %s says %q in %q",
			m.Node.ID, m.Node.Cluster, FilesBootstrapFile, n.GetId(), n.GetCluster())})
	}
	dir := boot.GetDynamicResources().GetLdsConfig().GetPathConfigSource().GetWatchedDirectory().GetPath()
	if dir != m.XDSDirectory {
		probs = append(probs, Problem{ManifestFile, fmt.Sprintf("says xDS directory %q, but %s watches %q", m.XDSDirectory, FilesBootstrapFile, dir)})
	}
	return probs
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// index parses every xDS file of b, re-encodes each resource canonically
// and rebuilds each file from its resources and its version: a file that
// is not byte for byte what Encode would write is at fault, and so is one
// whose version is not the manifest's digest. It returns the resource
// index of the content, sorted as the digest wants it. The files are
// checked in parallel (a 10,000-route bundle is most of a second of work
// per core) and their results taken in file order.
func (b *Bundle) index(name func(string) string) ([]ResourceEntry, *xds.Resources, []Problem) {
	var files []File
	for _, f := range b.Files {
		if strings.HasPrefix(f.Path, XDSDir+"/") {
			files = append(files, f)
		}
	}
	results := make([]fileIndex, len(files))
	par.Each(len(files), 0, func(i int) { results[i] = indexFile(files[i], name) })

	var entries []ResourceEntry
	var probs []Problem
	var stale []string // files whose version_info is not the manifest's digest
	versions := map[string]bool{}
	r := &xds.Resources{}
	for i, res := range results {
		probs = append(probs, res.probs...)
		entries = append(entries, res.entries...)
		for _, msg := range res.msgs {
			switch msg := msg.(type) {
			case *listenerv3.Listener:
				r.Listeners = append(r.Listeners, msg)
			case *clusterv3.Cluster:
				r.Clusters = append(r.Clusters, msg)
			case *routev3.RouteConfiguration:
				r.Routes = append(r.Routes, msg)
			case *tlsv3.Secret:
				r.Secrets = append(r.Secrets, msg)
			case *endpointv3.ClusterLoadAssignment:
				r.Endpoints = append(r.Endpoints, msg)
			}
		}
		if res.sound && res.version != b.Digest {
			stale = append(stale, name(files[i].Path))
			versions[res.version] = true
		}
	}
	switch {
	case len(stale) > 0 && len(stale) == len(files) && len(versions) == 1:
		// Every file agrees: the manifest is what was changed.
		probs = append(probs, Problem{ManifestFile, fmt.Sprintf("says digest %s, but its xDS files carry version %s", b.Digest, slices.Collect(maps.Keys(versions))[0])})
	default:
		for _, f := range stale {
			probs = append(probs, Problem{f, "carries a version_info that is not the bundle's digest"})
		}
	}
	slices.SortFunc(entries, func(a, b ResourceEntry) int {
		return strings.Compare(a.Type+"\x00"+a.Name, b.Type+"\x00"+b.Name)
	})
	sortResources(r)
	return entries, r, probs
}

// fileIndex is what one xDS file holds, and what is wrong with it.
type fileIndex struct {
	entries []ResourceEntry
	msgs    []proto.Message // its resources, as far as they were read
	probs   []Problem
	sound   bool   // its resources parse and are in their file: its version is checked
	version string // its version_info
}

func indexFile(f File, name func(string) string) fileIndex {
	var out fileIndex
	dr, msgs, err := readDiscoveryFile(f.Path, f.Data)
	if err != nil {
		out.probs = append(out.probs, Problem{name(f.Path), "does not parse: " + err.Error()})
		return out
	}
	// Encode writes lds.yaml and cds.yaml, and one file for each route
	// configuration, secret or assignment of endpoints: any other file
	// would escape the digest.
	shared := f.Path == XDSDir+"/"+xds.LDSFile || f.Path == XDSDir+"/"+xds.CDSFile
	if !shared && len(msgs) != 1 {
		out.probs = append(out.probs, Problem{name(f.Path), fmt.Sprintf("holds %d resources, not one", len(msgs))})
		return out
	}
	var items [][]byte
	ok := true
	for _, msg := range msgs {
		js, err := anyJSON(msg)
		if err != nil {
			out.probs = append(out.probs, Problem{name(f.Path), err.Error()})
			ok = false
			break
		}
		items = append(items, js)
		typ, want := "", ""
		switch msg := msg.(type) {
		case *listenerv3.Listener:
			typ, want = "Listener", xds.LDSFile
		case *clusterv3.Cluster:
			typ, want = "Cluster", xds.CDSFile
		case *routev3.RouteConfiguration:
			typ, want = "RouteConfiguration", xds.RouteFile(msg.Name)
		case *tlsv3.Secret:
			typ, want = "Secret", xds.SecretFile(msg.Name)
		case *endpointv3.ClusterLoadAssignment:
			typ, want = "ClusterLoadAssignment", xds.EndpointsFile(msg.ClusterName)
		}
		out.msgs = append(out.msgs, msg)
		rn := resourceName(msg)
		if typ == "" || XDSDir+"/"+want != f.Path || TypeURL(msg) != dr.TypeUrl {
			out.probs = append(out.probs, Problem{name(f.Path), fmt.Sprintf("holds %s %q, which Envoy does not read from this file", msg.ProtoReflect().Descriptor().FullName(), rn)})
			ok = false
			continue
		}
		out.entries = append(out.entries, ResourceEntry{Type: typ, Name: rn, File: f.Path, SHA256: sum(js)})
	}
	if !ok {
		return out
	}
	if want, err := discoveryFile(dr.VersionInfo, dr.TypeUrl, items); err != nil || !bytes.Equal(want, f.Data) {
		out.probs = append(out.probs, Problem{name(f.Path), "is not the file edgectl writes for its resources"})
	}
	out.sound, out.version = true, dr.VersionInfo
	return out
}

// compareIndex names the files whose resources differ from the manifest's
// resource index, a few resources each. Files already at fault are not
// named again.
func compareIndex(listed, got []ResourceEntry, name func(string) string, faulty map[string]bool) []Problem {
	key := func(e ResourceEntry) string { return e.Type + "\x00" + e.Name }
	want := map[string]ResourceEntry{}
	for _, e := range listed {
		want[key(e)] = e
	}
	differ := map[string][]string{}
	for _, e := range got {
		w, ok := want[key(e)]
		delete(want, key(e))
		if !ok || w != e {
			differ[e.File] = append(differ[e.File], fmt.Sprintf("%s %q", e.Type, e.Name))
		}
	}
	for _, e := range listed {
		if _, ok := want[key(e)]; ok {
			differ[e.File] = append(differ[e.File], fmt.Sprintf("%s %q", e.Type, e.Name))
		}
	}
	var probs []Problem
	for _, f := range slices.Sorted(maps.Keys(differ)) {
		if faulty[name(f)] {
			continue
		}
		rs := differ[f]
		if len(rs) > 3 {
			rs = append(rs[:3:3], fmt.Sprintf("%d more", len(differ[f])-3))
		}
		probs = append(probs, Problem{name(f), "differs from the manifest's resource index (" + strings.Join(rs, ", ") + ")"})
	}
	return probs
}

// discoveryFile is an xDS file as Encode writes it: a DiscoveryResponse
// whose version is the bundle's digest.
func discoveryFile(digest, typeURL string, items [][]byte) ([]byte, error) {
	head, err := discoveryHead(digest)
	if err != nil {
		return nil, err
	}
	body, err := discoveryBody(0, typeURL, items)
	return append(head, body...), err
}

// headLen is the length of every discoveryHead: a digest is "sha256:" and
// 64 hexadecimal digits, which YAML writes alike whatever they are.
func headLen() (int, error) {
	h, err := discoveryHead("sha256:" + strings.Repeat("0", 64))
	return len(h), err
}

// discoveryHead and discoveryBody are the two parts of a discovery file.
// YAML renders each top-level key of a mapping on lines of its own, so the
// body can be rendered before the digest is known.
func discoveryHead(digest string) ([]byte, error) {
	return jsonToYAML(fmt.Appendf(nil, `{"version_info":%q}`, digest))
}

// discoveryBody leaves reserve bytes before the body, where Encode puts the
// head once the digest is known, so a file is not copied to prepend it.
func discoveryBody(reserve int, typeURL string, items [][]byte) ([]byte, error) {
	var js bytes.Buffer
	js.WriteString(`{"resources":[`)
	for i, item := range items {
		if i > 0 {
			js.WriteByte(',')
		}
		js.Write(item)
	}
	fmt.Fprintf(&js, `],"type_url":%q}`, typeURL)
	return jsonToYAMLAfter(reserve, js.Bytes())
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
