package serve

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"

	"github.com/edgectl/edgectl/internal/genrepo"
)

// generatedVersion builds what serve serves for a generated repository.
func generatedVersion(b *testing.B, routes int, seed uint64) *version {
	b.Helper()
	dir := b.TempDir()
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: routes, Seed: seed}); err != nil {
		b.Fatal(err)
	}
	res := compileDir(b, dir)
	bd := res.Bundles[0]
	v, err := buildVersion(&Gateway{Name: bd.Gateway, NodeCluster: bd.Manifest.Node.Cluster, Digest: bd.Digest, Resources: res.Resources[0]})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkSOTWPush is a new version reaching SotW streams subscribed as
// Envoy is (listeners and clusters, then the route configurations by
// name), up to the bytes handed to each stream's transport: the snapshot
// set, every response made and encoded with the codec the gRPC server
// uses, and every stream's ACK taken. go-control-plane's snapshot cache
// with gRPC's codec, as served before, is the reference.
//
//	go test ./pkg/serve -run '^$' -bench SOTWPush -benchtime 3x -benchmem
func BenchmarkSOTWPush(b *testing.B) {
	versions := [2]*version{generatedVersion(b, 10_000, 1), generatedVersion(b, 10_000, 2)}
	routes := slices.Sorted(maps.Keys(versions[0].envoy.GetResources(resourcev3.RouteType)))
	if !slices.Equal(routes, slices.Sorted(maps.Keys(versions[1].envoy.GetResources(resourcev3.RouteType)))) {
		b.Fatal("the versions name different route configurations")
	}
	for _, streams := range []int{100} {
		for _, bc := range []struct {
			name  string
			cache func() cachev3.SnapshotCache
			codec encoding.CodecV2
		}{
			{"shared", func() cachev3.SnapshotCache {
				codec := newSOTWCodec()
				return newSOTWCache(cachev3.NewSnapshotCache(true, nodeHash{}, nil), nodeHash{}, codec)
			}, nil},
			{"go-control-plane", func() cachev3.SnapshotCache { return cachev3.NewSnapshotCache(true, nodeHash{}, nil) }, encoding.GetCodecV2(grpcproto.Name)},
		} {
			b.Run(fmt.Sprintf("streams=%d/cache=%s", streams, bc.name), func(b *testing.B) {
				c := bc.cache()
				codec := bc.codec
				if sc, ok := c.(*sotwCache); ok {
					codec = sc.codec
				}
				key := snapshotKey(envoyFlavour, versions[0].nodeCluster)
				type stream struct {
					node *corev3.Node
					subs map[string]*streamv3.Subscription
				}
				ss := make([]*stream, streams)
				ch := make(chan cachev3.Response, 3*streams)
				watch := func(s *stream, typ, version string) {
					names := []string(nil)
					if typ == resourcev3.RouteType {
						names = routes
					}
					sub := s.subs[typ]
					if sub == nil {
						n := streamv3.NewSotwSubscription(names, true)
						sub = &n
						s.subs[typ] = sub
					}
					req := &discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: typ, VersionInfo: version, ResourceNames: names}
					if _, err := c.CreateWatch(req, *sub, ch); err != nil {
						b.Fatal(err)
					}
				}
				for i := range ss {
					ss[i] = &stream{node: &corev3.Node{Id: strconv.Itoa(i), Cluster: versions[0].nodeCluster}, subs: map[string]*streamv3.Subscription{}}
					for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType} {
						watch(ss[i], typ, "")
					}
				}
				var sent int64
				n := 0
				for b.Loop() {
					v := versions[n%2]
					n++
					if err := c.SetSnapshot(context.Background(), key, v.envoy); err != nil {
						b.Fatal(err)
					}
					for range 3 * streams {
						r := <-ch
						resp, err := r.GetDiscoveryResponse()
						if err != nil {
							b.Fatal(err)
						}
						resp.Nonce = strconv.Itoa(n)
						enc, err := codec.Marshal(resp)
						if err != nil {
							b.Fatal(err)
						}
						sent += int64(enc.Len())
						enc.Free()
						s := ss[mustAtoi(b, r.GetRequest().GetNode().GetId())]
						typ := r.GetRequest().GetTypeUrl()
						s.subs[typ].SetReturnedResources(r.GetReturnedResources())
						watch(s, typ, v.digest)
					}
				}
				b.ReportMetric(float64(sent)/float64(n)/1e6, "MB-sent/op")
			})
		}
	}
}

func mustAtoi(b *testing.B, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkBuildVersion is setting a version up to serve it, after its
// bundle is read: a 10,000-route gateway's resources rewritten into ADS
// form, checked, made into proxyless gRPC's form and encoded, as serve
// does for every new version before the first response goes out.
//
//	go test ./pkg/serve -run '^$' -bench BuildVersion -benchtime 10x -benchmem
func BenchmarkBuildVersion(b *testing.B) {
	dir := b.TempDir()
	if _, err := genrepo.Write(dir, genrepo.Options{Routes: 10_000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	res := compileDir(b, dir)
	bd := res.Bundles[0]
	g := &Gateway{Name: bd.Gateway, NodeCluster: bd.Manifest.Node.Cluster, Digest: bd.Digest, Resources: res.Resources[0]}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildVersion(g); err != nil {
			b.Fatal(err)
		}
	}
}
