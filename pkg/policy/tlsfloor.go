package policy

import (
	"cmp"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
)

// RuleTLSFloor is the rule id of the tlsFloor built-in.
const RuleTLSFloor = "edgectl.builtin.tls_floor.violation"

// envoyClientMinTLS is the lowest version Envoy offers a backend when the
// backend names none; edgectl sets no lower one.
const envoyClientMinTLS = "1.2"

// tlsFloor reports every HTTPS listener, and every backend spoken to over
// TLS, that accepts a TLS version below the floor. It reads the lowered
// gateway, so a listener that names no minimum is judged by edgectl's
// default (1.2) and a backend by Envoy's.
func tlsFloor(diags *diag.List, p *securityPolicy, g *ir.Gateway, seenBackends map[string]bool) {
	if p.min == "" {
		return
	}
	for _, l := range g.Listeners {
		if l.TLS == nil {
			continue
		}
		if l.TLS.MinVersion < p.min {
			p.report(diags, l.Origin, "listener %s of gateway %s accepts TLS %s, below the floor of %s the %s policy sets; set tls.minVersion", l.Name, g.Name, l.TLS.MinVersion, p.min, p.yaml)
		}
	}
	for _, c := range g.Clusters {
		if c.TLS == nil || seenBackends[c.Name] {
			continue
		}
		if v := cmp.Or(c.TLS.MinVersion, envoyClientMinTLS); v < p.min {
			seenBackends[c.Name] = true
			p.report(diags, c.TLS.Origin, "backend %s accepts TLS %s, below the floor of %s the %s policy sets; set tls.minVersion", c.Name, v, p.min, p.yaml)
		}
	}
}
