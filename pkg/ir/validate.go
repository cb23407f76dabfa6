package ir

import (
	"errors"
	"fmt"
	"slices"
)

// Validate checks the invariants translation relies on. A violation is a bug
// in edgectl, not a user error: lowering reports those with positions first.
func (g *Gateway) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if g.Name == "" || g.NodeID == "" || g.NodeCluster == "" {
		fail("gateway %q: name and node must be set", g.Name)
	}
	clusters := map[string]bool{}
	for i, c := range g.Clusters {
		if i > 0 && g.Clusters[i-1].Name >= c.Name {
			fail("clusters not sorted or duplicated at %q", c.Name)
		}
		clusters[c.Name] = true
		switch {
		case c.Discovery == Kubernetes && (c.Service == nil || len(c.Endpoints) > 0):
			fail("cluster %q: a Kubernetes cluster needs a service and no endpoints", c.Name)
		case c.Discovery != Kubernetes && (c.Service != nil || len(c.Endpoints) == 0):
			fail("cluster %q has no endpoints", c.Name)
		}
		if c.ConnectTimeout <= 0 {
			fail("cluster %q has no connect timeout", c.Name)
		}
	}
	secrets := map[string]*Secret{}
	for i, s := range g.Secrets {
		if i > 0 && g.Secrets[i-1].Name >= s.Name {
			fail("secrets not sorted or duplicated at %q", s.Name)
		}
		secrets[s.Name] = s
	}
	checkCert := func(where string, ref *CertRef, wantCA bool) {
		if ref == nil {
			return
		}
		if ref.SDS {
			if g.SDS == nil {
				fail("%s: certificate %q needs an SDS server", where, ref.Name)
			}
			return
		}
		s, ok := secrets[ref.Name]
		if !ok {
			fail("%s: unknown secret %q", where, ref.Name)
		} else if (s.CA != "") != wantCA {
			fail("%s: secret %q has the wrong type", where, ref.Name)
		}
	}
	for _, c := range g.Clusters {
		if c.TLS != nil {
			checkCert("cluster "+c.Name, c.TLS.CA, true)
			checkCert("cluster "+c.Name, c.TLS.ClientCertificate, false)
		}
	}
	tables := map[string]bool{}
	checkTable := func(t *RouteTable) {
		if t == nil {
			fail("missing route table")
			return
		}
		if tables[t.Name] {
			fail("route table %q defined twice", t.Name)
		}
		tables[t.Name] = true
		domains := map[string]string{}
		for i, vh := range t.VirtualHosts {
			if i > 0 && t.VirtualHosts[i-1].Name >= vh.Name {
				fail("route table %q: virtual hosts not sorted at %q", t.Name, vh.Name)
			}
			if len(vh.Domains) == 0 {
				fail("virtual host %q has no domains", vh.Name)
			}
			for _, d := range vh.Domains {
				if other, dup := domains[d]; dup {
					fail("route table %q: domain %q in %q and %q", t.Name, d, other, vh.Name)
				}
				domains[d] = vh.Name
			}
			for _, r := range vh.Routes {
				errs = append(errs, r.validate(vh.Name, clusters)...)
			}
		}
	}
	checkTCP := func(where string, t *TCPProxy) {
		if t == nil || len(t.Clusters) == 0 {
			fail("%s: a TCP proxy needs a cluster", where)
			return
		}
		for _, w := range t.Clusters {
			if !clusters[w.Cluster] {
				fail("%s: unknown cluster %q", where, w.Cluster)
			}
		}
	}
	listeners := map[string]bool{}
	for i, l := range g.Listeners {
		if l.HTTP3 && l.Protocol != HTTPS {
			fail("listener %q: HTTP/3 without TLS", l.Name)
		}
		if i > 0 && g.Listeners[i-1].Name >= l.Name {
			fail("listeners not sorted or duplicated at %q", l.Name)
		}
		listeners[l.Name] = true
		switch l.Protocol {
		case HTTP:
			if l.TLS != nil || len(l.Chains) > 0 {
				fail("listener %q: HTTP with TLS", l.Name)
			}
			checkTable(l.Routes)
		case HTTPS:
			if l.TLS == nil || l.Routes != nil {
				fail("listener %q: HTTPS needs TLS and filter chains", l.Name)
			}
			names := map[string]string{}
			fallbacks := 0
			for j, fc := range l.Chains {
				if j > 0 && l.Chains[j-1].Name >= fc.Name {
					fail("listener %q: filter chains not sorted at %q", l.Name, fc.Name)
				}
				if len(fc.ServerNames) == 0 {
					fail("listener %q chain %q: no server names", l.Name, fc.Name)
				}
				if fc.Fallback {
					fallbacks++
				}
				if fc.Passthrough != nil {
					if fc.Routes != nil || fc.Fallback || fc.ClientCertificates != nil {
						fail("listener %q chain %q: a passthrough chain terminates nothing", l.Name, fc.Name)
					}
					checkTCP("listener "+l.Name+" chain "+fc.Name, fc.Passthrough)
					for _, sn := range fc.ServerNames {
						if other, dup := names[sn]; dup {
							fail("listener %q: server name %q in chains %q and %q", l.Name, sn, other, fc.Name)
						}
						names[sn] = fc.Name
					}
					continue
				}
				for _, sn := range fc.ServerNames {
					if other, dup := names[sn]; dup {
						fail("listener %q: server name %q in chains %q and %q", l.Name, sn, other, fc.Name)
					}
					names[sn] = fc.Name
				}
				checkCert("listener "+l.Name, &fc.Certificate, false)
				checkTable(fc.Routes)
			}
			if fallbacks > 1 {
				fail("listener %q: %d fallback chains", l.Name, fallbacks)
			}
		case TCP:
			if l.TLS != nil || len(l.Chains) > 0 || l.Routes != nil || l.HTTP != nil {
				fail("listener %q: a TCP listener has no TLS, chains or routes", l.Name)
			}
			checkTCP("listener "+l.Name, l.TCP)
		default:
			fail("listener %q: unknown protocol %q", l.Name, l.Protocol)
		}
	}
	errs = append(errs, g.validateHTTP(clusters)...)
	return errors.Join(errs...)
}

func (r *Route) validate(vh string, clusters map[string]bool) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("virtual host %q route at %s: %s", vh, r.Origin, fmt.Sprintf(format, args...)))
	}
	actions := 0
	if len(r.Forward) > 0 {
		actions++
		var sum uint64
		for _, w := range r.Forward {
			if !clusters[w.Cluster] {
				fail("unknown cluster %q", w.Cluster)
			}
			sum += uint64(w.Weight)
		}
		if len(r.Forward) > 1 && sum == 0 {
			fail("weights sum to zero")
		}
	}
	if r.Redirect != nil {
		actions++
	}
	if r.Respond != nil {
		actions++
	}
	if actions != 1 {
		fail("%d actions", actions)
	}
	if r.Mirror != nil && !clusters[r.Mirror.Cluster] {
		fail("unknown mirror cluster %q", r.Mirror.Cluster)
	}
	if !slices.Contains([]PathKind{PathExact, PathPrefix, PathRegex, PathSegment}, r.Match.PathKind) {
		fail("path kind %q", r.Match.PathKind)
	}
	if err := r.validateHTTP(); err != nil {
		fail("%v", err)
	}
	return errs
}
