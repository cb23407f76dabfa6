package xds

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestADSFormKeepsEnabledFilters: a route configuration that switches a
// filter on with an empty FilterConfig.config (how compression, gRPC-Web
// and faults are enabled) comes through the ADS rewrite unchanged, while
// the Anys around it are still opened.
func TestADSFormKeepsEnabledFilters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		configs map[string]*anypb.Any
	}{
		{"enabled on the virtual host", map[string]*anypb.Any{"envoy.filters.http.compressor/gzip": enabledFilter()}},
		{"enabled and disabled", map[string]*anypb.Any{
			"envoy.filters.http.compressor/gzip":   enabledFilter(),
			"envoy.filters.http.compressor/brotli": proto.Clone(disabledAny).(*anypb.Any),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := &routev3.RouteConfiguration{
				Name: "https.www",
				VirtualHosts: []*routev3.VirtualHost{{
					Name: "www", Domains: []string{"www.example.com"},
					TypedPerFilterConfig: tc.configs,
				}},
			}
			in := proto.Clone(rc).(*routev3.RouteConfiguration)
			out, err := ADSForm(&Resources{Routes: []*routev3.RouteConfiguration{rc}})
			if err != nil {
				t.Fatalf("ADSForm: %v", err)
			}
			if !proto.Equal(rc, in) {
				t.Errorf("ADSForm modified its input")
			}
			if len(out.Routes) != 1 || !proto.Equal(out.Routes[0], in) {
				t.Errorf("ADS form of the route configuration:\n%v\nwant\n%v", out.Routes, in)
			}
			fc := &routev3.FilterConfig{}
			if err := out.Routes[0].VirtualHosts[0].TypedPerFilterConfig["envoy.filters.http.compressor/gzip"].UnmarshalTo(fc); err != nil {
				t.Fatal(err)
			}
			if fc.Config == nil || fc.Config.GetTypeUrl() != "" || fc.Disabled {
				t.Errorf("gzip: %v, want enabled with an empty config", fc)
			}
		})
	}
	// An Any with a type URL that cannot be opened is still an error.
	bad := &routev3.RouteConfiguration{Name: "bad", VirtualHosts: []*routev3.VirtualHost{{
		Name: "v", Domains: []string{"*"},
		TypedPerFilterConfig: map[string]*anypb.Any{"x": {TypeUrl: "type.googleapis.com/no.such.Type"}},
	}}}
	if _, err := ADSForm(&Resources{Routes: []*routev3.RouteConfiguration{bad}}); err == nil {
		t.Error("ADSForm opened an Any of an unknown type")
	}
}
