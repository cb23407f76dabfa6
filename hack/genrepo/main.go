// Command genrepo writes a synthetic routing repository for benchmarks:
//
//	go run ./hack/genrepo -routes 10000 -o /tmp/repo10k
//	go run ./hack/genrepo -routes 20000 -vhosts 1 -o /tmp/one-vhost
//	go run ./hack/genrepo -routes 100000 -files 20 -o /tmp/20-files
//	go run ./hack/genrepo -dialect gatewayapi -routes 10000 -o /tmp/gwapi10k
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/edgectl/edgectl/internal/genrepo"
)

func main() {
	routes := flag.Int("routes", 1000, "number of routes (virtual hosts: N/10, backends: N/5)")
	out := flag.String("o", "", "directory to write (must not exist or be empty)")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same repository")
	vhosts := flag.Int("vhosts", 0, "number of virtual hosts (default N/10); 1 puts every route in one")
	files := flag.Int("files", 0, "number of files holding the routes (default: one to three virtual hosts a file); more files than virtual hosts splits a virtual host into route sets")
	governed := flag.Bool("governed", false, "add teams, the seven built-in policies and five repository policies")
	dialect := flag.String("dialect", genrepo.Edgectl, "edgectl (intents and edgectl.yaml) or gatewayapi (Gateway API manifests: -routes HTTPRoutes over -vhosts hostnames)")
	flag.Parse()
	if *out == "" || *routes < 1 || *vhosts < 0 || *files < 0 {
		fmt.Fprintln(os.Stderr, "usage: genrepo -routes N -o DIR [-dialect edgectl|gatewayapi] [-vhosts V] [-files F] [-seed S] [-governed]")
		os.Exit(2)
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		fmt.Fprintf(os.Stderr, "genrepo: %s is not empty\n", *out)
		os.Exit(1)
	}
	opts := genrepo.Options{Routes: *routes, Seed: *seed, VirtualHosts: *vhosts, Files: *files, Governed: *governed}
	var st genrepo.Stats
	var err error
	switch *dialect {
	case genrepo.Edgectl:
		st, err = genrepo.Write(*out, opts)
	case genrepo.GatewayAPI:
		st, err = genrepo.WriteGatewayAPI(*out, opts)
	default:
		fmt.Fprintf(os.Stderr, "genrepo: -dialect %q is not edgectl or gatewayapi\n", *dialect)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genrepo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d files, %d teams, %d virtual hosts, %d routes, %d backends\n",
		*out, st.Files, st.Teams, st.VirtualHosts, st.Routes, st.Backends)
}
