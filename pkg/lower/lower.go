// Package lower turns a repository's intents into one IR per gateway. It
// checks everything the schema cannot: references between documents, names,
// regular expressions, hostname and route conflicts, and route precedence.
package lower

import (
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/ir"
)

// Defaults applied when neither the intent nor its gateway says otherwise.
const (
	DefaultConnectTimeout = 2 * time.Second
	DefaultXDSDir         = "/etc/envoy/xds"
	DefaultAccessLogPath  = "/dev/stdout"
	DefaultMinTLS         = "1.2"
)

// DefaultALPN is offered on HTTPS listeners that name none.
var DefaultALPN = []string{"h2", "http/1.1"}

// Lower builds the IR of every gateway, sorted by name. When the returned
// list has errors, the gateways must not be used.
func Lower(m *intent.Model) ([]*ir.Gateway, diag.List) {
	return lower(m, runtime.GOMAXPROCS(0))
}

// lower is Lower with at most workers goroutines lowering routes.
func lower(m *intent.Model, workers int) ([]*ir.Gateway, diag.List) {
	l := &lowerer{m: m, workers: workers}
	l.index()
	l.lowerCertificates()
	l.lowerBackends()
	l.lowerSecurityDefs()
	gws := l.lowerGateways()
	l.lowerVirtualHosts(gws)
	l.lowerPatches(gws)
	l.unused()
	var out []*ir.Gateway
	for _, g := range gws {
		out = append(out, g.finish(l))
	}
	slices.SortFunc(out, func(a, b *ir.Gateway) int { return strings.Compare(a.Name, b.Name) })
	return out, l.diags
}

type lowerer struct {
	m       *intent.Model
	diags   diag.List
	workers int // goroutines that may lower routes at once (parallel.go)

	gateways     map[string]*intent.Gateway
	backends     map[string]*intent.Backend
	certificates map[string]*intent.Certificate
	routeSets    map[string]*intent.RouteSet
	virtualHosts map[string]*intent.VirtualHost // the first of each name

	authProviders     map[string]*intent.AuthProvider
	authServices      map[string]*intent.AuthService
	rateLimitServices map[string]*intent.RateLimitService
	jwtProviders      map[string]*ir.JWTProvider // lowered; absent when in error
	authSvcs          map[string]*ir.AuthService
	rlSvcs            map[string]*ir.RateLimitService
	usedDef           map[string]bool // "kind/name" of the definitions a security rule names

	clusters map[string]*ir.Cluster // lowered backends
	secrets  map[string]*certInfo
	usedBE   map[string]bool
	usedCert map[string]bool
	usedRS   map[string]bool

	vhostCompression map[*intent.VirtualHost]*ir.Compression
}

type certKind int

const (
	certKeyPair certKind = iota
	certCA
	certSDS
)

type certInfo struct {
	kind    certKind
	secret  *ir.Secret // nil for SDS
	sdsName string     // SDS only
}

// index maps names to documents, reporting a name used twice for one kind.
// The first declaration (by file and position) wins.
func (l *lowerer) index() {
	l.gateways = indexKind(l, l.m.Gateways, func(g *intent.Gateway) *intent.Doc { return g.Doc })
	l.backends = indexKind(l, l.m.Backends, func(b *intent.Backend) *intent.Doc { return b.Doc })
	l.certificates = indexKind(l, l.m.Certificates, func(c *intent.Certificate) *intent.Doc { return c.Doc })
	l.routeSets = indexKind(l, l.m.RouteSets, func(r *intent.RouteSet) *intent.Doc { return r.Doc })
	l.authProviders = indexKind(l, l.m.AuthProviders, func(p *intent.AuthProvider) *intent.Doc { return p.Doc })
	l.authServices = indexKind(l, l.m.AuthServices, func(s *intent.AuthService) *intent.Doc { return s.Doc })
	l.rateLimitServices = indexKind(l, l.m.RateLimitServices, func(s *intent.RateLimitService) *intent.Doc { return s.Doc })
	// Virtual hosts are not referenced by name, but their names become
	// Envoy virtual host names and must be unique too.
	l.virtualHosts = indexKind(l, l.m.VirtualHosts, func(v *intent.VirtualHost) *intent.Doc { return v.Doc })
	l.usedBE = map[string]bool{}
	l.usedCert = map[string]bool{}
	l.usedRS = map[string]bool{}
	l.usedDef = map[string]bool{}
}

func indexKind[T any](l *lowerer, items []T, doc func(T) *intent.Doc) map[string]T {
	out := map[string]T{}
	for _, it := range items {
		d := doc(it)
		if prev, dup := out[d.Name]; dup {
			pd := doc(prev)
			l.diags.Errorf(d.Pos("metadata", "name"), "duplicate-name", "%s is declared twice", d.ID()).
				Note(pd.Pos("metadata", "name"), "first declared here")
			continue
		}
		out[d.Name] = it
	}
	return out
}

// unknown reports a reference to a missing document, with a suggestion.
// where, if set, says where the name was looked up: ` in gateway "edge"`.
func (l *lowerer) unknown(pos diag.Pos, kind, name string, names []string, where ...string) {
	msg := fmt.Sprintf("unknown %s %q%s", kind, name, strings.Join(where, ""))
	if s := diag.Suggest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	l.diags.Errorf(pos, "unknown-reference", "%s", msg)
}

func keys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// duration parses a schema-checked duration, reporting values too large
// for Go's time.Duration.
func (l *lowerer) duration(d *intent.Doc, s string, path ...any) *time.Duration {
	if s == "" {
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		l.diags.Errorf(d.Pos(path...), "invalid-value", "%s: invalid duration %q: %v", intent.Path(path...), s, strings.TrimPrefix(err.Error(), "time: "))
		return nil
	}
	return &v
}

// oneOf reports unless exactly one (or, if optional, at most one) of the
// named fields is set.
func (l *lowerer) oneOf(d *intent.Doc, path []any, optional bool, fields []string, set []bool) bool {
	var named []string
	for i, s := range set {
		if s {
			named = append(named, fields[i])
		}
	}
	if len(named) == 1 || (optional && len(named) == 0) {
		return true
	}
	where := intent.Path(path...)
	if where != "" {
		where += ": "
	}
	if len(named) == 0 {
		l.diags.Errorf(d.KeyPos(path...), "oneof", "%sset one of %s", where, strings.Join(fields, ", "))
	} else {
		l.diags.Errorf(d.KeyPos(append(slices.Clone(path), named[1])...), "oneof", "%sset only one of %s (found %s)", where, strings.Join(fields, ", "), strings.Join(named, " and "))
	}
	return false
}

// validHost reports whether s is an IP address or a DNS name.
func validHost(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if len(s) > 253 || s == "" {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func u32(p *int) *uint32 {
	if p == nil {
		return nil
	}
	v := uint32(*p)
	return &v
}

// under is the path of something below path, in a slice of its own (one
// allocation: a route's lowering builds many such paths).
func under(path []any, p ...any) []any {
	return append(append(make([]any, 0, len(path)+len(p)), path...), p...)
}
