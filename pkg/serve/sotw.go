package serve

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwCache answers state-of-the-world watches with responses built once
// per version and shared by every stream that asks for the same resources;
// delta watches go to the go-control-plane snapshot cache it wraps, which
// is given every snapshot too.
//
// go-control-plane's own snapshot cache builds a response per stream: it
// wraps every resource anew for each (a closure and a lazy encoding per
// resource, under the cache's lock), the response encodes each resource
// into an Any again, and gRPC encodes the whole message again. A
// 10,000-route version sent to a thousand Envoys was a thousand of each,
// and a thousand 1.5 MB copies waiting in gRPC's buffers at once. Here a
// version's resources are encoded into Anys once when it is set, a
// response is one per type and set of names asked for, and its encoding
// (sotwCodec) is made once and handed to every stream's transport as is.
//
// Which watch is answered, when, and with what is the snapshot cache's
// rule, kept here: a watch whose version differs from the snapshot's, or
// that asks for a resource the snapshot has and the stream was not sent, is
// answered at once, otherwise when a snapshot of another version is set;
// a request naming resources is answered only when it names every resource
// of its type in the snapshot (ADS: Envoy asks for all the route
// configurations its listeners name), with those it names; answers to one
// stream go in the order of go-control-plane's response types
// (TestSOTWWatches runs both side by side). What differs: resources go out
// sorted by name (the snapshot cache sends them in map order, so no two
// responses agreed on it); the NACK guard is built in (nackGuard); and a
// stream that asked for every resource of a type and then names them is
// sent them once more (allSent).
type sotwCache struct {
	cachev3.SnapshotCache // delta watches; the snapshots as set
	hash                  cachev3.NodeHash
	codec                 *sotwCodec

	setMu sync.Mutex // one snapshot is set at a time, in both caches alike

	mu     sync.Mutex
	nodes  map[string]*sotwNode // by node hash
	lastID int64
}

type sotwNode struct {
	snap    *sharedSnapshot // nil until one is set
	watches map[int64]*sotwWatch
}

// sotwWatch is a request waiting for a version other than the one it has.
type sotwWatch struct {
	req     *cachev3.Request
	version string // the version the stream has: the request's, or the NACK guard's
	ch      chan cachev3.Response
}

func newSOTWCache(inner cachev3.SnapshotCache, hash cachev3.NodeHash, codec *sotwCodec) *sotwCache {
	return &sotwCache{SnapshotCache: inner, hash: hash, codec: codec, nodes: map[string]*sotwNode{}}
}

func (c *sotwCache) node(key string) *sotwNode {
	n := c.nodes[key]
	if n == nil {
		n = &sotwNode{watches: map[int64]*sotwWatch{}}
		c.nodes[key] = n
	}
	return n
}

// SetSnapshot serves snap to the node's clients: its resources are
// encoded once, the delta watches are answered by the snapshot cache, and
// every SotW watch of another version gets its shared response.
func (c *sotwCache) SetSnapshot(ctx context.Context, key string, snap cachev3.ResourceSnapshot) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	old := c.node(key).snap
	c.mu.Unlock()
	shared, err := shareSnapshot(snap, old)
	if err != nil {
		return err
	}
	if err := c.SnapshotCache.SetSnapshot(ctx, key, snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.node(key)
	if old != nil {
		// Responses of a type replaced that are still on their way are
		// encoded by gRPC as any message is.
		c.codec.forget(old, shared)
	}
	n.snap = shared
	ids := slices.SortedFunc(maps.Keys(n.watches), func(a, b int64) int {
		ta, tb := cachev3.GetResponseType(n.watches[a].req.GetTypeUrl()), cachev3.GetResponseType(n.watches[b].req.GetTypeUrl())
		return cmp.Or(cmp.Compare(ta, tb), cmp.Compare(a, b))
	})
	for _, id := range ids {
		w := n.watches[id]
		t := shared.get(w.req.GetTypeUrl())
		if t.version == w.version {
			continue
		}
		if err := c.respond(ctx, w, t); err != nil {
			return err
		}
		delete(n.watches, id)
	}
	return nil
}

// ClearSnapshot forgets the node's snapshot and watches, as the snapshot
// cache does.
func (c *sotwCache) ClearSnapshot(key string) {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.SnapshotCache.ClearSnapshot(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[key]; n != nil && n.snap != nil {
		c.codec.forget(n.snap, nil)
	}
	delete(c.nodes, key)
}

// CreateWatch answers req at once when the stream lacks something the
// snapshot has, and otherwise waits for another version.
func (c *sotwCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	key := c.hash.ID(req.GetNode())
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.node(key)
	w := &sotwWatch{req: req, version: req.GetVersionInfo(), ch: ch}
	if n.snap != nil {
		t := n.snap.get(req.GetTypeUrl())
		if nackGuard(req, sub, t.version) {
			w.version = t.version
		}
		if w.version != t.version || t.unsent(sub) {
			if err := c.respond(context.Background(), w, t); err != nil {
				return nil, fmt.Errorf("respond to %s: %w", req.GetTypeUrl(), err)
			}
			return func() {}, nil
		}
	}
	c.lastID++
	id := c.lastID
	n.watches[id] = w
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if n := c.nodes[key]; n != nil {
			delete(n.watches, id)
		}
	}, nil
}

// respond sends w the shared response of t to what it asks for, unless it
// names some resources of the type but not all: in ADS the snapshot cache
// leaves such a request unanswered until the client asks for them all.
func (c *sotwCache) respond(ctx context.Context, w *sotwWatch, t *sharedType) error {
	names := w.req.GetResourceNames()
	r := t.response(names, c.codec)
	if len(names) > 0 && len(r.resources) != len(t.names) {
		return nil
	}
	select {
	case w.ch <- &sotwResponse{req: w.req, shared: r, ctx: ctx}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sharedSnapshot is a snapshot's resources encoded for SotW responses,
// and those responses as they are asked for.
type sharedSnapshot struct {
	types map[string]*sharedType // by type URL
}

// sharedType is one type of a snapshot: its resources sorted by name, each
// encoded once into the Any every response carries.
type sharedType struct {
	typeURL, version string
	names            []string
	resources        []types.Resource // as set, by name
	anys             []*anypb.Any
	index            map[string]int

	// Built under the cache's lock; a client cannot make more than
	// maxResponses (any further set of names gets a response of its own).
	responses map[string]*sharedResponse // by responseKey
}

// maxResponses bounds the responses kept per type of a snapshot. Envoys of
// one gateway ask for the same route configurations, so one or two are
// kept; clients asking for many different sets still get their answers,
// each built for its stream.
const maxResponses = 64

// shareSnapshot encodes snap's resources. A type that is as it was in old
// (the same version and the very same resources: the types a change of
// Kubernetes endpoints leaves alone) is old's, with the responses already
// made for it.
func shareSnapshot(snap cachev3.ResourceSnapshot, old *sharedSnapshot) (*sharedSnapshot, error) {
	out := &sharedSnapshot{types: map[string]*sharedType{}}
	for rt := types.ResponseType(0); rt < types.UnknownType; rt++ {
		url, err := cachev3.GetResponseTypeURL(rt)
		if err != nil {
			return nil, err
		}
		items := snap.GetResourcesAndTTL(url)
		version := snap.GetVersion(url)
		if old != nil && old.types[url].holds(version, items) {
			out.types[url] = old.types[url]
			continue
		}
		t := &sharedType{typeURL: url, version: version, names: slices.Sorted(maps.Keys(items))}
		t.resources = make([]types.Resource, len(t.names))
		t.anys = make([]*anypb.Any, len(t.names))
		t.index = make(map[string]int, len(t.names))
		for i, name := range t.names {
			r := items[name]
			if r.TTL != nil {
				return nil, fmt.Errorf("resource %q: a TTL is not served", name)
			}
			b, err := cachev3.MarshalResource(r.Resource)
			if err != nil {
				return nil, fmt.Errorf("encode %q: %w", name, err)
			}
			t.resources[i] = r.Resource
			t.anys[i] = &anypb.Any{TypeUrl: url, Value: b}
			t.index[name] = i
		}
		out.types[url] = t
	}
	return out, nil
}

// holds reports whether t is version of exactly items, resource for
// resource (resources are never changed once set).
func (t *sharedType) holds(version string, items map[string]types.ResourceWithTTL) bool {
	if t == nil || t.version != version || len(t.names) != len(items) {
		return false
	}
	for i, name := range t.names {
		r, ok := items[name]
		if !ok || r.TTL != nil || r.Resource != t.resources[i] {
			return false
		}
	}
	return true
}

// get returns the type; a type the snapshot cannot hold has no version and
// no resources.
func (s *sharedSnapshot) get(typeURL string) *sharedType {
	if t := s.types[typeURL]; t != nil {
		return t
	}
	return &sharedType{typeURL: typeURL}
}

// unsent reports whether the stream was not sent a resource of the type
// that it asks for.
func (t *sharedType) unsent(sub cachev3.Subscription) bool {
	returned := sub.ReturnedResources()
	if sub.IsWildcard() {
		if v, ok := returned[allSent]; ok && v == t.version {
			return false
		}
		for _, name := range t.names {
			if _, ok := returned[name]; !ok {
				return true
			}
		}
		return false
	}
	for name := range sub.SubscribedResources() {
		if _, ok := returned[name]; !ok {
			if _, ok := t.index[name]; ok {
				return true
			}
		}
	}
	return false
}

// allSent, as the name of a returned resource, stands for every resource
// of the type at its version: what a stream that asked for no names in
// particular was sent. The snapshot cache lists each by name, a map per
// stream and response as large as the type (2,000 clusters: 75 kB, and a
// copy each time); this one is one entry. It is "*", the name xDS
// reserves for the wildcard, so no resource has it. The server drops it
// when the stream names resources instead (it keeps only those named), so
// such a stream is then sent what it names once more.
const allSent = "*"

// responseKey names a set of resource names: "" is every resource.
func responseKey(names []string) string {
	if len(names) == 0 {
		return ""
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(names)))
	return "\x00" + strings.Join(sorted, "\x00")
}

// response is the response to a request for names (none: every resource).
func (t *sharedType) response(names []string, codec *sotwCodec) *sharedResponse {
	key := responseKey(names)
	if r := t.responses[key]; r != nil {
		return r
	}
	r := &sharedResponse{version: t.version, typeURL: t.typeURL}
	if key == "" {
		r.resources = t.anys
		r.returned = map[string]string{}
		if len(t.anys) > 0 {
			r.returned[allSent] = t.version
		}
	} else {
		var idx []int // in the snapshot's order, by name
		for _, name := range strings.Split(key[1:], "\x00") {
			if i, ok := t.index[name]; ok {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx)
		r.resources = make([]*anypb.Any, len(idx))
		r.returned = make(map[string]string, len(idx))
		for j, i := range idx {
			r.resources[j] = t.anys[i]
			r.returned[t.names[i]] = t.version
		}
	}
	r.encoded = sync.OnceValues(r.encode)
	if len(t.responses) < maxResponses {
		if t.responses == nil {
			t.responses = map[string]*sharedResponse{}
		}
		t.responses[key] = r
		codec.share(r)
	}
	return r
}

// sharedResponse is a response every stream asking for the same resources
// of one version gets: each stream's DiscoveryResponse holds the same
// resources, and its encoding is shared.
type sharedResponse struct {
	version, typeURL string
	resources        []*anypb.Any
	returned         map[string]string // name (or allSent) → version: what a stream sent this has
	encoded          func() ([]byte, error)
}

// encode encodes the response without a nonce: a stream's response is
// these bytes and its nonce (field 5, after every field set here).
func (r *sharedResponse) encode() ([]byte, error) {
	return proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: r.version, Resources: r.resources, TypeUrl: r.typeURL})
}

// sotwResponse is one stream's response. The server sets the nonce in the
// DiscoveryResponse, so each stream has its own, made when it is sent; the
// resources in it are shared and never change.
type sotwResponse struct {
	req    *cachev3.Request
	shared *sharedResponse
	ctx    context.Context

	once     sync.Once
	out      *discoveryv3.DiscoveryResponse
	returned map[string]string
}

var _ cachev3.Response = (*sotwResponse)(nil)

func (r *sotwResponse) make() {
	r.once.Do(func() {
		s := r.shared
		r.out = &discoveryv3.DiscoveryResponse{VersionInfo: s.version, Resources: s.resources, TypeUrl: s.typeURL}
		// The server keeps it in the stream's subscription, which changes
		// it when the stream's names change: each stream has its own (the
		// size of the names it asked for, or one entry).
		r.returned = maps.Clone(s.returned)
	})
}

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	r.make()
	return r.out, nil
}

func (r *sotwResponse) GetReturnedResources() map[string]string {
	r.make()
	return r.returned
}

func (r *sotwResponse) GetRequest() *discoveryv3.DiscoveryRequest { return r.req }
func (r *sotwResponse) GetVersion() (string, error)               { return r.shared.version, nil }
func (r *sotwResponse) GetResponseVersion() string                { return r.shared.version }
func (r *sotwResponse) GetContext() context.Context               { return r.ctx }
