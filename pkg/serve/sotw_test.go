package serve

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// exampleVersion builds what serve serves for examples/acme's first
// gateway.
func exampleVersion(t testing.TB) *version {
	t.Helper()
	res := compileDir(t, "../../examples/acme")
	b := res.Bundles[0]
	v, err := buildVersion(&Gateway{Name: b.Gateway, NodeCluster: b.Manifest.Node.Cluster, Digest: b.Digest, Resources: res.Resources[0]})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// resourceNames names the resources a response holds, in its order.
func resourceNames(t testing.TB, resp *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range resp.GetResources() {
		m, err := anypb.UnmarshalNew(a, proto.UnmarshalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cachev3.GetResourceName(m))
	}
	return out
}

// sortedByName is resp with its resources sorted by name.
func sortedByName(t testing.TB, resp *discoveryv3.DiscoveryResponse) *discoveryv3.DiscoveryResponse {
	t.Helper()
	out := proto.Clone(resp).(*discoveryv3.DiscoveryResponse)
	names := resourceNames(t, out)
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	out.Resources = nil
	for _, i := range idx {
		out.Resources = append(out.Resources, resp.Resources[i])
	}
	return out
}

// returnedNames expands allSent into the names of the type.
func returnedNames(returned map[string]string, all []string) map[string]string {
	v, ok := returned[allSent]
	if !ok {
		return returned
	}
	out := map[string]string{}
	for _, n := range all {
		out[n] = v
	}
	return out
}

func receive(t testing.TB, ch chan cachev3.Response) cachev3.Response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	default:
		t.Fatal("no response")
		return nil
	}
}

// TestSharedResponsesOnTheWire holds a shared response, as the codec sends
// it, to the response go-control-plane's snapshot cache makes for the same
// snapshot and request, as gRPC sends it: the same bytes once the snapshot
// cache's map order is sorted away, the same version, the same resources
// returned, for each flavour, type and kind of request.
func TestSharedResponsesOnTheWire(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	for _, flavour := range []struct {
		name string
		snap *cachev3.Snapshot
		node *corev3.Node
	}{
		{"envoy", v.envoy, &corev3.Node{Id: "e", Cluster: v.nodeCluster, UserAgentName: "envoy"}},
		{"grpc", v.proxyless, &corev3.Node{Id: "g", Cluster: v.nodeCluster, UserAgentName: "gRPC Go"}},
	} {
		key := nodeHash{}.ID(flavour.node)
		old := cachev3.NewSnapshotCache(true, nodeHash{}, nil)
		codec := newSOTWCodec()
		shared := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, codec)
		for _, c := range []cachev3.SnapshotCache{old, shared} {
			if err := c.SetSnapshot(context.Background(), key, flavour.snap); err != nil {
				t.Fatal(err)
			}
		}
		for _, typ := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.SecretType} {
			all := slices.Sorted(maps.Keys(flavour.snap.GetResources(typ)))
			if len(all) == 0 {
				continue
			}
			reversed := slices.Clone(all)
			slices.Reverse(reversed)
			for _, req := range []struct {
				name  string
				names []string
			}{
				{"every resource", nil},
				{"each by name", reversed},
				{"each by name and more", append(slices.Clone(all), "not-there", all[0])},
			} {
				t.Run(fmt.Sprintf("%s/%s/%s", flavour.name, typeLabel(typ), req.name), func(t *testing.T) {
					r := &discoveryv3.DiscoveryRequest{Node: flavour.node, TypeUrl: typ, ResourceNames: req.names}
					var got [2]cachev3.Response
					for i, c := range []cachev3.SnapshotCache{old, shared} {
						ch := make(chan cachev3.Response, 1)
						if _, err := c.CreateWatch(r, streamv3.NewSotwSubscription(req.names, true), ch); err != nil {
							t.Fatal(err)
						}
						got[i] = receive(t, ch)
					}
					want, err := got[0].GetDiscoveryResponse()
					if err != nil {
						t.Fatal(err)
					}
					want = sortedByName(t, want)
					want.Nonce = "42"
					wantBytes, err := proto.Marshal(want)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := got[1].GetDiscoveryResponse()
					if err != nil {
						t.Fatal(err)
					}
					resp.Nonce = "42" // as the server sets it
					if codec.encoding(resp) == nil {
						t.Fatal("the response is not sent as a shared encoding")
					}
					enc, err := codec.Marshal(resp)
					if err != nil {
						t.Fatal(err)
					}
					if b := enc.Materialize(); string(b) != string(wantBytes) {
						t.Errorf("on the wire: %d bytes, want %d bytes (the snapshot cache's response)", len(b), len(wantBytes))
					}
					if direct, _ := proto.Marshal(resp); string(direct) != string(wantBytes) {
						t.Errorf("the message itself encodes differently")
					}
					if g, w := got[1].GetResponseVersion(), got[0].GetResponseVersion(); g != w || g != v.digest {
						t.Errorf("version %q, want %q", g, w)
					}
					if g, w := returnedNames(got[1].GetReturnedResources(), all), got[0].GetReturnedResources(); !maps.Equal(g, w) {
						t.Errorf("returned resources %v, want %v", g, w)
					}
					if got[1].GetRequest() != r {
						t.Error("the response does not carry its request")
					}
				})
			}
		}
	}
}

// oldNACKGuard is the guard as it wrapped go-control-plane's snapshot
// cache before SotW responses were shared: the reference for the watch
// behaviour sotwCache keeps.
type oldNACKGuard struct{ cachev3.SnapshotCache }

func (g oldNACKGuard) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	if req.GetErrorDetail() != nil {
		if snap, err := g.GetSnapshot(nodeHash{}.ID(req.GetNode())); err == nil {
			if v := snap.GetVersion(req.GetTypeUrl()); sentAt(sub.ReturnedResources(), v) {
				up := proto.Clone(req).(*cachev3.Request)
				up.VersionInfo = v
				req = up
			}
		}
	}
	return g.SnapshotCache.CreateWatch(req, sub, ch)
}

// sotwClient drives a cache as go-control-plane's SotW server does for one
// ADS stream: a subscription and a watch per type, the subscription updated
// with each request and response.
type sotwClient struct {
	t       *testing.T
	c       cachev3.SnapshotCache
	node    *corev3.Node
	ch      chan cachev3.Response
	subs    map[string]*streamv3.Subscription
	cancels map[string]func()
	got     []string // what was sent, one line a response
}

func newSOTWClient(t *testing.T, c cachev3.SnapshotCache, id string) *sotwClient {
	return &sotwClient{t: t, c: c, node: &corev3.Node{Id: id, Cluster: "edge", UserAgentName: "envoy"},
		ch: make(chan cachev3.Response, 16), subs: map[string]*streamv3.Subscription{}, cancels: map[string]func(){}}
}

// request sends a request, as the server passes it to the cache.
func (s *sotwClient) request(typ, version string, names []string, nack bool) {
	s.t.Helper()
	req := &discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: typ, VersionInfo: version, ResourceNames: names}
	if nack {
		req.ErrorDetail = &statuspb.Status{Message: "rejected"}
	}
	sub := s.subs[typ]
	if sub == nil {
		n := streamv3.NewSotwSubscription(names, true)
		sub = &n
		s.subs[typ] = sub
	} else {
		s.cancels[typ]()
		sub.SetResourceSubscription(names)
	}
	cancel, err := s.c.CreateWatch(req, *sub, s.ch)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cancels[typ] = cancel
	s.drain()
}

// drain takes the responses the cache has sent, as the server sends them.
func (s *sotwClient) drain() {
	s.t.Helper()
	for {
		select {
		case r := <-s.ch:
			resp, err := r.GetDiscoveryResponse()
			if err != nil {
				s.t.Fatal(err)
			}
			typ := r.GetRequest().GetTypeUrl()
			s.subs[typ].SetReturnedResources(r.GetReturnedResources())
			names := resourceNames(s.t, resp)
			slices.Sort(names)
			s.got = append(s.got, fmt.Sprintf("%s %s %v", typeLabel(typ), resp.GetVersionInfo()[:15], names))
		default:
			return
		}
	}
}

// TestSOTWWatches runs the same streams against go-control-plane's
// snapshot cache (with the NACK guard as it was) and against sotwCache: at
// each step the streams are sent the same responses, in the same order.
func TestSOTWWatches(t *testing.T) {
	t.Parallel()
	v1 := exampleVersion(t)
	res := compileFiles(t, edgeRepo(map[string]string{"a": "5s", "b": "1s"}))
	b := res.Bundles[0]
	v2, err := buildVersion(&Gateway{Name: b.Gateway, NodeCluster: b.Manifest.Node.Cluster, Digest: b.Digest, Resources: res.Resources[0]})
	if err != nil {
		t.Fatal(err)
	}
	routes := func(v *version) []string { return slices.Sorted(maps.Keys(v.envoy.GetResources(resourcev3.RouteType))) }
	key := snapshotKey(envoyFlavour, "edge")
	type step struct {
		name string
		do   func(set func(*version), a, b *sotwClient)
	}
	steps := []step{
		{"watches before any snapshot", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.ListenerType, "", nil, false)
			a.request(resourcev3.ClusterType, "", nil, false)
			b.request(resourcev3.ClusterType, "", nil, false)
		}},
		{"the first version answers them by type", func(set func(*version), a, b *sotwClient) { set(v1) }},
		{"ACKs wait", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.ListenerType, v1.digest, nil, false)
			a.request(resourcev3.ClusterType, v1.digest, nil, false)
			b.request(resourcev3.ClusterType, v1.digest, nil, false)
		}},
		{"route configurations named in part wait", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.RouteType, "", routes(v1)[:1], false)
		}},
		{"all of them named are answered", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.RouteType, "", append(routes(v1), "unknown"), false)
		}},
		{"a NACK of the version held waits", func(_ func(*version), a, b *sotwClient) {
			b.request(resourcev3.ClusterType, "", nil, true)
			a.request(resourcev3.RouteType, "", append(routes(v1), "unknown"), true)
		}},
		{"a new stream gets the version held", func(_ func(*version), a, b *sotwClient) {
			b.request(resourcev3.SecretType, "", nil, false)
			b.request(resourcev3.EndpointType, "", nil, false)
		}},
		{"a new version answers every watch", func(set func(*version), a, b *sotwClient) { set(v2) }},
		{"a NACK of the new version held waits", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.ListenerType, v1.digest, nil, true)
		}},
		{"a NACK of an older version gets the current one", func(_ func(*version), a, b *sotwClient) {
			b.request(resourcev3.SecretType, "", nil, true) // b was sent the first version's, and had no watch since
		}},
		{"the same version again answers nothing", func(set func(*version), a, b *sotwClient) {
			a.request(resourcev3.ClusterType, v2.digest, nil, false)
			set(v2)
		}},
		{"the names sent asked again", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.RouteType, v2.digest, routes(v2), false)
		}},
		{"a reconnecting stream names the version it had", func(_ func(*version), a, b *sotwClient) {
			b.subs, b.cancels = map[string]*streamv3.Subscription{}, map[string]func(){}
			b.request(resourcev3.ClusterType, v2.digest, nil, false)
		}},
		{"back to the first version", func(set func(*version), a, b *sotwClient) { set(v1) }},
		{"names narrowed, then widened at the same version", func(_ func(*version), a, b *sotwClient) {
			a.request(resourcev3.RouteType, v1.digest, routes(v1)[:1], false)
			a.request(resourcev3.RouteType, v1.digest, routes(v1), false)
			a.request(resourcev3.RouteType, v1.digest, routes(v1), false)
		}},
	}
	var got [2][][2][]string
	for i, c := range []cachev3.SnapshotCache{
		oldNACKGuard{cachev3.NewSnapshotCache(true, nodeHash{}, nil)},
		newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, newSOTWCodec()),
	} {
		a, b := newSOTWClient(t, c, "a"), newSOTWClient(t, c, "b")
		set := func(v *version) {
			if err := c.SetSnapshot(context.Background(), key, v.envoy); err != nil {
				t.Fatal(err)
			}
			a.drain()
			b.drain()
		}
		for _, st := range steps {
			a.got, b.got = nil, nil
			st.do(set, a, b)
			got[i] = append(got[i], [2][]string{a.got, b.got})
		}
	}
	for i, st := range steps {
		if !slices.Equal(got[1][i][0], got[0][i][0]) || !slices.Equal(got[1][i][1], got[0][i][1]) {
			t.Errorf("%s: sent\n  a: %q\n  b: %q\nwant (the snapshot cache)\n  a: %q\n  b: %q", st.name,
				got[1][i][0], got[1][i][1], got[0][i][0], got[0][i][1])
		}
	}
	// The steps do what they say.
	for i, want := range []int{0, 3, 0, 0, 1, 0, 1, 4, 0, 1, 0, 0, 1, 2, 1} {
		if n := len(slices.Concat(got[1][i][0], got[1][i][1])); n != want {
			t.Errorf("%s: %d responses, want %d", steps[i].name, n, want)
		}
	}
}

// TestWildcardThenNames: a stream sent every resource of a type that then
// names them is sent them once more (sotwCache records "every resource"
// as one entry, which the server drops when the stream names resources),
// and then waits.
func TestWildcardThenNames(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	c := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, newSOTWCodec())
	if err := c.SetSnapshot(context.Background(), snapshotKey(envoyFlavour, "edge"), v.envoy); err != nil {
		t.Fatal(err)
	}
	clusters := slices.Sorted(maps.Keys(v.envoy.GetResources(resourcev3.ClusterType)))
	a := newSOTWClient(t, c, "a")
	a.request(resourcev3.ClusterType, "", nil, false)
	a.request(resourcev3.ClusterType, v.digest, nil, false)
	a.request(resourcev3.ClusterType, v.digest, clusters, false)
	a.request(resourcev3.ClusterType, v.digest, clusters, false)
	want := fmt.Sprintf("cluster %s %v", v.digest[:15], clusters)
	if !slices.Equal(a.got, []string{want, want}) {
		t.Errorf("sent %q, want %q twice", a.got, want)
	}
}

// TestSharedAcrossStreams: streams asking for the same resources are sent
// the same encoding, once; a response of a version replaced since is still
// sent whole, encoded as gRPC would.
func TestSharedAcrossStreams(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	codec := newSOTWCodec()
	c := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, codec)
	key := snapshotKey(envoyFlavour, v.nodeCluster)
	if err := c.SetSnapshot(context.Background(), key, v.envoy); err != nil {
		t.Fatal(err)
	}
	var first []byte
	var resps []*discoveryv3.DiscoveryResponse
	for i := range 3 {
		node := &corev3.Node{Id: fmt.Sprint(i), Cluster: v.nodeCluster}
		ch := make(chan cachev3.Response, 1)
		if _, err := c.CreateWatch(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}, streamv3.NewSotwSubscription(nil, true), ch); err != nil {
			t.Fatal(err)
		}
		resp, err := receive(t, ch).GetDiscoveryResponse()
		if err != nil {
			t.Fatal(err)
		}
		resp.Nonce = fmt.Sprint(i + 1)
		enc, err := codec.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = enc[0].ReadOnlyData()
		} else if &enc[0].ReadOnlyData()[0] != &first[0] {
			t.Errorf("stream %d is sent an encoding of its own", i)
		}
		resps = append(resps, resp)
	}
	if resps[0] == resps[1] {
		t.Error("two streams share a DiscoveryResponse: the server sets its nonce")
	}

	// A new version: the old responses are no longer shared, and still
	// encode whole.
	other := compileFiles(t, edgeRepo(map[string]string{"a": "5s"})).Bundles[0]
	r, err := other.Resources()
	if err != nil {
		t.Fatal(err)
	}
	v2, err := buildVersion(&Gateway{Name: other.Gateway, NodeCluster: v.nodeCluster, Digest: other.Digest, Resources: r})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSnapshot(context.Background(), key, v2.envoy); err != nil {
		t.Fatal(err)
	}
	if codec.encoding(resps[0]) != nil {
		t.Error("a replaced version is still shared")
	}
	enc, err := codec.Marshal(resps[0])
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := proto.Marshal(resps[0]); string(enc.Materialize()) != string(want) {
		t.Error("a response of a replaced version encodes differently")
	}
}

// TestCodecFallsBack: a message that is not exactly a shared response's is
// encoded by gRPC's codec.
func TestCodecFallsBack(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	codec := newSOTWCodec()
	c := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, codec)
	if err := c.SetSnapshot(context.Background(), snapshotKey(envoyFlavour, v.nodeCluster), v.envoy); err != nil {
		t.Fatal(err)
	}
	ch := make(chan cachev3.Response, 1)
	node := &corev3.Node{Cluster: v.nodeCluster}
	if _, err := c.CreateWatch(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}, streamv3.NewSotwSubscription(nil, true), ch); err != nil {
		t.Fatal(err)
	}
	shared, err := receive(t, ch).GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*discoveryv3.DiscoveryResponse)
	}{
		{"another version", func(m *discoveryv3.DiscoveryResponse) { m.VersionInfo = "other" }},
		{"another type", func(m *discoveryv3.DiscoveryResponse) { m.TypeUrl = resourcev3.ListenerType }},
		{"canary", func(m *discoveryv3.DiscoveryResponse) { m.Canary = true }},
		{"control plane", func(m *discoveryv3.DiscoveryResponse) { m.ControlPlane = &corev3.ControlPlane{Identifier: "x"} }},
		{"fewer resources", func(m *discoveryv3.DiscoveryResponse) { m.Resources = m.Resources[:1] }},
		{"resources of its own", func(m *discoveryv3.DiscoveryResponse) { m.Resources = slices.Clone(m.Resources) }},
		{"no resources", func(m *discoveryv3.DiscoveryResponse) { m.Resources = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &discoveryv3.DiscoveryResponse{VersionInfo: shared.VersionInfo, Resources: shared.Resources, TypeUrl: shared.TypeUrl, Nonce: "1"}
			tt.change(m)
			if codec.encoding(m) != nil {
				t.Fatal("taken for the shared response")
			}
			enc, err := codec.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := proto.Marshal(m); string(enc.Materialize()) != string(want) {
				t.Error("encoded differently from gRPC's codec")
			}
		})
	}
}

// TestResponsesBounded: a client cannot make a version keep more than
// maxResponses responses of a type; each further set of names is still
// answered.
func TestResponsesBounded(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	c := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, newSOTWCodec())
	key := snapshotKey(envoyFlavour, v.nodeCluster)
	if err := c.SetSnapshot(context.Background(), key, v.envoy); err != nil {
		t.Fatal(err)
	}
	routes := slices.Sorted(maps.Keys(v.envoy.GetResources(resourcev3.RouteType)))
	for i := range maxResponses + 10 {
		names := append(slices.Clone(routes), fmt.Sprintf("extra-%d", i))
		ch := make(chan cachev3.Response, 1)
		req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Cluster: v.nodeCluster}, TypeUrl: resourcev3.RouteType, ResourceNames: names}
		if _, err := c.CreateWatch(req, streamv3.NewSotwSubscription(names, true), ch); err != nil {
			t.Fatal(err)
		}
		resp, err := receive(t, ch).GetDiscoveryResponse()
		if err != nil {
			t.Fatal(err)
		}
		if got := resourceNames(t, resp); !slices.Equal(got, routes) {
			t.Fatalf("request %d: sent %v, want %v", i, got, routes)
		}
	}
	if n := len(c.nodes[key].snap.types[resourcev3.RouteType].responses); n != maxResponses {
		t.Errorf("%d responses kept, want %d", n, maxResponses)
	}
}

// TestTypesKeptAcrossSnapshots: a snapshot that changes one type (as
// Kubernetes endpoints do) keeps the other types' responses and their
// shared encodings; a type whose version is the same but whose resources
// are not is encoded anew.
func TestTypesKeptAcrossSnapshots(t *testing.T) {
	t.Parallel()
	v := exampleVersion(t)
	codec := newSOTWCodec()
	c := newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, codec)
	key := snapshotKey(envoyFlavour, v.nodeCluster)
	if err := c.SetSnapshot(context.Background(), key, v.envoy); err != nil {
		t.Fatal(err)
	}
	watch := func(typ string) *discoveryv3.DiscoveryResponse {
		t.Helper()
		ch := make(chan cachev3.Response, 1)
		req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Cluster: v.nodeCluster}, TypeUrl: typ}
		if _, err := c.CreateWatch(req, streamv3.NewSotwSubscription(nil, true), ch); err != nil {
			t.Fatal(err)
		}
		resp, err := receive(t, ch).GetDiscoveryResponse()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	listeners, clusters := watch(resourcev3.ListenerType), watch(resourcev3.ClusterType)

	// New endpoints: every other type is the same.
	eds := &cachev3.Snapshot{Resources: v.envoy.Resources}
	eds.Resources[types.Endpoint] = cachev3.NewResources("endpoints-2", []types.Resource{&endpointv3.ClusterLoadAssignment{ClusterName: "x"}})
	if err := c.SetSnapshot(context.Background(), key, eds); err != nil {
		t.Fatal(err)
	}
	if codec.encoding(listeners) == nil || codec.encoding(clusters) == nil {
		t.Error("a type the new snapshot keeps is no longer shared")
	}
	if got := watch(resourcev3.ListenerType); &got.Resources[0] != &listeners.Resources[0] {
		t.Error("a type the new snapshot keeps was encoded anew")
	}
	if got := resourceNames(t, watch(resourcev3.EndpointType)); !slices.Equal(got, []string{"x"}) {
		t.Errorf("endpoints %v, want [x]", got)
	}

	// The same version of the clusters, but one of them another message.
	other := &cachev3.Snapshot{Resources: eds.Resources}
	items := maps.Clone(other.Resources[types.Cluster].Items)
	name := slices.Sorted(maps.Keys(items))[0]
	changed := proto.Clone(items[name].Resource).(*clusterv3.Cluster)
	changed.ConnectTimeout = durationpb.New(42e9)
	items[name] = types.ResourceWithTTL{Resource: changed}
	other.Resources[types.Cluster] = cachev3.Resources{Version: other.Resources[types.Cluster].Version, Items: items}
	if err := c.SetSnapshot(context.Background(), key, other); err != nil {
		t.Fatal(err)
	}
	if codec.encoding(clusters) != nil {
		t.Error("clusters whose resources changed are still shared")
	}
	got := watch(resourcev3.ClusterType)
	want, _ := cachev3.MarshalResource(changed)
	if string(got.Resources[0].Value) != string(want) {
		t.Error("the changed cluster is sent as it was")
	}
}
