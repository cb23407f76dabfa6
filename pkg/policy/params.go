package policy

import (
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/glob"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
)

// The schema checks the types of the policy settings; these checks are
// what it cannot say: a duration that does not fit in int64 nanoseconds
// (Rego's time.parse_duration_ns fails on it, and a policy comparing
// against it then never fires), globs that do not compile, teams that do
// not exist. An invalid setting would silently switch a policy off.

// maxLimitTimeout and the memory bounds keep the limits meaningful: a
// limit of hours is no limit for CI, and a few megabytes refuse ordinary
// policies.
const (
	maxLimitTimeout = time.Hour
	minLimitMemory  = 1 << 20
	maxLimitMemory  = 64 << 30
)

// maxRetryAttempts is Envoy's num_retries, a uint32.
const maxRetryAttempts = math.MaxUint32

var memoryRE = regexp.MustCompile(`^([1-9][0-9]*)(Ki|Mi|Gi)$`)

// ProjectLimits reads the policy limits of edgectl.yaml, defaults filled
// in; a setting out of range is an error at its position, and its default
// applies.
func ProjectLimits(proj *intent.Project) (Limits, diag.List) {
	l := DefaultLimits
	var diags diag.List
	if proj == nil || proj.Spec.Policies == nil || proj.Spec.Policies.Limits == nil {
		return l, nil
	}
	set := proj.Spec.Policies.Limits
	at := func(field string) diag.Pos { return proj.Doc.Pos("spec", "policies", "limits", field) }
	if set.Timeout != "" {
		d, err := time.ParseDuration(set.Timeout)
		switch {
		case err != nil:
			diags.Errorf(at("timeout"), "invalid-value", "policy timeout %q is not a duration edgectl can use: %v", set.Timeout, err)
		case d <= 0 || d > maxLimitTimeout:
			diags.Errorf(at("timeout"), "invalid-value", "policy timeout %s is out of range: give more than 0s and at most %s", set.Timeout, maxLimitTimeout)
		default:
			l.Timeout = d
		}
	}
	if set.Memory != "" {
		n, ok := parseSize(set.Memory)
		if !ok || n < minLimitMemory || n > maxLimitMemory {
			diags.Errorf(at("memory"), "invalid-value", "policy memory limit %q is out of range: give a size from 1Mi to 64Gi, such as 512Mi", set.Memory)
		} else {
			l.Memory = n
		}
	}
	return l, diags
}

func parseSize(s string) (int64, bool) {
	m := memoryRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	shift := map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[m[2]]
	if n > math.MaxInt64/shift {
		return 0, false
	}
	return n * shift, true
}

// CheckParams checks the parameters of the built-in policies edgectl.yaml
// switches on. Each problem is an error at the parameter's position.
func CheckParams(proj *intent.Project) diag.List {
	if proj == nil || proj.Spec.Policies == nil {
		return nil
	}
	var diags diag.List
	b := proj.Spec.Policies.Builtin
	teams := map[string]bool{}
	for _, t := range proj.Spec.Teams {
		teams[t.Name] = true
	}
	check := func(yamlName string, p *intent.BuiltinParams, checks ...func(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List) {
		if p == nil {
			return
		}
		at := func(path ...any) diag.Pos {
			return proj.Doc.Pos(append([]any{"spec", "policies", "builtin", yamlName}, path...)...)
		}
		for _, c := range checks {
			for _, d := range c(p, at) {
				d.Message = yamlName + ": " + d.Message
				diags.Add(d)
			}
		}
	}
	check("tlsRequired", b.TLSRequired, globs("hosts", func(p *intent.BuiltinParams) []string { return p.Hosts }, '.'))
	check("maxTimeout", b.MaxTimeout, maxDuration)
	check("maxRetries", b.MaxRetries, maxCount)
	check("wildcardHosts", b.WildcardHosts,
		nonEmpty("teams", func(p *intent.BuiltinParams) []string { return p.Teams }),
		func(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
			var diags diag.List
			for i, t := range p.Teams {
				if !teams[t] {
					diags.Errorf(at("teams", i), "invalid-value", "team %q is not declared under spec.teams", t)
				}
			}
			return diags
		})
	check("healthChecks", b.HealthChecks, globs("exclude", func(p *intent.BuiltinParams) []string { return p.Exclude }))
	check("upstreamTLS", b.UpstreamTLS, globs("exclude", func(p *intent.BuiltinParams) []string { return p.Exclude }))
	check("redirectHosts", b.RedirectHosts,
		nonEmpty("allowed", func(p *intent.BuiltinParams) []string { return p.Allowed }),
		globs("allowed", func(p *intent.BuiltinParams) []string { return p.Allowed }, '.'))
	hostsAndPaths := []func(*intent.BuiltinParams, func(...any) diag.Pos) diag.List{
		globs("hosts", func(p *intent.BuiltinParams) []string { return p.Hosts }, '.'),
		pathPrefixes,
	}
	check("authRequired", b.AuthRequired, hostsAndPaths...)
	check("rateLimitRequired", b.RateLimitRequired, hostsAndPaths...)
	check("corsOrigins", b.CORSOrigins,
		nonEmpty("allowed", func(p *intent.BuiltinParams) []string { return p.Allowed }),
		globs("allowed", func(p *intent.BuiltinParams) []string { return p.Allowed }, '.'))
	check("ipAllowlist", b.IPAllowlist,
		nonEmpty("allowed", func(p *intent.BuiltinParams) []string { return p.Allowed }),
		cidrs)
	check("faultInjection", b.FaultInjection, func(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
		var diags diag.List
		if dup := duplicates(p.Gateways); dup != "" {
			diags.Errorf(at("gateways"), "invalid-value", "gateways lists %q twice", dup)
		}
		return diags
	})
	return diags
}

func pathPrefixes(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
	var diags diag.List
	for i, q := range p.Paths {
		if !strings.HasPrefix(q, "/") {
			diags.Errorf(at("paths", i), "invalid-value", "paths[%d]: %q is not a path prefix; start it with /", i, q)
		}
	}
	if dup := duplicates(p.Paths); dup != "" {
		diags.Errorf(at("paths"), "invalid-value", "paths lists %q twice", dup)
	}
	return diags
}

func cidrs(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
	var diags diag.List
	for i, c := range p.Allowed {
		pfx, err := netip.ParsePrefix(c)
		switch {
		case err != nil:
			diags.Errorf(at("allowed", i), "invalid-value", "allowed[%d]: %q is not a CIDR range such as 10.0.0.0/8", i, c)
		case pfx.Masked() != pfx:
			diags.Errorf(at("allowed", i), "invalid-value", "allowed[%d]: %q has bits set past its prefix length; write %s", i, c, pfx.Masked())
		}
	}
	if dup := duplicates(p.Allowed); dup != "" {
		diags.Errorf(at("allowed"), "invalid-value", "allowed lists %q twice", dup)
	}
	return diags
}

func maxDuration(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
	var diags diag.List
	s, ok := p.Max.(string)
	if !ok {
		diags.Errorf(at("max"), "invalid-value", "max must be a duration such as \"30s\"")
		return diags
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		diags.Errorf(at("max"), "invalid-value", "max %q is not a duration edgectl can use (at most about %s): %v", s, time.Duration(math.MaxInt64).Truncate(time.Hour), err)
	case d <= 0:
		diags.Errorf(at("max"), "invalid-value", "max %s allows no timeout at all; give a positive duration", s)
	}
	return diags
}

func maxCount(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
	var diags diag.List
	var n float64
	switch v := p.Max.(type) {
	case int:
		n = float64(v)
	case int64:
		n = float64(v)
	case uint64:
		n = float64(v)
	case float64:
		n = v
	default:
		diags.Errorf(at("max"), "invalid-value", "max must be a whole number of retry attempts")
		return diags
	}
	if n != math.Trunc(n) || n < 0 || n > maxRetryAttempts {
		diags.Errorf(at("max"), "invalid-value", "max %v is out of range: give a whole number from 0 to %d (Envoy's limit)", p.Max, uint64(maxRetryAttempts))
	}
	return diags
}

func nonEmpty(field string, list func(*intent.BuiltinParams) []string) func(*intent.BuiltinParams, func(...any) diag.Pos) diag.List {
	return func(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
		var diags diag.List
		if len(list(p)) == 0 {
			diags.Errorf(at(field), "invalid-value", "%s is empty, so the policy cannot be satisfied; list at least one", field)
		}
		return diags
	}
}

// globs checks patterns as Rego's glob.match compiles them: one that does
// not compile matches nothing, silently.
func globs(field string, list func(*intent.BuiltinParams) []string, delimiters ...rune) func(*intent.BuiltinParams, func(...any) diag.Pos) diag.List {
	return func(p *intent.BuiltinParams, at func(...any) diag.Pos) diag.List {
		var diags diag.List
		for i, pattern := range list(p) {
			if pattern == "" {
				diags.Errorf(at(field, i), "invalid-value", "%s[%d] is empty", field, i)
				continue
			}
			if _, err := glob.Compile(pattern, delimiters...); err != nil {
				diags.Errorf(at(field, i), "invalid-value", "%s[%d]: %q is not a valid glob: %v", field, i, pattern, err)
			}
		}
		if dup := duplicates(list(p)); dup != "" {
			diags.Errorf(at(field), "invalid-value", "%s lists %q twice", field, dup)
		}
		return diags
	}
}

func duplicates(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}
