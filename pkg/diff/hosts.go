package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/ir"
)

// host is a virtual host as a reviewer thinks of it: its routes where it
// serves traffic (HTTPS when it has a certificate), plus how plain HTTP
// treats it.
type host struct {
	vh            *ir.VirtualHost
	certificate   string
	httpsRedirect bool
	// passthrough says where a TLS passthrough host's connections go.
	passthrough string
}

func hosts(g *ir.Gateway) map[string]*host {
	out := map[string]*host{}
	if g == nil {
		return out
	}
	for _, l := range g.Listeners {
		for _, fc := range l.Chains {
			if p := fc.Passthrough; p != nil {
				if out[fc.PassthroughHost] == nil {
					domains := slices.Clone(fc.ServerNames)
					out[fc.PassthroughHost] = &host{vh: &ir.VirtualHost{Name: fc.PassthroughHost, Team: fc.Team, Domains: domains}, passthrough: tcpTargets(p)}
				}
				continue
			}
			for _, vh := range fc.Routes.VirtualHosts {
				if out[vh.Name] == nil {
					out[vh.Name] = &host{vh: vh, certificate: fc.Certificate.Name}
				}
			}
		}
	}
	for _, l := range g.Listeners {
		if l.Routes == nil {
			continue
		}
		for _, vh := range l.Routes.VirtualHosts {
			h := out[vh.Name]
			if h == nil {
				out[vh.Name] = &host{vh: vh}
				continue
			}
			if len(vh.Routes) == 1 && vh.Routes[0].Redirect != nil && vh.Routes[0].Redirect.Scheme == "https" && vh.Routes[0].Match.Path == "/" {
				h.httpsRedirect = true
			}
		}
	}
	return out
}

func compareHosts(base, head *ir.Gateway) []HostDiff {
	bh, hh := hosts(base), hosts(head)
	var names []string
	for n := range bh {
		names = append(names, n)
	}
	for n := range hh {
		if bh[n] == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []HostDiff
	for _, n := range names {
		b, h := bh[n], hh[n]
		switch {
		case b == nil:
			out = append(out, hostOnly(h, Added))
		case h == nil:
			out = append(out, hostOnly(b, Removed))
		default:
			if d := compareHost(b, h); d != nil {
				out = append(out, *d)
			}
		}
	}
	return out
}

func hostOnly(h *host, status string) HostDiff {
	d := HostDiff{Name: h.vh.Name, Hostnames: h.vh.Domains, Status: status, Team: h.vh.Team}
	if h.certificate != "" {
		d.Changes = append(d.Changes, "TLS: certificate "+h.certificate)
	}
	if h.passthrough != "" {
		d.Changes = append(d.Changes, "TLS passed through to "+h.passthrough)
	}
	for _, r := range h.vh.Routes {
		d.Routes = append(d.Routes, RouteDiff{Status: status, Name: r.Name, Match: describe(&r.Match), Team: r.Team, Action: action(r)})
	}
	return d
}

func compareHost(b, h *host) *HostDiff {
	d := &HostDiff{Name: h.vh.Name, Hostnames: h.vh.Domains, Status: Changed, Team: h.vh.Team}
	if !slices.Equal(b.vh.Domains, h.vh.Domains) {
		d.Changes = append(d.Changes, fmt.Sprintf("hostnames: %s → %s", strings.Join(b.vh.Domains, ", "), strings.Join(h.vh.Domains, ", ")))
	}
	if b.passthrough != h.passthrough {
		d.Changes = append(d.Changes, fmt.Sprintf("TLS passed through to: %s → %s", cmp.Or(b.passthrough, "none"), cmp.Or(h.passthrough, "none")))
	}
	if b.certificate != h.certificate {
		d.Changes = append(d.Changes, fmt.Sprintf("TLS: %s → %s", certOrNone(b.certificate), certOrNone(h.certificate)))
	}
	if b.httpsRedirect != h.httpsRedirect && h.certificate != "" {
		d.Changes = append(d.Changes, fmt.Sprintf("plain HTTP: %s → %s", redirectWord(b.httpsRedirect), redirectWord(h.httpsRedirect)))
	}
	d.Changes = append(d.Changes, headerChanges("request headers", b.vh.RequestHeaders, h.vh.RequestHeaders)...)
	d.Changes = append(d.Changes, headerChanges("response headers", b.vh.ResponseHeaders, h.vh.ResponseHeaders)...)
	d.Changes = append(d.Changes, httpHostChanges(b.vh, h.vh)...)

	byID := func(rs []*ir.Route) (map[string]*ir.Route, []string) {
		m := map[string]*ir.Route{}
		var order []string
		for _, r := range rs {
			id := identity(r)
			if _, dup := m[id]; !dup {
				order = append(order, id)
			}
			m[id] = r
		}
		return m, order
	}
	bm, _ := byID(b.vh.Routes)
	hm, horder := byID(h.vh.Routes)
	for _, id := range horder {
		hr := hm[id]
		br, ok := bm[id]
		if !ok {
			d.Routes = append(d.Routes, RouteDiff{Status: Added, Name: hr.Name, Match: describe(&hr.Match), Team: hr.Team, Action: action(hr)})
			continue
		}
		if changes := compareRoute(br, hr); len(changes) > 0 {
			d.Routes = append(d.Routes, RouteDiff{Status: Changed, Name: hr.Name, Match: describe(&hr.Match), Team: hr.Team, Action: action(hr), Changes: changes})
		}
	}
	for _, r := range b.vh.Routes {
		if _, ok := hm[identity(r)]; !ok {
			d.Routes = append(d.Routes, RouteDiff{Status: Removed, Name: r.Name, Match: describe(&r.Match), Team: r.Team, Action: action(r)})
		}
	}
	if len(d.Changes) == 0 && len(d.Routes) == 0 {
		return nil
	}
	return d
}

func certOrNone(c string) string {
	if c == "" {
		return "none"
	}
	return "certificate " + c
}

func redirectWord(r bool) string {
	if r {
		return "redirects to HTTPS"
	}
	return "served"
}

// compareRoute lists what changes about a route, in the words a reviewer
// uses: where it sends traffic, and how.
func compareRoute(b, h *ir.Route) []string {
	var out []string
	add := func(what, old, new string) {
		if old != new {
			out = append(out, fmt.Sprintf("%s: %s → %s", what, old, new))
		}
	}
	add("match", describe(&b.Match), describe(&h.Match))
	switch {
	case b.Forward != nil && h.Forward != nil:
		if w := weights(b.Forward, h.Forward); w != "" {
			out = append(out, "backends: "+w)
		}
	case b.Redirect != nil && h.Redirect != nil:
		add("redirect", redirect(b.Redirect), redirect(h.Redirect))
	case b.Respond != nil && h.Respond != nil:
		add("response", respond(b.Respond), respond(h.Respond))
	default:
		add("action", action(b), action(h))
	}
	add("timeout", duration(b.Timeout), duration(h.Timeout))
	add("idle timeout", duration(b.IdleTimeout), duration(h.IdleTimeout))
	add("retries", retry(b.Retry), retry(h.Retry))
	add("rewrite", rewrite(b), rewrite(h))
	add("mirror", mirror(b.Mirror), mirror(h.Mirror))
	add("websocket", onOff(b.Websocket), onOff(h.Websocket))
	add("hash", hash(b.Hash), hash(h.Hash))
	out = append(out, headerChanges("request headers", b.RequestHeaders, h.RequestHeaders)...)
	out = append(out, headerChanges("response headers", b.ResponseHeaders, h.ResponseHeaders)...)
	out = append(out, httpRouteChanges(b, h)...)
	return out
}

// weights renders the change in how traffic is split, as percentages:
// "pay-v1 90% → 50%, pay-v2 10% → 50%".
func weights(b, h []ir.WeightedCluster) string {
	share := func(ws []ir.WeightedCluster) map[string]float64 {
		var sum float64
		for _, w := range ws {
			sum += float64(w.Weight)
		}
		out := map[string]float64{}
		for _, w := range ws {
			if sum > 0 {
				out[w.Cluster] = 100 * float64(w.Weight) / sum
			}
		}
		return out
	}
	bs, hs := share(b), share(h)
	var names []string
	for _, w := range h {
		names = append(names, w.Cluster)
	}
	for _, w := range b {
		if _, ok := hs[w.Cluster]; !ok {
			names = append(names, w.Cluster)
		}
	}
	changed := false
	var parts []string
	for _, n := range names {
		bp, bok := bs[n]
		hp, hok := hs[n]
		if bok != hok || fmt.Sprintf("%.4g", bp) != fmt.Sprintf("%.4g", hp) {
			changed = true
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s", n, pct(bp, bok), pct(hp, hok)))
	}
	if !changed {
		return ""
	}
	return strings.Join(parts, ", ")
}

func pct(p float64, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%s%%", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), "."))
}

func describe(m *ir.Match) string {
	s := string(m.PathKind) + " " + m.Path
	if len(m.Methods) > 0 {
		s += " " + strings.Join(m.Methods, "|")
	}
	for _, h := range m.Headers {
		s += " [" + condition(h.Name, h.StringMatch, h.Invert) + "]"
	}
	for _, q := range m.Query {
		s += " [?" + condition(q.Name, q.StringMatch, false) + "]"
	}
	return s
}

func condition(name string, s ir.StringMatch, invert bool) string {
	not := ""
	if invert {
		not = "not "
	}
	switch s.Kind {
	case ir.MatchPresent:
		return not + name
	case ir.MatchAbsent:
		return not + "no " + name
	}
	return fmt.Sprintf("%s%s %s %q", not, name, s.Kind, s.Value)
}

// action says what a route does with a request.
func action(r *ir.Route) string {
	switch {
	case r.Redirect != nil:
		return "redirect " + redirect(r.Redirect)
	case r.Respond != nil:
		return "respond " + respond(r.Respond)
	case len(r.Forward) == 1:
		return "forward to " + r.Forward[0].Cluster
	default:
		var parts []string
		for _, w := range r.Forward {
			parts = append(parts, fmt.Sprintf("%s (%d)", w.Cluster, w.Weight))
		}
		return "forward to " + strings.Join(parts, ", ")
	}
}

func redirect(r *ir.Redirect) string {
	s := r.Scheme
	if s == "" {
		s = "(same scheme)"
	}
	s += "://"
	if r.Host != "" {
		s += r.Host
	} else {
		s += "(same host)"
	}
	if r.Port != 0 {
		s += fmt.Sprintf(":%d", r.Port)
	}
	switch {
	case r.Path != "":
		s += r.Path
	case r.Prefix != "":
		s += r.Prefix + "…"
	}
	s += fmt.Sprintf(" (%d)", r.Code)
	if r.StripQuery {
		s += " without query"
	}
	return s
}

func respond(r *ir.Respond) string {
	if r.Body == "" {
		return fmt.Sprintf("%d", r.Status)
	}
	body := r.Body
	if len(body) > 40 {
		body = body[:37] + "..."
	}
	return fmt.Sprintf("%d %q", r.Status, body)
}

func duration(d *time.Duration) string {
	switch {
	case d == nil:
		return "Envoy's default"
	case *d == 0:
		return "none"
	}
	return d.String()
}

func retry(r *ir.Retry) string {
	if r == nil {
		return "none"
	}
	s := fmt.Sprintf("%d× on %s", r.Attempts, strings.Join(r.On, ","))
	if r.PerTryTimeout != nil {
		s += " per try " + r.PerTryTimeout.String()
	}
	if len(r.StatusCodes) > 0 {
		s += fmt.Sprintf(" codes %v", r.StatusCodes)
	}
	return s
}

func rewrite(r *ir.Route) string {
	var parts []string
	if r.PrefixRewrite != nil {
		parts = append(parts, "prefix → "+*r.PrefixRewrite)
	}
	if r.RegexRewrite != nil {
		parts = append(parts, fmt.Sprintf("regex %q → %q", r.RegexRewrite.Pattern, r.RegexRewrite.Substitution))
	}
	if r.HostRewrite != "" {
		parts = append(parts, "host → "+r.HostRewrite)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mirror(m *ir.Mirror) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprintf("%g%% to %s", m.Percent, m.Cluster)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func hash(hs []ir.HashPolicy) string {
	if len(hs) == 0 {
		return "none"
	}
	var parts []string
	for _, h := range hs {
		switch {
		case h.Header != "":
			parts = append(parts, "header "+h.Header)
		case h.Cookie != nil:
			parts = append(parts, "cookie "+h.Cookie.Name)
		default:
			parts = append(parts, "source IP")
		}
	}
	return strings.Join(parts, ", ")
}

func headerChanges(what string, b, h ir.HeaderOps) []string {
	render := func(o ir.HeaderOps) string {
		var parts []string
		for _, x := range o.Set {
			parts = append(parts, fmt.Sprintf("set %s=%q", x.Name, x.Value))
		}
		for _, x := range o.Add {
			parts = append(parts, fmt.Sprintf("add %s=%q", x.Name, x.Value))
		}
		for _, x := range o.Remove {
			parts = append(parts, "remove "+x)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	if rb, rh := render(b), render(h); rb != rh {
		return []string{fmt.Sprintf("%s: %s → %s", what, rb, rh)}
	}
	return nil
}

// tcpTargets describes where a TCP proxy sends connections: a backend, or
// backends with their shares.
func tcpTargets(p *ir.TCPProxy) string {
	if len(p.Clusters) == 1 {
		return p.Clusters[0].Cluster
	}
	var total uint64
	for _, c := range p.Clusters {
		total += uint64(c.Weight)
	}
	parts := make([]string, 0, len(p.Clusters))
	for _, c := range p.Clusters {
		parts = append(parts, fmt.Sprintf("%s %d%%", c.Cluster, uint64(c.Weight)*100/max(total, 1)))
	}
	return strings.Join(parts, ", ")
}
