package diff

import (
	"encoding/json"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Snapshot is a compiled version as a diff needs it, with its findings:
// what the cache keeps of a commit.
type Snapshot struct {
	Gateways map[string]*Gateway
	Diags    diag.List
}

// wire is a snapshot on disk: the IR as JSON, Envoy messages as their
// deterministic protobuf encoding. Not gob: gob drops a pointer to a zero
// value, and in the IR a zero timeout ("none") is not an unset one.
type wire struct {
	Diags    diag.List
	Gateways []wireGateway
}

type wireGateway struct {
	Name      string
	IR        *ir.Gateway
	Listeners [][]byte
	Routes    [][]byte
	Clusters  [][]byte
	Secrets   [][]byte
	Endpoints [][]byte `json:",omitempty"`
	Bootstrap []byte
	Probes    []Probe
}

var marshal = proto.MarshalOptions{Deterministic: true}

// Encode serialises a snapshot.
func (s *Snapshot) Encode() ([]byte, error) {
	w := wire{Diags: s.Diags}
	for name, g := range s.Gateways {
		wg := wireGateway{Name: name, IR: g.IR, Probes: g.Probes}
		var err error
		if wg.Listeners, err = encodeAll(g.Resources.Listeners); err == nil {
			if wg.Routes, err = encodeAll(g.Resources.Routes); err == nil {
				if wg.Clusters, err = encodeAll(g.Resources.Clusters); err == nil {
					if wg.Secrets, err = encodeAll(g.Resources.Secrets); err == nil {
						if wg.Endpoints, err = encodeAll(g.Resources.Endpoints); err == nil {
							wg.Bootstrap, err = marshal.Marshal(g.Bootstrap)
						}
					}
				}
			}
		}
		if err != nil {
			return nil, err
		}
		w.Gateways = append(w.Gateways, wg)
	}
	return json.Marshal(w)
}

func encodeAll[T proto.Message](ms []T) ([][]byte, error) {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		b, err := marshal.Marshal(m)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func decodeAll[T proto.Message](bs [][]byte, fresh func() T) ([]T, error) {
	out := make([]T, len(bs))
	for i, b := range bs {
		m := fresh()
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// DecodeSnapshot reads what Encode wrote.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	s := &Snapshot{Diags: w.Diags, Gateways: map[string]*Gateway{}}
	for _, wg := range w.Gateways {
		g := &Gateway{IR: wg.IR, Resources: &xds.Resources{}, Bootstrap: &bootstrapv3.Bootstrap{}, Probes: wg.Probes}
		var err error
		if g.Resources.Listeners, err = decodeAll(wg.Listeners, func() *listenerv3.Listener { return &listenerv3.Listener{} }); err != nil {
			return nil, err
		}
		if g.Resources.Routes, err = decodeAll(wg.Routes, func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} }); err != nil {
			return nil, err
		}
		if g.Resources.Clusters, err = decodeAll(wg.Clusters, func() *clusterv3.Cluster { return &clusterv3.Cluster{} }); err != nil {
			return nil, err
		}
		if g.Resources.Secrets, err = decodeAll(wg.Secrets, func() *tlsv3.Secret { return &tlsv3.Secret{} }); err != nil {
			return nil, err
		}
		if wg.Endpoints != nil {
			if g.Resources.Endpoints, err = decodeAll(wg.Endpoints, func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }); err != nil {
				return nil, err
			}
		}
		if err := proto.Unmarshal(wg.Bootstrap, g.Bootstrap); err != nil {
			return nil, err
		}
		s.Gateways[wg.Name] = g
	}
	return s, nil
}
