package routesim

import (
	"encoding/json"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// fromYAML reads an Envoy resource written in YAML, as Envoy's own
// configuration files are.
func fromYAML(t testing.TB, y string, m proto.Message) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(y, "\t", "  ")), &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	if err := protojson.Unmarshal(j, m); err != nil {
		t.Fatalf("protojson: %v\n%s", err, j)
	}
}

func routeConfig(t testing.TB, y string) *routev3.RouteConfiguration {
	t.Helper()
	rc := &routev3.RouteConfiguration{}
	fromYAML(t, y, rc)
	return rc
}

func newRouter(t testing.TB, y string) *Router {
	t.Helper()
	r, err := NewRouter(routeConfig(t, y))
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	return r
}

// get is a GET request to host and path.
func get(host, path string, headers ...string) *Request {
	req := &Request{Authority: host, Path: path}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers = append(req.Headers, Header{Name: headers[i], Value: headers[i+1]})
	}
	return req
}

// where names what a request reached: "vhost/route" or the action when
// nothing matched.
func where(res *Result) string {
	switch {
	case res.Action == NoListener:
		return "no-listener"
	case res.VirtualHost == "":
		return "no-vhost"
	case res.RouteIndex < 0:
		return res.VirtualHost + "/" + res.Action.String()
	}
	return res.VirtualHost + "/" + res.Route
}
