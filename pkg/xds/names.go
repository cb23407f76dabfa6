package xds

import (
	"errors"
	"fmt"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
)

// ReservedPrefix starts every name edgectl makes up itself (SDSCluster,
// ADSCluster). The schema refuses it in every user name that becomes an
// Envoy name, so the two can never meet; the checks below make sure.
// Envoy compares names byte for byte, case included; user names are
// lowercase, so only the lowercase prefix needs reserving.
const ReservedPrefix = "edgectl-"

// checkNames holds the names of a gateway's resources to what edgectl
// promises: none uses the reserved prefix (a CDS cluster named like a
// bootstrap's static one would be refused by Envoy), filter chain names are
// unique per listener, virtual host names per route configuration, and the
// files of the xDS directory do not overlap. Names unique per resource
// type are checkRefs' part.
func checkNames(r *Resources) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	reserved := func(kind, name string) {
		if strings.HasPrefix(name, ReservedPrefix) {
			fail("%s %q: the name starts with %q, which edgectl keeps for its own resources", kind, name, ReservedPrefix)
		}
	}
	files := map[string]string{LDSFile: "the listeners", CDSFile: "the clusters"}
	file := func(name, what string) {
		if other, dup := files[name]; dup {
			fail("file %s holds both %s and %s", name, other, what)
		}
		files[name] = what
	}
	for _, l := range r.Listeners {
		reserved("listener", l.Name)
		chains := map[string]bool{}
		for _, fc := range l.FilterChains {
			if fc.Name == "" {
				continue
			}
			if chains[fc.Name] {
				fail("listener %q: filter chain %q is defined twice", l.Name, fc.Name)
			}
			chains[fc.Name] = true
		}
	}
	for _, rc := range r.Routes {
		reserved("route configuration", rc.Name)
		file(RouteFile(rc.Name), fmt.Sprintf("route configuration %q", rc.Name))
		vhosts := map[string]bool{}
		for _, vh := range rc.VirtualHosts {
			if vhosts[vh.Name] {
				fail("route configuration %q: virtual host %q is defined twice", rc.Name, vh.Name)
			}
			vhosts[vh.Name] = true
		}
	}
	for _, c := range r.Clusters {
		reserved("cluster", c.Name)
	}
	for _, s := range r.Secrets {
		reserved("secret", s.Name)
		file(SecretFile(s.Name), fmt.Sprintf("secret %q", s.Name))
	}
	for _, e := range r.Endpoints {
		file(EndpointsFile(e.ClusterName), fmt.Sprintf("the endpoints of %q", e.ClusterName))
	}
	return errs
}

// CheckStaticNames reports static resources of a bootstrap that share a
// name: Envoy refuses such a bootstrap. The bootstrap builders add
// edgectl's own clusters to the gateway's, so this is where a collision
// between the two would show. A failure is a bug in edgectl.
func CheckStaticNames(b *bootstrapv3.Bootstrap) error {
	var errs []error
	s := b.GetStaticResources()
	unique := func(kind string, names []string) {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				errs = append(errs, fmt.Errorf("static %s %q is defined twice", kind, n))
			}
			seen[n] = true
		}
	}
	unique("listener", namesOf(s.GetListeners()))
	unique("cluster", namesOf(s.GetClusters()))
	unique("secret", namesOf(s.GetSecrets()))
	return errors.Join(errs...)
}

func namesOf[T named](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.GetName()
	}
	return out
}
