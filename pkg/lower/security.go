package lower

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Security blocks. Each level (gateway defaults, virtual host, include,
// route) may set any feature; a feature it leaves out is inherited from
// the level above, one it sets replaces the inherited one whole, and
// disabled: true, alone, switches the feature off for everything below.

// DefaultRateLimitStatus is the status of a request a local rate limit
// refuses.
const DefaultRateLimitStatus = 429

// origin says where a security block was written.
type origin struct {
	level ir.SettingLevel
	name  string
	team  string
}

// security lowers the security block at path of d. It returns nil when
// the block is absent or sets nothing.
func (l *lowerer) security(d *intent.Doc, path []any, s *intent.Security, o origin) *ir.Security {
	if s == nil {
		return nil
	}
	at := func(p ...any) []any { return under(path, p...) }
	from := func(feature string) ir.Origin {
		return ir.Origin{Level: o.level, Name: o.name, Pos: d.KeyPos(at(feature)...), Team: o.team}
	}
	out := &ir.Security{}
	if j := s.JWT; j != nil && l.alone(d, at("jwt"), j.Disabled, len(j.Providers) > 0 || j.Optional, "providers") {
		r := &ir.JWTRule{Disabled: j.Disabled, Optional: j.Optional, From: from("jwt")}
		if !j.Disabled && len(j.Providers) == 0 {
			l.diags.Errorf(d.KeyPos(at("jwt")...), "invalid-value", "%s: list the auth providers whose tokens are accepted (providers)", intent.Path(at("jwt")...))
		}
		for i, name := range j.Providers {
			if _, ok := l.authProviders[name]; !ok {
				l.unknown(d.Pos(at("jwt", "providers", i)...), "auth provider", name, keys(l.authProviders))
			}
			l.usedDef["AuthProvider/"+name] = true
		}
		r.Providers = sortedSet(j.Providers)
		out.JWT = r
	}
	if e := s.ExtAuth; e != nil && l.alone(d, at("extAuth"), e.Disabled, e.Service != "" || len(e.Context) > 0, "service") {
		r := &ir.ExtAuthRule{Disabled: e.Disabled, Service: e.Service, From: from("extAuth")}
		if e.Service != "" {
			if _, ok := l.authServices[e.Service]; !ok {
				l.unknown(d.Pos(at("extAuth", "service")...), "auth service", e.Service, keys(l.authServices))
			}
			l.usedDef["AuthService/"+e.Service] = true
		} else if !e.Disabled {
			l.diags.Errorf(d.KeyPos(at("extAuth")...), "invalid-value", "%s: name the authorization service (service), or write disabled: true", intent.Path(at("extAuth")...))
		}
		for _, k := range keys(e.Context) {
			r.Context = append(r.Context, ir.Header{Name: k, Value: e.Context[k]})
		}
		out.ExtAuth = r
	}
	if b := s.BasicAuth; b != nil && l.alone(d, at("basicAuth"), b.Disabled, b.UsersFile != "", "usersFile") {
		out.BasicAuth = &ir.BasicAuthRule{Disabled: b.Disabled, UsersFile: b.UsersFile, From: from("basicAuth")}
	}
	if f := s.IPFilter; f != nil && l.alone(d, at("ipFilter"), f.Disabled, len(f.Allow)+len(f.Deny) > 0, "allow or deny") {
		out.IP = &ir.IPRule{Disabled: f.Disabled, Allow: l.cidrs(d, at("ipFilter", "allow"), f.Allow),
			Deny: l.cidrs(d, at("ipFilter", "deny"), f.Deny), From: from("ipFilter")}
	}
	if c := s.CORS; c != nil && l.alone(d, at("cors"), c.Disabled, len(c.AllowOrigins) > 0 || len(c.AllowMethods) > 0 || len(c.AllowHeaders) > 0 ||
		len(c.ExposeHeaders) > 0 || c.MaxAge != "" || c.AllowCredentials, "allowOrigins") {
		out.CORS = l.cors(d, at("cors"), c, from("cors"))
	}
	if r := s.LocalRateLimit; r != nil && l.alone(d, at("localRateLimit"), r.Disabled, r.Requests != nil || r.Per != "" || r.By != nil || r.Status != 0 || r.Headers, "requests and per") {
		out.LocalRateLimit = l.localRateLimit(d, at("localRateLimit"), r, from("localRateLimit"))
	}
	if r := s.RateLimit; r != nil && l.alone(d, at("rateLimit"), r.Disabled, r.Service != "" || len(r.Limits) > 0, "service and limits") {
		out.RateLimit = l.rateLimit(d, at("rateLimit"), r, from("rateLimit"))
	}
	if out.Empty() {
		return nil
	}
	return out
}

// alone checks the rule for disabled: it stands alone, and a feature
// that is not disabled sets something. It reports whether the rule is
// worth lowering further.
func (l *lowerer) alone(d *intent.Doc, path []any, disabled, other bool, want string) bool {
	switch {
	case disabled && other:
		l.diags.Errorf(d.KeyPos(append(slices.Clone(path), "disabled")...), "security-disabled", "%s: disabled: true switches the feature off and stands alone; remove the other settings, or remove disabled", intent.Path(path...))
		return false
	case !disabled && !other:
		l.diags.Errorf(d.KeyPos(path...), "security-disabled", "%s: set %s, or write disabled: true to switch the inherited setting off", intent.Path(path...), want)
		return false
	}
	return true
}

// cidrs parses address ranges into canonical form, sorted. A bare
// address is a range of one; a range with host bits set is refused with
// its canonical form, since it is most likely a typo for another range.
func (l *lowerer) cidrs(d *intent.Doc, path []any, in []string) []string {
	var out []string
	for i, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				l.diags.Errorf(d.Pos(append(slices.Clone(path), i)...), "invalid-cidr", "%s[%d]: %q is not an address range such as 10.0.0.0/8 or 2001:db8::/32", intent.Path(path...), i, s)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if m := p.Masked(); m != p {
			l.diags.Errorf(d.Pos(append(slices.Clone(path), i)...), "invalid-cidr", "%s[%d]: %s has bits set beyond its /%d prefix; write %s for the range, or %s for the one address",
				intent.Path(path...), i, s, p.Bits(), m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
			continue
		}
		out = append(out, p.String())
	}
	return sortedSet(out)
}

func (l *lowerer) cors(d *intent.Doc, path []any, c *intent.CORS, from ir.Origin) *ir.CORSRule {
	at := func(p ...any) []any { return under(path, p...) }
	r := &ir.CORSRule{Disabled: c.Disabled, Methods: sortedSet(c.AllowMethods), Headers: lowerNames(c.AllowHeaders),
		ExposeHeaders: lowerNames(c.ExposeHeaders), Credentials: c.AllowCredentials, From: from}
	if c.Disabled {
		return r
	}
	if len(c.AllowOrigins) == 0 {
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: list the origins allowed (allowOrigins)", intent.Path(path...))
	}
	for i, o := range c.AllowOrigins {
		p := at("allowOrigins", i)
		if !l.oneOf(d, p, false, []string{"exact", "suffix", "regex"}, []bool{o.Exact != nil, o.Suffix != nil, o.Regex != nil}) {
			continue
		}
		switch {
		case o.Exact != nil:
			if *o.Exact == "*" && c.AllowCredentials {
				l.diags.Errorf(d.Pos(append(p, "exact")...), "invalid-origin", "%s.exact: browsers refuse credentials from a server that allows every origin (*); list the origins", intent.Path(p...))
				continue
			}
			if *o.Exact != "*" && !validOrigin(*o.Exact) {
				l.diags.Errorf(d.Pos(append(p, "exact")...), "invalid-origin", "%s.exact: %q is not an origin: write scheme://host or scheme://host:port, such as https://app.example.com, with no path", intent.Path(p...), *o.Exact)
				continue
			}
			r.Origins = append(r.Origins, ir.StringMatch{Kind: ir.MatchExact, Value: *o.Exact})
		case o.Suffix != nil:
			if strings.ContainsAny(*o.Suffix, "/*") {
				l.diags.Errorf(d.Pos(append(p, "suffix")...), "invalid-origin", "%s.suffix: %q is compared with the end of the origin, which never holds / or *; write a host suffix such as .example.com", intent.Path(p...), *o.Suffix)
				continue
			}
			r.Origins = append(r.Origins, ir.StringMatch{Kind: ir.MatchSuffix, Value: *o.Suffix})
		default:
			if l.regex(d, *o.Regex, append(p, "regex")...) {
				r.Origins = append(r.Origins, ir.StringMatch{Kind: ir.MatchRegex, Value: *o.Regex})
			}
		}
	}
	r.MaxAge = l.duration(d, c.MaxAge, at("maxAge")...)
	return r
}

// validOrigin reports whether s is an origin as browsers send it.
func validOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

func (l *lowerer) localRateLimit(d *intent.Doc, path []any, r *intent.LocalRateLimit, from ir.Origin) *ir.LocalRateLimitRule {
	at := func(p ...any) []any { return under(path, p...) }
	out := &ir.LocalRateLimitRule{Disabled: r.Disabled, Status: DefaultRateLimitStatus, Headers: r.Headers, From: from}
	if r.Disabled {
		return out
	}
	switch {
	case r.Requests == nil:
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: set requests, the number of requests allowed each per", intent.Path(path...))
	case *r.Requests == 0:
		l.diags.Errorf(d.Pos(at("requests")...), "invalid-value", "%s: 0 would refuse every request; allow at least 1, or write disabled: true to switch the limit off", intent.Path(at("requests")...))
	default:
		out.Requests = uint32(*r.Requests)
	}
	if r.Per == "" {
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: set per, the period the requests are allowed in, such as 1s or 1m", intent.Path(path...))
	} else if v := l.positive(d, r.Per, at("per")...); v != nil {
		if *v%time.Millisecond != 0 || *v < 50*time.Millisecond {
			l.diags.Errorf(d.Pos(at("per")...), "invalid-value", "%s: Envoy refills token buckets at most every 50ms, in whole milliseconds", intent.Path(at("per")...))
		}
		out.Per = *v
	}
	if b := r.By; b != nil && l.oneOf(d, at("by"), false, []string{"clientIP", "header"}, []bool{b.ClientIP, b.Header != ""}) {
		if b.ClientIP {
			out.By = &ir.RateKey{Kind: ir.KeyClient}
		} else {
			out.By = &ir.RateKey{Kind: ir.KeyHeader, Header: strings.ToLower(b.Header)}
		}
	}
	if r.Status != 0 {
		out.Status = uint32(r.Status)
	}
	return out
}

func (l *lowerer) rateLimit(d *intent.Doc, path []any, r *intent.RateLimit, from ir.Origin) *ir.RateLimitRule {
	at := func(p ...any) []any { return under(path, p...) }
	out := &ir.RateLimitRule{Disabled: r.Disabled, Service: r.Service, From: from}
	if r.Disabled {
		return out
	}
	if r.Service == "" {
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: name the rate-limit service (service)", intent.Path(path...))
	} else if _, ok := l.rateLimitServices[r.Service]; !ok {
		l.unknown(d.Pos(at("service")...), "rate-limit service", r.Service, keys(l.rateLimitServices))
	}
	l.usedDef["RateLimitService/"+r.Service] = true
	if len(r.Limits) == 0 {
		l.diags.Errorf(d.KeyPos(path...), "invalid-value", "%s: list at least one limit (limits)", intent.Path(path...))
	}
	seen := map[string]int{}
	for i, lim := range r.Limits {
		p := at("limits", i)
		rl := ir.RateLimit{Requests: uint32(lim.Requests), Unit: lim.Unit}
		ok := true
		for j, k := range lim.By {
			kp := append(slices.Clone(p), "by", j)
			if !l.oneOf(d, kp, false, []string{"clientIP", "header", "path", "genericKey", "team"},
				[]bool{k.ClientIP, k.Header != "", k.Path, k.GenericKey != "", k.Team}) {
				ok = false
				continue
			}
			switch {
			case k.ClientIP:
				rl.By = append(rl.By, ir.RateKey{Kind: ir.KeyClient})
			case k.Header != "":
				rl.By = append(rl.By, ir.RateKey{Kind: ir.KeyHeader, Header: strings.ToLower(k.Header)})
			case k.Path:
				rl.By = append(rl.By, ir.RateKey{Kind: ir.KeyPath})
			case k.GenericKey != "":
				rl.By = append(rl.By, ir.RateKey{Kind: ir.KeyGeneric, Value: k.GenericKey})
			case l.m.Project == nil || len(l.m.Project.Spec.Teams) == 0:
				// Without teams every route's team is the same nobody.
				l.diags.Errorf(d.Pos(append(kp, "team")...), "invalid-value", "%s: counting by team needs teams, and %s declares none; count by genericKey to share one count", intent.Path(append(kp, "team")...), intent.ProjectFile)
				ok = false
			default:
				rl.By = append(rl.By, ir.RateKey{Kind: ir.KeyTeam})
			}
		}
		if !ok {
			continue
		}
		// Two limits counting by the same keys in the same unit would be
		// one descriptor with two values at the service.
		key := fmt.Sprint(rl.Unit, rl.By)
		if j, dup := seen[key]; dup {
			l.diags.Errorf(d.KeyPos(p...), "invalid-value", "%s: limits[%d] already counts by the same keys per %s; keep one of them", intent.Path(p...), j, lim.Unit).
				Note(d.KeyPos(at("limits", j)...), "limits[%d] is here", j)
			continue
		}
		seen[key] = i
		out.Limits = append(out.Limits, rl)
	}
	return out
}

// clientCertificates lowers a virtual host's spec.tls.clientCertificates.
func (l *lowerer) clientCertificates(vh *intent.VirtualHost, gb *gatewayBuilder) *ir.ClientCertificates {
	d := vh.Doc
	c := vh.Spec.TLS.ClientCertificates
	path := []any{"spec", "tls", "clientCertificates"}
	at := func(p ...any) []any { return under(path, p...) }
	out := &ir.ClientCertificates{Optional: c.Optional, CRLFile: c.CRLFile,
		From: ir.Origin{Level: ir.LevelVirtualHost, Name: d.Name, Pos: d.KeyPos(path...), Team: d.Team}}
	ca, ok := l.certRef(d, c.CA, true, at("ca")...)
	if ok {
		out.CA = *ca
		if ca.SDS && gb.g.SDS == nil {
			l.diags.Errorf(d.Pos(at("ca")...), "tls", "certificate %q comes from an SDS server, but gateway %q has no spec.sds", ca.Name, gb.g.Name).
				Note(gb.src.Doc.KeyPos("spec"), "gateway %q is declared here", gb.g.Name)
		}
	}
	for i, s := range c.SubjectAltNames {
		p := at("subjectAltNames", i)
		if !l.oneOf(d, p, false, []string{"exact", "prefix", "suffix", "regex"}, []bool{s.Exact != nil, s.Prefix != nil, s.Suffix != nil, s.Regex != nil}) {
			continue
		}
		m := ir.SANMatch{Type: s.Type}
		switch {
		case s.Exact != nil:
			m.Kind, m.Value = ir.MatchExact, *s.Exact
		case s.Prefix != nil:
			m.Kind, m.Value = ir.MatchPrefix, *s.Prefix
		case s.Suffix != nil:
			m.Kind, m.Value = ir.MatchSuffix, *s.Suffix
		default:
			m.Kind, m.Value = ir.MatchRegex, *s.Regex
			if !l.regex(d, *s.Regex, append(p, "regex")...) {
				continue
			}
		}
		out.SubjectAltNames = append(out.SubjectAltNames, m)
	}
	if f := c.Forward; f != nil {
		out.Forward = &ir.ClientCertForwarding{Mode: f.Mode, Fields: sortedSet(f.Fields)}
		if len(f.Fields) > 0 && (f.Mode == "sanitize" || f.Mode == "forward-only" || f.Mode == "always-forward-only") {
			l.diags.Errorf(d.KeyPos(at("forward", "fields")...), "tls", "%s: mode %s sets nothing about the client's certificate; fields apply to append-forward and sanitize-set", intent.Path(at("forward", "fields")...), f.Mode)
		}
	}
	return out
}

// chainKey tells filter chains apart: virtual hosts sharing a certificate
// share a chain only when they ask clients for certificates alike.
func chainKey(cert *ir.CertRef, cc *ir.ClientCertificates) string {
	if cc == nil {
		return cert.Name
	}
	key := fmt.Sprintf("%s\x00%s\x00%t\x00%v\x00%s", cert.Name, cc.CA.Name, cc.Optional, cc.SubjectAltNames, cc.CRLFile)
	if f := cc.Forward; f != nil {
		key += fmt.Sprintf("\x00%s\x00%v", f.Mode, f.Fields)
	}
	return key
}
