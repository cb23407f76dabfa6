package xds

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Check holds resources to what Envoy would accept: every message passes
// its generated validation, including messages packed in Any (which the
// generated code never opens), and every reference between resources
// resolves. A failure is a bug in edgectl.
func Check(r *Resources, mode Mode) error { return CheckAfter(r, mode, nil) }

// CheckAfter is Check of another form of resources already checked (done):
// the clusters both share, which Translate makes once when they are the
// same in every form, are not validated again. Names and references are.
func CheckAfter(r *Resources, mode Mode, done *Resources) error {
	var checked map[*clusterv3.Cluster]bool
	if done != nil {
		checked = make(map[*clusterv3.Cluster]bool, len(done.Clusters))
		for _, c := range done.Clusters {
			checked[c] = true
		}
	}
	type job struct {
		m     proto.Message
		where string
	}
	var jobs []job
	for _, l := range r.Listeners {
		jobs = append(jobs, job{l, "listener " + l.Name})
	}
	for _, rc := range r.Routes {
		// A large route configuration in pieces, so it is not one
		// goroutine's work; the generated validation has no rule on
		// the lists of virtual hosts and routes themselves.
		where := "route configuration " + rc.Name
		if countRoutes(rc) < checkPiece {
			jobs = append(jobs, job{rc, where})
			continue
		}
		jobs = append(jobs, job{ShallowWithout(rc, "virtual_hosts"), where})
		for _, vh := range rc.VirtualHosts {
			at := where + " virtual host " + vh.Name
			if len(vh.Routes) < checkPiece {
				jobs = append(jobs, job{vh, at})
				continue
			}
			jobs = append(jobs, job{ShallowWithout(vh, "routes"), at})
			for _, rt := range vh.Routes {
				jobs = append(jobs, job{rt, at + " route " + rt.Name})
			}
		}
	}
	for _, c := range r.Clusters {
		if !checked[c] {
			jobs = append(jobs, job{c, "cluster " + c.Name})
		}
	}
	for _, s := range r.Secrets {
		jobs = append(jobs, job{s, "secret " + s.Name})
	}
	for _, e := range r.Endpoints {
		jobs = append(jobs, job{e, "endpoints " + e.ClusterName})
	}
	results := make([][]error, len(jobs)+2)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		g.Go(func() error { results[i] = validateDeep(j.m, j.where); return nil })
	}
	g.Go(func() error { results[len(jobs)] = checkRefs(r, mode); return nil })
	g.Go(func() error { results[len(jobs)+1] = checkNames(r); return nil })
	_ = g.Wait()
	return errors.Join(slices.Concat(results...)...)
}

// CheckBootstrap validates a bootstrap deeply, and the names of its static
// resources.
func CheckBootstrap(b *bootstrapv3.Bootstrap, name string) error {
	errs := validateDeep(b, name)
	if err := CheckStaticNames(b); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return errors.Join(errs...)
}

// checkPiece is the number of routes from which a route configuration or
// virtual host is validated in pieces.
const checkPiece = 512

func countRoutes(rc *routev3.RouteConfiguration) int {
	n := 0
	for _, vh := range rc.VirtualHosts {
		n += len(vh.Routes)
	}
	return n
}

// ShallowWithout copies m's fields but one; the copy shares their values,
// so neither may be changed while the other is in use.
func ShallowWithout(m proto.Message, field protoreflect.Name) proto.Message {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != field {
			dst.Set(fd, v)
		}
		return true
	})
	return dst.Interface()
}

type validatorAll interface{ ValidateAll() error }

// validateDeep runs the generated validation of m, then of every message
// packed in an Any below it.
func validateDeep(m proto.Message, where string) []error {
	var errs []error
	if v, ok := m.(validatorAll); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	eachAny(m.ProtoReflect(), func(a *anypb.Any) {
		if a.GetTypeUrl() == "" && len(a.GetValue()) == 0 {
			// An empty Any means something only as the config of a
			// route.v3.FilterConfig (the filter enabled explicitly);
			// checkFilterConfigs holds it to that.
			return
		}
		inner, err := a.UnmarshalNew()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: unpack %s: %w", where, a.GetTypeUrl(), err))
			return
		}
		errs = append(errs, validateDeep(inner, fmt.Sprintf("%s <%s>", where, inner.ProtoReflect().Descriptor().FullName()))...)
	})
	return errs
}

// eachAny calls fn for every Any in m, without descending into them. It
// skips fields whose type can never hold an Any.
func eachAny(m protoreflect.Message, fn func(*anypb.Any)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		fn(a)
		return
	}
	for _, fd := range anyFields(m.Descriptor()) {
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				eachAny(l.Get(i).Message(), fn)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				eachAny(mv.Message(), fn)
				return true
			})
		default:
			eachAny(v.Message(), fn)
		}
	}
}

var anyFieldsOf sync.Map // protoreflect.MessageDescriptor → []protoreflect.FieldDescriptor

// anyFields returns the fields of a message type through which an Any can
// be reached: messages, lists of messages and maps to messages of a type
// that may hold one. They are found once per type, so the walk of a large
// resource looks up its type once per message and reads only those fields.
func anyFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if v, ok := anyFieldsOf.Load(md); ok {
		return v.([]protoreflect.FieldDescriptor)
	}
	var out []protoreflect.FieldDescriptor
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if next := heldMessage(fd); next != nil && mayHoldAny(next) {
			out = append(out, fd)
		}
	}
	anyFieldsOf.Store(md, out)
	return out
}

// heldMessage is the message type a field holds: its own, its list's, or
// its map's values'; nil for scalars.
func heldMessage(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		return fd.MapValue().Message()
	}
	return fd.Message()
}

var anyReach sync.Map // protoreflect.FullName → bool

// mayHoldAny reports whether a message of type md can contain an Any at
// any depth, by searching the type graph once per type.
func mayHoldAny(md protoreflect.MessageDescriptor) bool {
	return reaches(&anyReach, md, anyName)
}

var anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()

// reaches reports whether a message of type md can hold, at any depth, a
// message of one of the target types. Answers are kept in memo, one per
// question asked, so each type's graph is searched once.
func reaches(memo *sync.Map, md protoreflect.MessageDescriptor, targets ...protoreflect.FullName) bool {
	if v, ok := memo.Load(md.FullName()); ok {
		return v.(bool)
	}
	seen := map[protoreflect.FullName]bool{md.FullName(): true}
	queue := []protoreflect.MessageDescriptor{md}
	found := false
	for len(queue) > 0 && !found {
		cur := queue[0]
		queue = queue[1:]
		if slices.Contains(targets, cur.FullName()) {
			found = true
			break
		}
		fields := cur.Fields()
		for i := range fields.Len() {
			if next := heldMessage(fields.Get(i)); next != nil && !seen[next.FullName()] {
				seen[next.FullName()] = true
				queue = append(queue, next)
			}
		}
	}
	memo.Store(md.FullName(), found)
	return found
}

// walk calls fn for every message in m, opening Any fields. Route
// configurations are left to checkRouteConfig, which knows their shape.
func walk(m proto.Message, fn func(proto.Message)) {
	fn(m)
	if _, ok := m.(*routev3.RouteConfiguration); ok {
		return
	}
	rm := m.ProtoReflect()
	if a, ok := m.(*anypb.Any); ok {
		if inner, err := a.UnmarshalNew(); err == nil {
			walk(inner, fn)
		}
		return
	}
	rm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				walk(l.Get(i).Message().Interface(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walk(mv.Message().Interface(), fn)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			walk(v.Message().Interface(), fn)
		}
		return true
	})
}

// checkRefs checks what no single message can: names unique per type, and
// every listener, route and cluster referring only to what exists.
func checkRefs(r *Resources, mode Mode) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	clusters, routes, secrets := map[string]bool{}, map[string]bool{}, map[string]bool{}
	unique := func(kind string, set map[string]bool, name string) {
		if set[name] {
			fail("%s %q is defined twice", kind, name)
		}
		set[name] = true
	}
	http2 := map[string]bool{}
	for _, c := range r.Clusters {
		unique("cluster", clusters, c.Name)
		http2[c.Name] = speaksHTTP2(c)
	}
	for _, rc := range r.Routes {
		unique("route configuration", routes, rc.Name)
	}
	for _, s := range r.Secrets {
		unique("secret", secrets, s.Name)
	}
	listeners := map[string]bool{}
	checkSecretRef := func(where string, s *tlsv3.SdsSecretConfig) {
		if src := s.GetSdsConfig(); src.GetApiConfigSource() != nil {
			return // held by the gateway's SDS server
		}
		if !secrets[s.Name] {
			fail("%s: secret %q does not exist", where, s.Name)
		}
	}
	checkRouteConfig := func(where string, rc *routev3.RouteConfiguration) {
		domains := map[string]string{}
		for _, vh := range rc.VirtualHosts {
			for _, d := range vh.Domains {
				if other, dup := domains[d]; dup {
					fail("%s: domain %q is in virtual hosts %q and %q", where, d, other, vh.Name)
				}
				domains[d] = vh.Name
			}
		}
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				a := rt.GetRoute()
				if a == nil {
					continue
				}
				if c := a.GetCluster(); c != "" && !clusters[c] {
					fail("%s: route to unknown cluster %q", where, c)
				}
				for _, w := range a.GetWeightedClusters().GetClusters() {
					if !clusters[w.Name] {
						fail("%s: route to unknown cluster %q", where, w.Name)
					}
				}
				for _, mp := range a.RequestMirrorPolicies {
					if !clusters[mp.Cluster] {
						fail("%s: mirror to unknown cluster %q", where, mp.Cluster)
					}
				}
			}
		}
	}
	referenced := map[string]bool{}
	// servedBy holds, for each route configuration served by RDS, the
	// HTTP filters of every connection manager serving it.
	servedBy := map[string][]*chainFilters{}
	for _, l := range r.Listeners {
		where := "listener " + l.Name
		unique("listener", listeners, l.Name)
		if len(l.FilterChains) == 0 {
			fail("%s: no filter chains; Envoy refuses such a listener", where)
		}
		matches := map[string]string{}
		for _, fc := range l.FilterChains {
			keys := fc.GetFilterChainMatch().GetServerNames()
			if len(keys) == 0 {
				keys = []string{"(no server name)"}
			}
			for _, k := range keys {
				if other, dup := matches[k]; dup {
					fail("%s: filter chains %q and %q both match %s", where, other, fc.Name, k)
				}
				matches[k] = fc.Name
			}
		}
		walk(l, func(m proto.Message) {
			switch m := m.(type) {
			case *hcmv3.HttpConnectionManager:
				filters := checkHTTPFilters(where, m.HttpFilters, fail)
				switch rs := m.RouteSpecifier.(type) {
				case *hcmv3.HttpConnectionManager_Rds:
					if mode.static() {
						fail("%s: a static bootstrap cannot use RDS", where)
					}
					referenced[rs.Rds.RouteConfigName] = true
					servedBy[rs.Rds.RouteConfigName] = append(servedBy[rs.Rds.RouteConfigName], filters)
					if !routes[rs.Rds.RouteConfigName] {
						fail("%s: route configuration %q does not exist", where, rs.Rds.RouteConfigName)
					}
				case *hcmv3.HttpConnectionManager_RouteConfig:
					checkRouteConfig(where, rs.RouteConfig)
					// A StaticSpliced stand-in has no virtual hosts; the
					// route configuration it stands for is checked with
					// the file-based resources, whose connection managers
					// have the same filters.
					checkFilterConfigs(where, rs.RouteConfig, filters, fail)
				}
			case *tcpproxyv3.TcpProxy:
				names := []string{m.GetCluster()}
				for _, w := range m.GetWeightedClusters().GetClusters() {
					names = append(names, w.GetName())
				}
				for _, c := range names {
					if c != "" && !clusters[c] {
						fail("%s: TCP proxy to unknown cluster %q", where, c)
					}
				}
			case *corev3.HttpUri:
				if c := m.GetCluster(); c != "" && !clusters[c] {
					fail("%s: %s names unknown cluster %q", where, m.Uri, c)
				}
			case *corev3.GrpcService:
				// edgectl's own bootstrap clusters (SDS, ADS) are not
				// among the gateway's.
				switch c := m.GetEnvoyGrpc().GetClusterName(); {
				case c == "" || c == SDSCluster || c == ADSCluster:
				case !clusters[c]:
					fail("%s: gRPC service on unknown cluster %q", where, c)
				case !http2[c]:
					fail("%s: gRPC service on cluster %q, which does not speak HTTP/2", where, c)
				}
			case *tlsv3.SdsSecretConfig:
				checkSecretRef(where, m)
			case *corev3.ConfigSource:
				if mode.static() && (m.GetPathConfigSource() != nil || m.GetAds() != nil) {
					fail("%s: a static bootstrap refers to a dynamic source", where)
				}
			}
		})
	}
	for _, rc := range r.Routes {
		checkRouteConfig("route configuration "+rc.Name, rc)
		for _, filters := range servedBy[rc.Name] {
			checkFilterConfigs("route configuration "+rc.Name, rc, filters, fail)
		}
		if !mode.static() && !referenced[rc.Name] {
			fail("route configuration %q is used by no listener", rc.Name)
		}
	}
	for _, c := range r.Clusters {
		walk(c, func(m proto.Message) {
			if s, ok := m.(*tlsv3.SdsSecretConfig); ok {
				checkSecretRef("cluster "+c.Name, s)
			}
		})
	}
	checkEndpoints(r, mode, fail)
	return errs
}

// checkEndpoints holds EDS clusters to their assignments: each service
// name has exactly one, delivered the way the mode delivers resources, and
// every assignment is some cluster's. A static bootstrap has no EDS.
func checkEndpoints(r *Resources, mode Mode, fail func(string, ...any)) {
	assignments := map[string]bool{}
	for _, e := range r.Endpoints {
		if _, dup := assignments[e.ClusterName]; dup {
			fail("endpoints %q are defined twice", e.ClusterName)
		}
		assignments[e.ClusterName] = false
	}
	for _, c := range r.Clusters {
		if c.GetType() != clusterv3.Cluster_EDS {
			if c.EdsClusterConfig != nil {
				fail("cluster %q: EDS settings on a cluster of type %s", c.Name, c.GetType())
			}
			continue
		}
		name := c.GetEdsClusterConfig().GetServiceName()
		if name == "" {
			name = c.Name
		}
		src := c.GetEdsClusterConfig().GetEdsConfig()
		switch {
		case mode.static():
			fail("cluster %q: a static bootstrap cannot use EDS", c.Name)
			continue
		case mode == Files && src.GetPathConfigSource().GetPath() != path.Join(src.GetPathConfigSource().GetWatchedDirectory().GetPath(), EndpointsFile(name)):
			fail("cluster %q: endpoints %q are not read from their file", c.Name, name)
		case mode == ADS && src.GetAds() == nil:
			fail("cluster %q: endpoints %q do not come over ADS", c.Name, name)
		}
		if _, ok := assignments[name]; !ok {
			fail("cluster %q: endpoints %q do not exist", c.Name, name)
		}
		assignments[name] = true
	}
	for _, e := range r.Endpoints {
		if !assignments[e.ClusterName] {
			fail("endpoints %q are used by no cluster", e.ClusterName)
		}
	}
}

// speaksHTTP2 reports whether a cluster talks HTTP/2 to its endpoints, as
// a gRPC service needs.
func speaksHTTP2(c *clusterv3.Cluster) bool {
	a := c.GetTypedExtensionProtocolOptions()[httpProtocolOptions]
	if a == nil {
		return false
	}
	o := &upstreamhttpv3.HttpProtocolOptions{}
	if err := a.UnmarshalTo(o); err != nil {
		return false
	}
	return o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil
}

// checkHTTPFilters holds a connection manager's filter chain to what Envoy
// accepts (names unique, the router last and enabled) and returns the
// names in it.
func checkHTTPFilters(where string, filters []*hcmv3.HttpFilter, fail func(string, ...any)) *chainFilters {
	names := make(map[string]bool, len(filters))
	out := &chainFilters{names: names}
	for i, f := range filters {
		if f.Name == filterJWT {
			out.jwtRequirements = checkJWT(where, f, fail)
		}
		if names[f.Name] {
			fail("%s: HTTP filter %q is in the chain twice", where, f.Name)
		}
		names[f.Name] = true
		if f.Name == wellknown.Router && (i != len(filters)-1 || f.Disabled) {
			fail("%s: the router must be the last HTTP filter, and enabled", where)
		}
	}
	if len(filters) == 0 || filters[len(filters)-1].Name != wellknown.Router {
		fail("%s: the HTTP filter chain does not end with the router", where)
	}
	return out
}

// chainFilters is what a route configuration's entries may refer to in a
// connection manager serving it.
type chainFilters struct {
	names           map[string]bool
	jwtRequirements map[string]bool
}

// checkJWT holds the jwt_authn filter's requirements to its providers, and
// returns their names.
func checkJWT(where string, f *hcmv3.HttpFilter, fail func(string, ...any)) map[string]bool {
	ja := &jwtv3.JwtAuthentication{}
	if err := f.GetTypedConfig().UnmarshalTo(ja); err != nil {
		fail("%s: %s: %v", where, f.Name, err)
		return nil
	}
	var providers func(r *jwtv3.JwtRequirement) []string
	providers = func(r *jwtv3.JwtRequirement) []string {
		out := []string{r.GetProviderName(), r.GetProviderAndAudiences().GetProviderName()}
		for _, sub := range slices.Concat(r.GetRequiresAny().GetRequirements(), r.GetRequiresAll().GetRequirements()) {
			out = append(out, providers(sub)...)
		}
		return out
	}
	names := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(ja.RequirementMap)) {
		names[name] = true
		for _, p := range providers(ja.RequirementMap[name]) {
			if _, ok := ja.Providers[p]; p != "" && !ok {
				fail("%s: JWT requirement %q names unknown provider %q", where, name, p)
			}
		}
	}
	return names
}

// perRouteTypes are the configurations a virtual host or route may give
// each family of filters edgectl emits, bare or in a route.v3.FilterConfig.
var perRouteTypes = map[string]protoreflect.FullName{
	filterRBAC:           (&rbacv3.RBACPerRoute{}).ProtoReflect().Descriptor().FullName(),
	filterCORS:           (&corsv3.CorsPolicy{}).ProtoReflect().Descriptor().FullName(),
	filterJWT:            (&jwtv3.PerRouteConfig{}).ProtoReflect().Descriptor().FullName(),
	filterBasicAuth:      (&basicauthv3.BasicAuthPerRoute{}).ProtoReflect().Descriptor().FullName(),
	filterExtAuthz:       (&extauthzv3.ExtAuthzPerRoute{}).ProtoReflect().Descriptor().FullName(),
	filterLocalRateLimit: (&localratelimitv3.LocalRateLimit{}).ProtoReflect().Descriptor().FullName(),
	filterRateLimit:      (&ratelimitv3.RateLimitPerRoute{}).ProtoReflect().Descriptor().FullName(),
}

// checkFilterConfigs holds the typed_per_filter_config of a route
// configuration to the filters of a connection manager serving it: every
// entry names a filter in the chain (Envoy refuses a configuration for a
// filter it does not have, unless optional), and holds the per-route type
// of that filter's family or a FilterConfig that disables it.
func checkFilterConfigs(where string, rc *routev3.RouteConfiguration, chain *chainFilters, fail func(string, ...any)) {
	check := func(at func() string, configs map[string]*anypb.Any) {
		if len(configs) == 0 {
			return // most routes: nothing to allocate for
		}
		for _, name := range slices.Sorted(maps.Keys(configs)) {
			if !chain.names[name] {
				fail("%s: %s configures HTTP filter %q, which the connection manager does not have", where, at(), name)
				continue
			}
			config := configs[name]
			if config.MessageIs(&routev3.FilterConfig{}) {
				fc := &routev3.FilterConfig{}
				if err := config.UnmarshalTo(fc); err != nil {
					fail("%s: %s: the configuration of HTTP filter %q: %v", where, at(), name, err)
					continue
				}
				if fc.Disabled {
					continue
				}
				// Envoy refuses an entry that neither disables its filter
				// nor configures it; an empty config enables it as it is.
				if fc.Config == nil {
					fail("%s: %s: the FilterConfig of HTTP filter %q neither disables it nor has a config, which Envoy refuses", where, at(), name)
					continue
				}
				if fc.Config.GetTypeUrl() == "" {
					continue
				}
				config = fc.Config
			}
			family, _, _ := strings.Cut(name, "/")
			want, ok := perRouteTypes[family]
			if got := config.MessageName(); ok && got != want {
				fail("%s: %s configures HTTP filter %q with %s, not %s", where, at(), name, got, want)
				continue
			}
			if family == filterJWT {
				per := &jwtv3.PerRouteConfig{}
				if err := config.UnmarshalTo(per); err == nil && per.GetRequirementName() != "" && !chain.jwtRequirements[per.GetRequirementName()] {
					fail("%s: %s asks for JWT requirement %q, which the connection manager's jwt_authn does not have", where, at(), per.GetRequirementName())
				}
			}
		}
	}
	check(func() string { return "route configuration" }, rc.TypedPerFilterConfig)
	for _, vh := range rc.VirtualHosts {
		check(func() string { return "virtual host " + vh.Name }, vh.TypedPerFilterConfig)
		for i, rt := range vh.Routes {
			check(func() string {
				if rt.Name != "" {
					return fmt.Sprintf("virtual host %s route %q", vh.Name, rt.Name)
				}
				return fmt.Sprintf("virtual host %s route %d", vh.Name, i)
			}, rt.TypedPerFilterConfig)
		}
	}
}
