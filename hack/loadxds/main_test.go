package main

import (
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
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
		}, []string{"a", "b"}}, // an empty message is an Any without a value
		{resourcev3.ListenerType, []proto.Message{listener}, []string{"http"}},
		{resourcev3.RouteType, nil, nil},
	}
	for _, tt := range tests {
		msg := &discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: tt.typ, Nonce: "7", Canary: true}
		for _, r := range tt.resources {
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
	}
}
