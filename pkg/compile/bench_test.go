package compile

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgectl/edgectl/internal/genrepo"
	"github.com/edgectl/edgectl/pkg/source"
)

// BenchmarkCompile validates and compiles generated repositories from disk,
// the whole pipeline short of writing the output. hack/bench.sh reports it
// with peak memory of the real binary.
//
// The governed variants add teams, ownership checks and twelve policies;
// their cost is the difference between the two. The security variant adds
// JWT, ext_authz and local and global rate limits on every virtual host. The vhosts and files
// variants lay the same routes out differently: every route in one virtual
// host (the conflict checks see them all at once), or the routes of
// 100,000 in 20 files. Targets (docs/README Performance): one virtual host
// of 20,000 routes in 1.5 s, 100,000 routes in any layout in 8 s and 1.5 GB
// on two cores.
func BenchmarkCompile(b *testing.B) {
	for _, bc := range []genrepo.Options{
		{Routes: 1000}, {Routes: 10000},
		{Routes: 1000, Governed: true}, {Routes: 10000, Governed: true},
		{Routes: 10000, Governed: true, Security: true},
		{Routes: 20000, VirtualHosts: 1},
		{Routes: 20000, VirtualHosts: 1, Files: 20, Governed: true},
		{Routes: 100000, Files: 20},
		{Routes: 100000, VirtualHosts: 1, Files: 20},
	} {
		b.Run(benchName(bc), func(b *testing.B) {
			dir := b.TempDir()
			bc.Seed = 1
			if _, err := genrepo.Write(dir, bc); err != nil {
				b.Fatal(err)
			}
			src, err := source.Dir(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, diags, err := Compile(context.Background(), src, Options{})
				if err != nil || diags.HasErrors() || len(res.Bundles) != 1 {
					b.Fatalf("compile: %v\n%v", err, diags)
				}
			}
		})
	}
}

// benchName names a layout as hack/bench.sh reads it back:
// routes=N[/vhosts=V][/files=F][/governed][/security].
func benchName(o genrepo.Options) string {
	name := fmt.Sprintf("routes=%d", o.Routes)
	if o.VirtualHosts > 0 {
		name += fmt.Sprintf("/vhosts=%d", o.VirtualHosts)
	}
	if o.Files > 0 {
		name += fmt.Sprintf("/files=%d", o.Files)
	}
	if o.Governed {
		name += "/governed"
	}
	if o.Security {
		name += "/security"
	}
	return name
}
