package serve

import (
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwCodec is the xDS server's gRPC codec: gRPC's proto codec, except
// that a DiscoveryResponse made from a shared response (sotwCache) goes
// out as that response's one encoding followed by the stream's nonce,
// handed to the transport without a copy. gRPC's codec would encode the
// message into a buffer of its own per stream, and the buffers of a
// thousand streams wait in the transport together until their clients
// read them.
//
// The bytes are those gRPC's codec writes: protobuf encodes the fields in
// the order of their numbers, and the nonce (5) comes after every field a
// shared response sets (1, 2, 4); no other field may be set. A message is
// taken for a shared response's only when it holds that response's very
// resources slice, so a response of a version no longer shared, or a
// message built otherwise, is encoded as gRPC would.
type sotwCodec struct {
	proto encoding.CodecV2

	mu     sync.RWMutex
	shared map[**anypb.Any]*sharedResponse // by the first element of its resources
}

func newSOTWCodec() *sotwCodec {
	return &sotwCodec{proto: encoding.GetCodecV2(grpcproto.Name), shared: map[**anypb.Any]*sharedResponse{}}
}

func (c *sotwCodec) Name() string { return grpcproto.Name }

func (c *sotwCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c *sotwCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*discoveryv3.DiscoveryResponse); ok {
		if b := c.encoding(m); b != nil {
			out := mem.BufferSlice{mem.SliceBuffer(b)}
			if m.Nonce != "" {
				nonce := protowire.AppendTag(nil, 5, protowire.BytesType)
				out = append(out, mem.SliceBuffer(protowire.AppendString(nonce, m.Nonce)))
			}
			return out, nil
		}
	}
	return c.proto.Marshal(v)
}

// encoding is the shared encoding of m without its nonce, or nil.
func (c *sotwCodec) encoding(m *discoveryv3.DiscoveryResponse) []byte {
	if len(m.Resources) == 0 || m.Canary || m.ControlPlane != nil || len(m.ProtoReflect().GetUnknown()) > 0 {
		return nil
	}
	c.mu.RLock()
	r := c.shared[&m.Resources[0]]
	c.mu.RUnlock()
	if r == nil || len(r.resources) != len(m.Resources) || r.version != m.VersionInfo || r.typeURL != m.TypeUrl {
		return nil
	}
	b, err := r.encoded()
	if err != nil {
		return nil
	}
	return b
}

// share makes r's encoding the one its streams' messages are sent with.
func (c *sotwCodec) share(r *sharedResponse) {
	if len(r.resources) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shared[&r.resources[0]] = r
}

// forget stops sharing the responses of a snapshot that is replaced, but
// for the types its successor keeps (next may be nil).
func (c *sotwCodec) forget(s, next *sharedSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for url, t := range s.types {
		if next != nil && next.types[url] == t {
			continue
		}
		for _, r := range t.responses {
			if len(r.resources) > 0 && c.shared[&r.resources[0]] == r {
				delete(c.shared, &r.resources[0])
			}
		}
	}
}
