package lower

import (
	"bytes"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/intent"
)

// badRoutes are routes appended to a generated virtual host or route set: each makes a
// finding (a duplicate, a shadowed route, unknown backends, a redirect
// with forwarding settings), so the findings of
// parallel lowering are compared as well as its gateways.
func badRoutes(k int) string {
	return fmt.Sprintf(`  - name: bad%[1]d-dup
    match:
      path: {prefix: /app3/}
    backend: nowhere%[1]d
  - name: bad%[1]d-shadow
    match:
      path: {prefix: /app3/deeper%[1]d}
    backend: also-nowhere
  - name: bad%[1]d-redirect
    match:
      path: {exact: /moved%[1]d}
    redirect: {host: example.org}
    timeout: 5s
`, k)
}

// TestParallelLoweringIsSequentialLowering lowers generated repositories
// large enough to be lowered in parallel, with findings sprinkled in, on
// one goroutine and on several, and requires the same gateways and the
// same findings in the same order.
func TestParallelLoweringIsSequentialLowering(t *testing.T) {
	t.Parallel()
	for _, o := range []genrepo.Options{
		{Routes: 3 * parallelRoutes, VirtualHosts: 1, Seed: 1},
		{Routes: 3 * parallelRoutes, VirtualHosts: 1, Files: 4, Governed: true, Seed: 2},
		{Routes: 2 * parallelRoutes, VirtualHosts: 300, Seed: 3},
		{Routes: 2 * parallelRoutes, VirtualHosts: 300, Files: 7, Governed: true, Security: true, Seed: 4},
	} {
		t.Run(fmt.Sprintf("routes=%d/vhosts=%d/files=%d/governed=%v", o.Routes, o.VirtualHosts, o.Files, o.Governed), func(t *testing.T) {
			t.Parallel()
			files, _ := genrepo.Generate(o)
			fsys := fstest.MapFS{}
			var vhostFiles []string // virtual hosts and route sets
			for name, data := range files {
				fsys[name] = &fstest.MapFile{Data: data}
				text := string(data)
				if (strings.Contains(text, "\nkind: VirtualHost\n") || strings.Contains(text, "\nkind: RouteSet\n")) && strings.HasSuffix(text, "\n") &&
					strings.LastIndex(text, "\n  routes:\n") > strings.LastIndex(text, "\n  includes:\n") {
					vhostFiles = append(vhostFiles, name)
				}
			}
			slices.Sort(vhostFiles)
			if len(vhostFiles) == 0 {
				t.Fatal("the generated repository has no file that ends with routes")
			}
			// These files' last document ends with its routes, so routes
			// appended to the file are that virtual host's.
			// So are findings all along: the routes to one backend in 25
			// (those named ...-svc..1.., as genrepo names them) name one
			// that does not exist.
			for k, name := range vhostFiles {
				data := bytes.ReplaceAll(files[name], []byte("-svc001"), []byte("-gone001"))
				if k%3 == 0 && path.Ext(name) == ".yaml" {
					data = append(data, badRoutes(k)...)
				}
				fsys[name] = &fstest.MapFile{Data: data}
			}
			m, diags, err := intent.Load(fsys, intent.Options{Workers: 1})
			if err != nil || diags.HasErrors() {
				t.Fatalf("load: %v\n%v", err, diags)
			}
			seqGWs, seqDiags := lower(m, 1)
			parGWs, parDiags := lower(m, 4)
			if !seqDiags.HasErrors() || len(seqDiags) < len(vhostFiles)/3*3 {
				t.Fatalf("the bad routes made %d findings; want errors, at least %d:\n%v", len(seqDiags), len(vhostFiles)/3*3, seqDiags)
			}
			if !reflect.DeepEqual(parDiags, seqDiags) {
				t.Errorf("findings differ:\nparallel:\n%v\nsequential:\n%v", parDiags, seqDiags)
			}
			if !reflect.DeepEqual(parGWs, seqGWs) {
				t.Error("the gateways lowered in parallel differ from those lowered on one goroutine")
			}
		})
	}
}
