package schema

import "testing"

// TestReservedNames: every name that becomes an Envoy resource name (or a
// part of one) refuses the prefix edgectl keeps for the names it generates,
// such as the edgectl-sds and edgectl-xds clusters. Names are lowercase
// DNS labels, so an upper-case variant is refused as a name already.
func TestReservedNames(t *testing.T) {
	t.Parallel()
	const reserved = `must be a DNS label: lowercase letters, digits and "-", at most 63 characters, not starting with "edgectl-" (kept for the names edgectl generates)`
	tests := []struct {
		name, def, src, want string
	}{
		{"backend edgectl-sds", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: edgectl-sds}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`, `4:18: metadata.name: invalid value "edgectl-sds": ` + reserved + "\n"},
		{"backend edgectl-xds", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: edgectl-xds}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`, `4:18: metadata.name: invalid value "edgectl-xds": ` + reserved + "\n"},
		{"upper case is no way round", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: EDGECTL-sds}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`, `4:18: metadata.name: invalid value "EDGECTL-sds": ` + reserved + "\n"},
		{"certificate", "#Certificate", `
apiVersion: edgectl.dev/v1alpha1
kind: Certificate
metadata: {name: edgectl-anything}
spec: {ca: {file: /etc/ca.pem}}
`, `4:18: metadata.name: invalid value "edgectl-anything": ` + reserved + "\n"},
		{"gateway and listener", "#Gateway", `
apiVersion: edgectl.dev/v1alpha1
kind: Gateway
metadata: {name: edgectl-edge}
spec: {listeners: [{name: edgectl-http, port: 80, protocol: HTTP}]}
`, `4:18: metadata.name: invalid value "edgectl-edge": ` + reserved + `
5:27: spec.listeners[0].name: invalid value "edgectl-http": ` + reserved + "\n"},
		{"virtual host and route", "#VirtualHost", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: edgectl-www}
spec: {gateway: edge, hostnames: [www.example.com], routes: [{name: edgectl-r, respond: {status: 200}}]}
`, `4:18: metadata.name: invalid value "edgectl-www": ` + reserved + `
5:69: spec.routes[0].name: invalid value "edgectl-r": ` + reserved + "\n"},
		{"route set", "#RouteSet", `
apiVersion: edgectl.dev/v1alpha1
kind: RouteSet
metadata: {name: edgectl-pay}
spec: {}
`, `4:18: metadata.name: invalid value "edgectl-pay": ` + reserved + "\n"},
		{"the bare word and look-alikes are fine", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: edgectl}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`, ""},
		{"edgectlsds is fine", "#Backend", `
apiVersion: edgectl.dev/v1alpha1
kind: Backend
metadata: {name: edgectlsds}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
`, ""},
		{"a project may keep its name", "#Project", `
apiVersion: edgectl.dev/v1alpha1
kind: Project
metadata: {name: edgectl-routing}
`, ""},
	}
	s := mustCompile(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := render(s.Check(tc.def, firstDoc(t, tc.src)))
			if got != tc.want {
				t.Errorf("violations:\n%s\nwant:\n%s", got, tc.want)
			}
			ok, msg := cueAccepts(t, tc.def, tc.src)
			if ok != (tc.want == "") {
				t.Errorf("CUE disagrees: accepts=%v %s", ok, msg)
			}
		})
	}
}

// TestHeaderValues: CR, LF and NUL cannot be in anything that ends up in
// a header: Envoy refuses such a configuration when it loads it.
func TestHeaderValues(t *testing.T) {
	t.Parallel()
	const hv = "must be a header value: no CR, LF or NUL"
	tests := []struct {
		name, src, want string
	}{
		{"LF in a set value", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  headers: {request: {set: {x-a: "one\ntwo"}}}
`, `8:34: spec.headers.request.set.x-a: invalid value "one\ntwo": ` + hv + "\n"},
		{"CR in an added response value", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  routes: [{respond: {status: 200}, headers: {response: {add: {x-a: "a\rb"}}}}]
`, `8:69: spec.routes[0].headers.response.add.x-a: invalid value "a\rb": ` + hv + "\n"},
		{"NUL in a value", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  headers: {response: {set: {x-a: "a\0b"}}}
`, `8:35: spec.headers.response.set.x-a: invalid value "a\x00b": ` + hv + "\n"},
		{"LF in a rewrite prefix", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  routes: [{backend: b, rewrite: {prefix: "/a\nb"}}]
`, `8:43: spec.routes[0].rewrite.prefix: invalid value "/a\nb": ` + hv + "\n"},
		{"LF in a redirect path", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  routes: [{redirect: {path: "/a\nb"}}]
`, `8:30: spec.routes[0].redirect.path: invalid value "/a\nb": must be an absolute path with no CR, LF or NUL` + "\n"},
		{"a tab is fine", `
apiVersion: edgectl.dev/v1alpha1
kind: VirtualHost
metadata: {name: v}
spec:
  gateway: e
  hostnames: [a.example.com]
  headers: {request: {set: {x-a: "a\tb"}}}
`, ""},
	}
	s := mustCompile(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := render(s.Check("#VirtualHost", firstDoc(t, tc.src)))
			if got != tc.want {
				t.Errorf("violations:\n%s\nwant:\n%s", got, tc.want)
			}
			ok, msg := cueAccepts(t, "#VirtualHost", tc.src)
			if ok != (tc.want == "") {
				t.Errorf("CUE disagrees: accepts=%v %s", ok, msg)
			}
		})
	}
}
