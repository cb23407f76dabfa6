package lower

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

func TestGRPCMatch(t *testing.T) {
	t.Parallel()
	grpcCT := ir.HeaderMatch{Name: "content-type", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: "application/grpc"}}
	webCT := ir.HeaderMatch{Name: "content-type", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: "application/grpc-web"}}
	tenant := ir.HeaderMatch{Name: "x-tenant", StringMatch: ir.StringMatch{Kind: ir.MatchExact, Value: "a"}}
	tests := []struct {
		name    string
		g       intent.GRPCMatch
		headers []ir.HeaderMatch
		want    ir.Match
	}{
		{"method", intent.GRPCMatch{Service: "helloworld.Greeter", Method: "SayHello"}, nil,
			ir.Match{PathKind: ir.PathExact, Path: "/helloworld.Greeter/SayHello", Headers: []ir.HeaderMatch{grpcCT}}},
		{"service", intent.GRPCMatch{Service: "helloworld.Greeter"}, nil,
			ir.Match{PathKind: ir.PathPrefix, Path: "/helloworld.Greeter/", Headers: []ir.HeaderMatch{grpcCT}}},
		{"other headers kept", intent.GRPCMatch{Service: "a.B", Method: "C"}, []ir.HeaderMatch{tenant},
			ir.Match{PathKind: ir.PathExact, Path: "/a.B/C", Headers: []ir.HeaderMatch{tenant, grpcCT}}},
		{"own content type wins", intent.GRPCMatch{Service: "a.B"}, []ir.HeaderMatch{webCT},
			ir.Match{PathKind: ir.PathPrefix, Path: "/a.B/", Headers: []ir.HeaderMatch{webCT}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ir.Match{PathKind: ir.PathPrefix, Path: "/", Headers: tc.headers}
			grpcMatch(&tc.g, &got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("match (-want +got):\n%s", diff)
			}
		})
	}
}
