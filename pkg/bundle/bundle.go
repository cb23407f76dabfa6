// Package bundle encodes the Envoy configuration of one gateway canonically
// and writes it out: the same input gives the same bytes and the same digest,
// across runs and rebuilds of edgectl.
//
// A bundle is a directory:
//
//	manifest.json       digest, provenance, index of files and resources
//	bootstrap.yaml      static bootstrap: everything in static_resources
//	bootstrap-xds.yaml  dynamic bootstrap reading the xds/ files
//	xds/lds.yaml        listeners            (file-based xDS, one file per
//	xds/cds.yaml        clusters              route configuration or secret,
//	xds/rds-NAME.yaml   route configurations  as Envoy requires)
//	xds/sds-NAME.yaml   secrets
//	xds/eds-NAME.yaml   endpoints of a Kubernetes Service (none: serve has them)
//	ratelimit/ratelimit-SERVICE.yaml
//	                    the limits of a rate-limit service the gateway uses,
//	                    in the format of Envoy's reference ratelimit service
//
// The digest covers content only, never provenance: the same intents give
// the same digest at any commit.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	rlsconfv3 "github.com/envoyproxy/go-control-plane/ratelimit/config/ratelimit/v3"

	"github.com/edgectl/edgectl/internal/par"
	"github.com/edgectl/edgectl/pkg/credscan"
	"github.com/edgectl/edgectl/pkg/privkey"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/pkg/xds"
)

// File names inside a bundle.
const (
	ManifestFile        = "manifest.json"
	StaticBootstrapFile = "bootstrap.yaml"
	FilesBootstrapFile  = "bootstrap-xds.yaml"
	XDSDir              = "xds"
	RateLimitDir        = "ratelimit"
)

// RateLimitFile is the file holding the configuration of a rate-limit
// service. Its base name is unlike every other file of a bundle, so a
// delivered bundle, which is flat, can hold it too.
func RateLimitFile(service string) string {
	return RateLimitDir + "/ratelimit-" + service + ".yaml"
}

// SchemaVersion changes when the bundle layout or manifest changes meaning.
const SchemaVersion = 1

// Bundle is one gateway's encoded configuration.
type Bundle struct {
	Gateway  string
	Digest   string
	Manifest *Manifest
	Files    []File // sorted by path, manifest.json included

	// resources are the xDS resources Read or ReadDelivered parsed to verify them,
	// kept so Resources does not parse them again.
	resources *xds.Resources
}

// File is one file of a bundle.
type File struct {
	Path string // slash-separated, relative to the bundle directory
	Data []byte
}

// File returns the content of the file at path, or nil.
func (b *Bundle) File(path string) []byte {
	i, ok := slices.BinarySearchFunc(b.Files, path, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return nil
	}
	return b.Files[i].Data
}

// Manifest describes a bundle. Its JSON form is a stable contract.
type Manifest struct {
	APIVersion    string            `json:"apiVersion"`
	Kind          string            `json:"kind"`
	SchemaVersion int               `json:"schemaVersion"`
	Gateway       string            `json:"gateway"`
	Digest        string            `json:"digest"`
	Node          Node              `json:"node"`
	XDSDirectory  string            `json:"xdsDirectory"`
	Stats         Stats             `json:"stats"`
	Source        source.Provenance `json:"source"`
	Edgectl       BuildInfo         `json:"edgectl"`
	Files         []FileEntry       `json:"files"`
	Resources     []ResourceEntry   `json:"resources"`
}

type Node struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
}

// Stats counts what the gateway serves.
type Stats struct {
	Listeners    int `json:"listeners"`
	VirtualHosts int `json:"virtualHosts"`
	Routes       int `json:"routes"`
	Clusters     int `json:"clusters"`
	Secrets      int `json:"secrets"`
}

// BuildInfo names the edgectl that wrote the bundle.
type BuildInfo struct {
	Version  string `json:"version"`
	EnvoyAPI string `json:"envoyAPI"`
}

type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

type ResourceEntry struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Input is what a bundle is made of.
type Input struct {
	Gateway string
	Node    Node
	XDSDir  string
	Stats   Stats
	// Static's inline route configurations may be xds.StaticSpliced's
	// stand-ins: the encoder puts Resources' route configurations there.
	Static    *bootstrapv3.Bootstrap
	Dynamic   *bootstrapv3.Bootstrap
	Resources *xds.Resources // for file-based xDS
	// RateLimitConfigs are the configurations of the rate-limit services
	// the gateway's rules count at (xds.RateLimitConfigs), each written to
	// its RateLimitFile.
	RateLimitConfigs []*rlsconfv3.RateLimitConfig
}

// Meta is provenance written into the manifest.
type Meta struct {
	Source  source.Provenance
	Edgectl BuildInfo
}

var marshal = protojson.MarshalOptions{UseProtoNames: true}

// canonicalJSON marshals m to compact JSON: protojson's encoding with its
// randomised whitespace removed (see appendJSON).
func canonicalJSON(m proto.Message) ([]byte, error) {
	// The JSON is written into a reused buffer and copied out once, at its
	// size: growing a fresh slice to the size of a large message would
	// allocate and copy it several times over.
	buf := jsonBuffers.Get().(*[]byte)
	js, err := appendJSON((*buf)[:0], m)
	if err != nil {
		jsonBuffers.Put(buf)
		return nil, fmt.Errorf("marshal %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	out := bytes.Clone(js)
	if cap(js) <= maxJSONBuffer {
		*buf = js
		jsonBuffers.Put(buf)
	}
	return out, nil
}

// maxJSONBuffer is the largest buffer kept for reuse by canonicalJSON.
const maxJSONBuffer = 16 << 20

var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// YAML renders a message as the bundle's files are written: its protojson
// form, field names as in the proto, as YAML.
func YAML(m proto.Message) ([]byte, error) {
	js, err := canonicalJSON(m)
	if err != nil {
		return nil, err
	}
	return jsonToYAML(js)
}

// TypeURL is the Any type URL of a message.
func TypeURL(m proto.Message) string {
	return "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
}

// anyJSON is the JSON of m as an element of a DiscoveryResponse: the
// message's fields preceded by its "@type".
func anyJSON(m proto.Message) ([]byte, error) {
	js, err := canonicalJSON(m)
	if err != nil {
		return nil, err
	}
	head := `{"@type":"` + TypeURL(m) + `"`
	if string(js) == "{}" {
		return []byte(head + "}"), nil
	}
	return append([]byte(head+","), js[1:]...), nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

type xdsFile struct {
	path    string
	typeURL string
	items   [][]byte
}

// item is one resource of a bundle, and the file it goes in.
type item struct {
	file *xdsFile
	typ  string
	name string
	msg  proto.Message
}

// Encode builds a bundle.
func Encode(in Input, meta Meta) (*Bundle, error) {
	// Listeners and clusters share one file each; Envoy needs both files
	// even when empty. Route configurations, secrets and assignments of
	// endpoints get a file each.
	lds := &xdsFile{path: XDSDir + "/" + xds.LDSFile, typeURL: TypeURL(&listenerv3.Listener{})}
	cds := &xdsFile{path: XDSDir + "/" + xds.CDSFile, typeURL: TypeURL(&clusterv3.Cluster{})}
	files := []*xdsFile{lds, cds}
	var items []item
	r := in.Resources
	for _, l := range r.Listeners {
		items = append(items, item{lds, "Listener", l.Name, l})
	}
	for _, c := range r.Clusters {
		items = append(items, item{cds, "Cluster", c.Name, c})
	}
	for _, rc := range r.Routes {
		f := &xdsFile{path: XDSDir + "/" + xds.RouteFile(rc.Name), typeURL: TypeURL(rc)}
		files = append(files, f)
		items = append(items, item{f, "RouteConfiguration", rc.Name, rc})
	}
	for _, s := range r.Secrets {
		f := &xdsFile{path: XDSDir + "/" + xds.SecretFile(s.Name), typeURL: TypeURL(s)}
		files = append(files, f)
		items = append(items, item{f, "Secret", s.Name, s})
	}
	for _, e := range r.Endpoints {
		f := &xdsFile{path: XDSDir + "/" + xds.EndpointsFile(e.ClusterName), typeURL: TypeURL(e)}
		files = append(files, f)
		items = append(items, item{f, "ClusterLoadAssignment", e.ClusterName, e})
	}

	// Render every resource (a large route configuration in pieces), then
	// the files and the static bootstrap from those renderings: the static
	// bootstrap's inline route configurations (where xds.StaticSpliced left
	// stand-ins) and its clusters are the xDS files', so each is encoded
	// once.
	jsons := make([][]byte, len(items))
	// ownYAML holds the YAML of the own fields of each cluster and route
	// configuration, rendered in parallel: the xDS files and the static
	// bootstrap take it instead of rendering it again.
	ownYAML := make([][]byte, len(items))
	out := map[string][]byte{}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, it := range items {
		g.Go(func() (err error) {
			switch m := it.msg.(type) {
			case *routev3.RouteConfiguration:
				e, err := encodeRouteConfig(m, 4*runtime.GOMAXPROCS(0))
				jsons[i], ownYAML[i] = e.json, e.yaml
				return err
			case *clusterv3.Cluster:
				e, err := encodeWhole(m)
				jsons[i], ownYAML[i] = e.json, e.yaml
				return err
			}
			jsons[i], err = anyJSON(it.msg)
			return err
		})
	}
	g.Go(func() error {
		js, err := canonicalJSON(in.Dynamic)
		if err != nil {
			return err
		}
		y, err := jsonToYAML(js)
		mu.Lock()
		out[FilesBootstrapFile] = y
		mu.Unlock()
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	entries := make([]ResourceEntry, len(items))
	for i, it := range items {
		it.file.items = append(it.file.items, jsons[i])
		entries[i] = ResourceEntry{Type: it.typ, Name: it.name, File: it.file.path}
	}
	par.Each(len(items), 0, func(i int) { entries[i].SHA256 = sum(jsons[i]) })
	// The xDS files' bodies and the static bootstrap render at once; the
	// files' first line, which carries the digest, comes after.
	bodies := make([][]byte, len(files))
	// Each body leaves room for the head, which is as long for every
	// digest: it is written into that room, not prepended by a copy.
	reserve, err := headLen()
	if err != nil {
		return nil, err
	}
	fileYAML := map[*xdsFile][][]byte{}
	for j, it := range items {
		fileYAML[it.file] = append(fileYAML[it.file], ownYAML[j])
	}
	for i, f := range files {
		yamls := fileYAML[f]
		g.Go(func() (err error) {
			if len(yamls) > 0 && !slices.ContainsFunc(yamls, func(y []byte) bool { return y == nil }) {
				bodies[i], err = assembledBody(reserve, f.typeURL, yamls)
			} else {
				bodies[i], err = discoveryBody(reserve, f.typeURL, f.items)
			}
			return err
		})
	}
	g.Go(func() error {
		y, err := staticBootstrap(in.Static, items, ownYAML)
		mu.Lock()
		out[StaticBootstrapFile] = y
		mu.Unlock()
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	extra, err := rateLimitFiles(in.RateLimitConfigs)
	if err != nil {
		return nil, err
	}
	for _, f := range extra {
		out[f.Path] = f.Data
	}

	// The digest is over every resource, both bootstraps and the rate-limit
	// configurations; the xDS files carry it as their version_info, which
	// /config_dump then shows.
	slices.SortFunc(entries, func(a, b ResourceEntry) int {
		return strings.Compare(a.Type+"\x00"+a.Name, b.Type+"\x00"+b.Name)
	})
	digest := digestOf(in.Gateway, entries, sum(out[StaticBootstrapFile]), sum(out[FilesBootstrapFile]), fileEntries(extra))
	head, err := discoveryHead(digest)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if len(head) == reserve {
			copy(bodies[i], head)
		} else { // never, as headLen says; but then the file is still right
			bodies[i] = append(slices.Clone(head), bodies[i][reserve:]...)
		}
		out[f.path] = bodies[i]
	}

	m := &Manifest{
		APIVersion:    "edgectl.dev/v1alpha1",
		Kind:          "BundleManifest",
		SchemaVersion: SchemaVersion,
		Gateway:       in.Gateway,
		Digest:        digest,
		Node:          in.Node,
		XDSDirectory:  in.XDSDir,
		Stats:         in.Stats,
		Source:        meta.Source,
		Edgectl:       meta.Edgectl,
		Resources:     entries,
	}
	b := &Bundle{Gateway: in.Gateway, Digest: digest, Manifest: m}
	for path, data := range out {
		b.Files = append(b.Files, File{Path: path, Data: data})
		m.Files = append(m.Files, FileEntry{Path: path, Size: len(data)})
	}
	par.Each(len(b.Files), 0, func(i int) { m.Files[i].SHA256 = sum(b.Files[i].Data) })
	slices.SortFunc(m.Files, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) })
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	b.Files = append(b.Files, File{Path: ManifestFile, Data: append(mj, '\n')})
	slices.SortFunc(b.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	if err := checkNoKeys(b); err != nil {
		return nil, err
	}
	return b, nil
}

// staticBootstrap renders the static bootstrap, whose listeners hold
// stand-ins for their route configurations (xds.StaticSpliced): each is
// replaced by the encoding the RDS file has, so the file reads exactly as
// if the routes had been encoded inline, and they are encoded once.
func staticBootstrap(b *bootstrapv3.Bootstrap, items []item, ownYAML [][]byte) ([]byte, error) {
	// A static cluster that is the same as the xDS file's stands in as its
	// name, and takes that cluster's YAML; so does every inline route
	// configuration (xds.StaticSpliced).
	clusters := map[string]int{}
	routes := map[string][]byte{}
	for i, it := range items {
		switch it.msg.(type) {
		case *clusterv3.Cluster:
			clusters[it.name] = i
		case *routev3.RouteConfiguration:
			routes[quote(xds.SplicedRoutes(it.name).Name)] = ownYAML[i]
		}
	}
	sameClusters := map[string][]byte{}
	if sr := b.GetStaticResources(); len(clusters) > 0 && sr != nil {
		stands := make([]*clusterv3.Cluster, len(sr.Clusters))
		for k, c := range sr.Clusters {
			stands[k] = c
			// xds.Translate shares a cluster that is the same in every
			// form; one that is not may still be.
			if i, ok := clusters[c.GetName()]; ok && (c == items[i].msg || proto.Equal(c, items[i].msg)) {
				stand := clusterMark + c.GetName()
				stands[k] = &clusterv3.Cluster{Name: stand}
				sameClusters[quote(stand)] = ownYAML[i]
			}
		}
		res := xds.ShallowWithout(sr, "clusters").(*bootstrapv3.Bootstrap_StaticResources)
		res.Clusters = stands
		b = xds.ShallowWithout(b, "static_resources").(*bootstrapv3.Bootstrap)
		b.StaticResources = res
	}
	js, err := canonicalJSON(b)
	if err != nil {
		return nil, err
	}
	y, err := jsonToYAML(js)
	if err != nil {
		return nil, err
	}
	var ok bool
	if y, ok = shiftInto(y, xds.SplicedRoutes("").Name, routes, true); !ok {
		return nil, fmt.Errorf("static bootstrap: a listener names a route configuration the gateway does not have, or shares one")
	}
	if y, ok = shiftInto(y, clusterMark, sameClusters, false); !ok {
		return nil, fmt.Errorf("static bootstrap: a cluster stand-in is missing or repeated")
	}
	return y, nil
}

// clusterMark starts the name of a static cluster's stand-in; cluster
// names starting "edgectl-" are reserved, and ':' is in none.
const clusterMark = "edgectl-cluster:"

// assembledBody is discoveryBody from the YAML of each resource's own
// fields: every resource is its "@type" and then those fields.
func assembledBody(reserve int, typeURL string, yamls [][]byte) ([]byte, error) {
	stands := make([][]byte, len(yamls))
	maps := make(map[string][]byte, len(yamls))
	for k, y := range yamls {
		stand := pieceMark + "item-" + strconv.Itoa(k)
		stands[k] = []byte(`{"@type":"` + typeURL + `","name":"` + stand + `"}`)
		maps[quote(stand)] = y
	}
	skeleton, err := discoveryBody(0, typeURL, stands)
	if err != nil {
		return nil, err
	}
	body, ok := shiftIntoAfter(reserve, skeleton, pieceMark+"item-", maps, false)
	if !ok {
		return nil, errNoSplice
	}
	return body, nil
}

// checkNoKeys is the last line of defence against secret material in a
// bundle: private keys, htpasswd password hashes and JSON Web Key sets.
// The repository scan refuses all three in the input, so one found here is
// edgectl's own failure, and the bundle must go nowhere.
func checkNoKeys(b *Bundle) error {
	found := make([]string, len(b.Files))
	par.Each(len(b.Files), 0, func(i int) { found[i] = secretIn(b.Files[i].Data) })
	for i, f := range b.Files {
		if what := found[i]; what != "" {
			return fmt.Errorf("internal error: %s of gateway %q holds %s; refusing to write or deliver it", f.Path, b.Gateway, what)
		}
	}
	return nil
}

// secretIn names the secret material data holds, or is empty.
func secretIn(data []byte) string {
	switch {
	case privkey.Index(data) >= 0:
		return "private key material"
	case credscan.HtpasswdIndex(data) >= 0:
		return "an htpasswd password hash"
	case credscan.JWKSIndex(data) >= 0:
		return "a JSON Web Key set"
	}
	return ""
}

// rateLimitFiles renders each rate-limit configuration as the reference
// ratelimit service reads it: domain and descriptors (the service's name is
// the file's), units in lower case as the service's documentation writes
// them (it upper-cases them itself before looking them up).
func rateLimitFiles(configs []*rlsconfv3.RateLimitConfig) ([]File, error) {
	var out []File
	for _, c := range configs {
		body := &rlsconfv3.RateLimitConfig{Domain: c.Domain, Descriptors: c.Descriptors}
		js, err := canonicalJSON(body)
		if err != nil {
			return nil, fmt.Errorf("render rate-limit configuration %q: %w", c.Name, err)
		}
		y, err := jsonToYAML(unitCase(js, strings.ToLower))
		if err != nil {
			return nil, fmt.Errorf("render rate-limit configuration %q: %w", c.Name, err)
		}
		out = append(out, File{Path: RateLimitFile(c.Name), Data: y})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func fileEntries(files []File) []FileEntry {
	out := make([]FileEntry, len(files))
	for i, f := range files {
		out[i] = FileEntry{Path: f.Path, SHA256: sum(f.Data), Size: len(f.Data)}
	}
	return out
}

// digestOf hashes the resource index (sorted by type and name), the
// hashes of the two bootstraps and of the other files (rate-limit
// configurations, sorted by path): everything the xDS files say except the
// digest itself. A bundle without other files hashes as it always did.
func digestOf(gateway string, entries []ResourceEntry, staticSum, dynamicSum string, others []FileEntry) string {
	var idx strings.Builder
	// The gateway's name is part of what the digest vouches for: push and
	// render name targets and labels after it.
	fmt.Fprintf(&idx, "gateway %s\n", gateway)
	for _, e := range entries {
		fmt.Fprintf(&idx, "resource %s %s %s\n", e.Type, e.Name, e.SHA256)
	}
	fmt.Fprintf(&idx, "file %s %s\n", StaticBootstrapFile, staticSum)
	fmt.Fprintf(&idx, "file %s %s\n", FilesBootstrapFile, dynamicSum)
	for _, f := range others {
		fmt.Fprintf(&idx, "file %s %s\n", f.Path, f.SHA256)
	}
	return "sha256:" + sum([]byte(idx.String()))
}
