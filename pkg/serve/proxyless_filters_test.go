package serve

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestProxylessRoutesDropFilterSettings: a gRPC client's connection
// manager has only the router, so the security filters' per-route
// settings leave the routes it gets, and the edge's copy keeps them.
func TestProxylessRoutesDropFilterSettings(t *testing.T) {
	t.Parallel()
	setting := func() map[string]*anypb.Any {
		a, err := anypb.New(&routev3.FilterConfig{Disabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.filters.http.cors": a}
	}
	tests := []struct {
		name string
		rc   *routev3.RouteConfiguration
	}{
		{"on the virtual host", &routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{{Name: "v", Domains: []string{"*"}, TypedPerFilterConfig: setting(),
			Routes: []*routev3.Route{{Name: "a"}}}}}},
		{"on a route", &routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{{Name: "v", Domains: []string{"*"},
			Routes: []*routev3.Route{{Name: "a"}, {Name: "b", TypedPerFilterConfig: setting()}}}}}},
		{"on the route configuration", &routev3.RouteConfiguration{Name: "r", TypedPerFilterConfig: setting()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := proto.Clone(tc.rc)
			out := proxylessRoutes(tc.rc)
			if !proto.Equal(before, tc.rc) {
				t.Errorf("the edge's route configuration was changed")
			}
			if len(out.TypedPerFilterConfig) > 0 {
				t.Errorf("route configuration keeps filter settings")
			}
			for _, vh := range out.VirtualHosts {
				if len(vh.TypedPerFilterConfig) > 0 {
					t.Errorf("virtual host %s keeps filter settings", vh.Name)
				}
				for _, rt := range vh.Routes {
					if len(rt.TypedPerFilterConfig) > 0 {
						t.Errorf("route %s keeps filter settings", rt.Name)
					}
				}
			}
		})
	}
}
