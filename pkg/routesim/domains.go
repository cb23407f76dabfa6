package routesim

import (
	"fmt"
	"sort"
	"strings"
)

// domainIndex finds the virtual host of a host name the way Envoy does:
// an exact domain first, then the longest suffix wildcard ("*.foo.com",
// "*-bar.foo.com"), then the longest prefix wildcard ("foo.*"), then "*".
// A wildcard never matches the empty string. Lookups cost one map access
// per distinct wildcard length, not one comparison per virtual host.
type domainIndex struct {
	exact    map[string]*vhost
	suffixes []wildcards
	prefixes []wildcards
	any      *vhost
}

// wildcards are the wildcard domains of one length (without the "*").
type wildcards struct {
	n int
	m map[string]*vhost
}

// add indexes a domain, lowercase. Like Envoy it refuses a domain twice
// in one route configuration; it also refuses a domain with more than one
// wildcard, which Envoy cannot match as written.
func (d *domainIndex) add(domain string, vh *vhost) error {
	domain = toLowerASCII(domain)
	if strings.Count(domain, "*") > 1 {
		return fmt.Errorf("virtual host %q: domain %q has more than one wildcard", vh.name, domain)
	}
	var dup bool
	switch {
	case domain == "*":
		dup = d.any != nil
		if !dup {
			d.any = vh
		}
	case strings.HasPrefix(domain, "*"):
		dup = addWildcard(&d.suffixes, domain[1:], vh)
	case strings.HasSuffix(domain, "*"):
		dup = addWildcard(&d.prefixes, domain[:len(domain)-1], vh)
	default:
		if d.exact == nil {
			d.exact = map[string]*vhost{}
		}
		_, dup = d.exact[domain]
		if !dup {
			d.exact[domain] = vh
		}
	}
	if dup {
		return fmt.Errorf("virtual host %q: domain %q is already used in this route configuration", vh.name, domain)
	}
	return nil
}

func addWildcard(ws *[]wildcards, key string, vh *vhost) (dup bool) {
	i := sort.Search(len(*ws), func(i int) bool { return (*ws)[i].n <= len(key) })
	if i == len(*ws) || (*ws)[i].n != len(key) {
		*ws = append(*ws, wildcards{})
		copy((*ws)[i+1:], (*ws)[i:])
		(*ws)[i] = wildcards{n: len(key), m: map[string]*vhost{}}
	}
	if _, ok := (*ws)[i].m[key]; ok {
		return true
	}
	(*ws)[i].m[key] = vh
	return false
}

// find looks a lowercase host up.
func (d *domainIndex) find(host string) *vhost {
	if vh, ok := d.exact[host]; ok {
		return vh
	}
	for _, w := range d.suffixes {
		if w.n < len(host) {
			if vh, ok := w.m[host[len(host)-w.n:]]; ok {
				return vh
			}
		}
	}
	for _, w := range d.prefixes {
		if w.n < len(host) {
			if vh, ok := w.m[host[:w.n]]; ok {
				return vh
			}
		}
	}
	return d.any
}

// portStart is where the port of a host[:port] starts (its ":"), or -1.
// The colons of a bracketed IPv6 literal are not a port: "[::1]:80".
func portStart(host string) int {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.LastIndexByte(host, ']') > i {
		return -1
	}
	return i
}
