package diff

import (
	"fmt"

	"github.com/edgectl/edgectl/pkg/routesim"
	"github.com/edgectl/edgectl/pkg/xds"
)

// Probe is a request a diff sends through both versions, with what made
// it: a route test, or a route whose match it was synthesized from.
type Probe struct {
	From    string
	Request *routesim.Request
}

// TrafficChange is one request that the change treats differently.
type TrafficChange struct {
	Request string `json:"request"`
	From    string `json:"from"`
	Base    string `json:"base"`
	Head    string `json:"head"`
}

// Traffic is the traffic section of a gateway's diff: how many requests
// were sent through both versions, and those whose outcome changes.
type Traffic struct {
	Requests int             `json:"requests"`
	Changes  []TrafficChange `json:"changes"`
}

// traffic sends through both versions of a gateway a representative
// request of every route of either version, then the gateway's route-test
// requests, and keeps those whose outcome differs. Both versions must
// exist: a gateway added or removed whole changes all of its traffic.
func traffic(base, head *Gateway) (*Traffic, error) {
	bs, err := routesim.NewGateway(base.Resources)
	if err != nil {
		return nil, fmt.Errorf("simulate base: %w", err)
	}
	hs, err := routesim.NewGateway(head.Resources)
	if err != nil {
		return nil, fmt.Errorf("simulate head: %w", err)
	}
	t := &Traffic{Changes: []TrafficChange{}}
	seen := map[string]bool{}
	try := func(p Probe) {
		key := p.Request.String() + fmt.Sprintf(" port=%d", p.Request.Port)
		if seen[key] {
			return
		}
		seen[key] = true
		t.Requests++
		ob, oh := bs.Route(p.Request).Outcome(p.Request), hs.Route(p.Request).Outcome(p.Request)
		if ob != oh {
			t.Changes = append(t.Changes, TrafficChange{Request: p.Request.String(), From: p.From, Base: ob, Head: oh})
		}
	}
	for _, p := range base.Probes {
		try(p)
	}
	for _, p := range head.Probes {
		try(p)
	}
	for _, p := range routeProbes(base.Resources, bs) {
		try(p)
	}
	for _, p := range routeProbes(head.Resources, hs) {
		try(p)
	}
	return t, nil
}

// routeProbes makes one request per route of every route configuration a
// listener serves, sent as that listener receives it.
func routeProbes(res *xds.Resources, sim *routesim.Gateway) []Probe {
	served := sim.Entrances()
	var out []Probe
	for _, rc := range res.Routes {
		on, ok := served[rc.Name]
		if !ok {
			continue
		}
		for _, vh := range rc.VirtualHosts {
			for i, r := range vh.Routes {
				req, ok := routesim.Probe(vh, r)
				if !ok {
					continue
				}
				req.Port = on.Port
				if on.TLS {
					req.Scheme = "https"
					req.SNI = routesim.Host(req.Authority)
				} else {
					req.Scheme = "http"
				}
				name := r.Name
				if name == "" {
					name = fmt.Sprintf("#%d", i+1)
				}
				out = append(out, Probe{From: "route " + vh.Name + "/" + name, Request: req})
			}
		}
	}
	return out
}
