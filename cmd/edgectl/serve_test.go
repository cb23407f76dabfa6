package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgectl/edgectl/pkg/serve"
)

// TestServeIdentities: --identity flags and --identity-file lines merge
// into one mapping; a URI name may hold "=", a node cluster may not.
func TestServeIdentities(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ids.txt")
	err := os.WriteFile(file, []byte("# fleet\n\n  edge-1.fleet = edge , staging\nspiffe://fleet/a=b=mesh\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	got, err := serveIdentities([]string{"edge-1.fleet=edge", "edge-2.fleet=edge"}, file)
	if err != nil {
		t.Fatal(err)
	}
	want := serve.Identities{
		"edge-1.fleet":       {"edge", "staging"},
		"edge-2.fleet":       {"edge"},
		"spiffe://fleet/a=b": {"mesh"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got, err := serveIdentities(nil, ""); got != nil || err != nil {
		t.Errorf("no identities: %v, %v; want nil, nil", got, err)
	}
}
