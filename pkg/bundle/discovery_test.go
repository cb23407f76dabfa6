package bundle

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
)

// discoveryCases are xDS files of every shape: as edgectl writes them, and
// as it does not.
var discoveryCases = []struct {
	name, yaml string
	fast       bool // read resource by resource
}{
	{"as written", "version_info: v1\nresources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: a\n  connect_timeout: 2s\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: b\ntype_url: type.googleapis.com/envoy.config.cluster.v3.Cluster\n", true},
	{"JSON names", "versionInfo: v1\ntypeUrl: t\nresources:\n- {\"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster, name: a}\n", true},
	{"no resources", "version_info: v1\ntype_url: t\n", true},
	{"a resource of no fields", "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n", true},
	{"a typed config inside", "resources:\n- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n  name: l\n  listener_filters:\n  - name: tls\n    typed_config:\n      \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector\n", true},
	{"@type not first", "resources:\n- name: a\n  \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n", false},
	{"a well-known type", "resources:\n- \"@type\": type.googleapis.com/google.protobuf.Duration\n  value: 2s\n", false},
	{"an unknown type", "resources:\n- \"@type\": type.googleapis.com/no.Such\n  name: a\n", false},
	{"an unknown field", "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  nom: a\n", false},
	{"a field twice", "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: a\n  name: b\n", false},
	{"@type twice", "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n", false},
	{"version twice", "version_info: v1\nversionInfo: v2\n", false},
	{"a version that is a number", "version_info: 1\n", false},
	{"an unknown top-level key", "version_info: v1\nnonce: n\n", false},
	{"resources not a list", "resources: {}\n", false},
	{"a resource not a mapping", "resources:\n- a\n", false},
	{"a list at the top", "- a\n", false},
	{"empty", "", false},
}

// TestReadDiscoveryFile: a file read resource by resource gives what
// protojson gives for it whole, and any other file is read whole, errors
// and all.
func TestReadDiscoveryFile(t *testing.T) {
	t.Parallel()
	for _, tc := range discoveryCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := firstDocument([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, fast := readResources(&n); fast != tc.fast {
				t.Errorf("read resource by resource: %v, want %v", fast, tc.fast)
			}
			if diff := readAgree([]byte(tc.yaml)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// readAgree reports how readDiscoveryFile and readWhole differ on data.
func readAgree(data []byte) string {
	dr, msgs, err := readDiscoveryFile("f", data)
	n, nerr := firstDocument(data)
	if nerr != nil {
		if err == nil || err.Error() != "f: "+nerr.Error() {
			return fmt.Sprintf("the YAML does not parse (%v), but the file reads: %v", nerr, err)
		}
		return ""
	}
	wdr, wmsgs, werr := readWhole(&n)
	switch {
	case err != nil || werr != nil:
		if err == nil || werr == nil || err.Error() != "f: "+werr.Error() {
			return fmt.Sprintf("error %v, read whole %v", err, werr)
		}
		return ""
	case !proto.Equal(dr, wdr) || len(msgs) != len(wmsgs):
		return fmt.Sprintf("read %v with %d resources, whole %v with %d", dr, len(msgs), wdr, len(wmsgs))
	}
	for i := range msgs {
		if !proto.Equal(msgs[i], wmsgs[i]) {
			return fmt.Sprintf("resource %d: %v, whole %v", i, msgs[i], wmsgs[i])
		}
	}
	return ""
}

func FuzzReadDiscoveryFile(f *testing.F) {
	for _, tc := range discoveryCases {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if diff := readAgree(data); diff != "" {
			t.Fatalf("%q: %s", data, diff)
		}
	})
}
