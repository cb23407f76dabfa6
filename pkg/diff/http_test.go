package diff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgectl/edgectl/pkg/ir"
)

func TestHTTPRouteChanges(t *testing.T) {
	t.Parallel()
	n := uint32(1024)
	grpc := uint32(14)
	tests := []struct {
		name string
		b, h ir.Route
		want []string
	}{
		{"nothing", ir.Route{}, ir.Route{}, nil},
		{"compression on", ir.Route{}, ir.Route{Compression: &ir.Compression{Algorithms: []string{"brotli", "gzip"}, ContentTypes: []string{"application/json"}, MinLength: &n}},
			[]string{"compression: none → brotli, gzip for application/json from 1024 bytes"}},
		{"compression off", ir.Route{Compression: &ir.Compression{Algorithms: []string{"gzip"}}}, ir.Route{Compression: &ir.Compression{Disabled: true}},
			[]string{"compression: gzip → off"}},
		{"fault percentage", ir.Route{Fault: &ir.Fault{Delay: &ir.FaultDelay{Fixed: 2 * time.Second, Percent: 12.5}}},
			ir.Route{Fault: &ir.Fault{Delay: &ir.FaultDelay{Fixed: 2 * time.Second, Percent: 50}}},
			[]string{"fault injection: delay 2s for 12.5% → delay 2s for 50%"}},
		{"fault kinds", ir.Route{Fault: &ir.Fault{Abort: &ir.FaultAbort{Status: 503, Percent: 1}}},
			ir.Route{Fault: &ir.Fault{Delay: &ir.FaultDelay{FromHeader: true, Percent: 100}, Abort: &ir.FaultAbort{GRPCStatus: &grpc, Percent: 100}}},
			[]string{"fault injection: abort 503 for 1% → delay from header for 100%, abort gRPC 14 for 100%"}},
		{"fault removed, hedging on", ir.Route{Fault: &ir.Fault{Abort: &ir.FaultAbort{FromHeader: true, Percent: 100}}}, ir.Route{HedgeOnPerTryTimeout: true},
			[]string{"fault injection: abort from header for 100% → none", "hedging: off → on"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, httpRouteChanges(&tc.b, &tc.h)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
	got := httpHostChanges(&ir.VirtualHost{}, &ir.VirtualHost{GRPCWeb: true})
	if diff := cmp.Diff([]string{"gRPC-Web: off → on"}, got); diff != "" {
		t.Errorf("host changes (-want +got):\n%s", diff)
	}
}
