package main

import (
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestLiteCodec reads responses split into buffers at every size, as
// gRPC may receive them.
func TestLiteCodec(t *testing.T) {
	t.Parallel()
	listener := &listenerv3.Listener{Name: "http", StatPrefix: "x"}
	lb, _ := proto.Marshal(listener)
	tests := []struct {
		typ       string
		resources []proto.Message
		names     []string
	}{
		{resourcev3.ClusterType, []proto.Message{
			&clusterv3.Cluster{Name: "a", ConnectTimeout: durationpb.New(5e9)},
			&clusterv3.Cluster{},
			&clusterv3.Cluster{Name: "b"},
		}, nil}, // the names of clusters are not read
		{resourcev3.ListenerType, []proto.Message{listener}, nil},
		{resourcev3.RouteType, []proto.Message{
			&routev3.RouteConfiguration{Name: "https", VirtualHosts: []*routev3.VirtualHost{{Name: "a", Domains: []string{"a.example"}}}},
			&routev3.RouteConfiguration{}, // an Any without a value: no name read
			&routev3.RouteConfiguration{Name: strings.Repeat("long", 40)},
		}, []string{"https", strings.Repeat("long", 40)}},
		{resourcev3.RouteType, nil, nil},
	}
	for _, tt := range tests {
		b := encodeResponse(t, &discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: tt.typ, Nonce: "7", Canary: true}, tt.resources...)
		for size := 1; size <= len(b); size++ {
			var data mem.BufferSlice
			for rest := b; len(rest) > 0; rest = rest[min(size, len(rest)):] {
				data = append(data, mem.SliceBuffer(rest[:min(size, len(rest))]))
			}
			got := &liteResponse{}
			if err := (liteCodec{}).Unmarshal(data, got); err != nil {
				t.Fatalf("%s, buffers of %d bytes: %v", tt.typ, size, err)
			}
			if got.version != "v1" || got.typeURL != tt.typ || got.nonce != "7" || got.size != len(b) || !slices.Equal(got.names, tt.names) {
				t.Fatalf("%s, buffers of %d bytes: read %+v", tt.typ, size, got)
			}
			if tt.typ == resourcev3.ListenerType && (len(got.listeners) != 1 || string(got.listeners[0]) != string(lb)) {
				t.Fatalf("%s, buffers of %d bytes: listeners %q", tt.typ, size, got.listeners)
			}
		}
		// A message cut anywhere reads without a panic; one cut inside a
		// field (the nonce, written last) is an error.
		for cut := 1; cut < len(b); cut++ {
			data := mem.BufferSlice{mem.SliceBuffer(b[:cut/2]), mem.SliceBuffer(b[cut/2 : cut])}
			err := (liteCodec{}).Unmarshal(data, &liteResponse{})
			if cut == len(b)-1 && err == nil {
				t.Fatalf("%s cut at %d of %d bytes: no error", tt.typ, cut, len(b))
			}
		}
	}
}

// TestLiteCodecKnownListeners: the listeners of a version whose route
// names are known are not copied.
func TestLiteCodecKnownListeners(t *testing.T) {
	b := encodeResponse(t, &discoveryv3.DiscoveryResponse{VersionInfo: "known-version", TypeUrl: resourcev3.ListenerType}, &listenerv3.Listener{Name: "http"})
	read := func() *liteResponse {
		got := &liteResponse{}
		if err := (liteCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); len(got.listeners) != 1 {
		t.Fatalf("an unknown version: %d listeners read", len(got.listeners))
	}
	if _, err := routeNames("known-version", nil); err != nil {
		t.Fatal(err)
	}
	if got := read(); len(got.listeners) != 0 {
		t.Fatalf("a known version: %d listeners read", len(got.listeners))
	}
}

// encodeResponse encodes msg with the resources in it.
func encodeResponse(t *testing.T, msg *discoveryv3.DiscoveryResponse, resources ...proto.Message) []byte {
	t.Helper()
	for _, r := range resources {
		a, err := anypb.New(r)
		if err != nil {
			t.Fatal(err)
		}
		msg.Resources = append(msg.Resources, a)
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
