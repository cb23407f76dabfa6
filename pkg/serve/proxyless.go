package serve

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/xds"
)

// proxylessResources are a gateway's resources as a proxyless gRPC client
// (grpc-go's, grpc-java's xDS resolver) consumes them. Such a client has no
// sockets to listen on: it resolves xds:///HOST by asking for the listener
// named HOST, which must be an api_listener, and it only balances over EDS
// clusters.
type proxylessResources struct {
	Listeners []*listenerv3.Listener // one api_listener per exact hostname
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster // EDS over ADS
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// proxylessForm builds the proxyless flavour from a gateway's ADS
// resources:
//
//   - every exact hostname of every virtual host gets an api_listener of
//     that name: an HTTP connection manager with the router filter that
//     reads, over ADS, the route configuration serving the hostname. A
//     hostname served by several route configurations takes the one on a
//     TLS filter chain (where a TLS virtual host's routes are; its plain
//     HTTP twin only redirects), then the first by listener order. Wildcard
//     hostnames name no listener: gRPC looks listeners up by exact name.
//   - those route configurations, as they are, except that a retry policy
//     of zero retries, which gRPC rejects, is left out: it means no retries.
//   - every cluster, as an EDS cluster over ADS with its endpoints in a
//     ClusterLoadAssignment whose localities all have an id and a weight
//     (gRPC ignores a locality without weight). The cluster of a Backend
//     that names a Kubernetes Service keeps its service name and the
//     bundle's empty assignment, which the server fills (eds.go). Load balancing RANDOM
//     becomes ROUND_ROBIN and MAGLEV becomes RING_HASH, their nearest gRPC
//     equivalents; health checks and HTTP protocol options, which gRPC does
//     not read, are dropped.
//   - a cluster gRPC cannot use as such is left out, with a note saying
//     why: upstream TLS (a gRPC client brings its own credentials) and
//     endpoints listed twice. Routes to it fail on the client.
//
// The notes are sorted. r is not modified.
func proxylessForm(r *xds.Resources) (*proxylessResources, []string, error) {
	routes := map[string]*routev3.RouteConfiguration{}
	for _, rc := range r.Routes {
		routes[rc.Name] = rc
	}

	// Rank each route configuration by where it is served: 0 on a TLS
	// filter chain, 1 on a plain one; then by first use.
	type use struct{ tls, order int }
	uses := map[string]use{}
	order := 0
	for _, l := range r.Listeners {
		for _, fc := range l.FilterChains {
			tls := 1
			if fc.GetTransportSocket() != nil {
				tls = 0
			}
			for _, f := range fc.Filters {
				a := f.GetTypedConfig()
				if a == nil || !a.MessageIs(&hcmv3.HttpConnectionManager{}) {
					continue
				}
				hcm := &hcmv3.HttpConnectionManager{}
				if err := a.UnmarshalTo(hcm); err != nil {
					return nil, nil, fmt.Errorf("listener %q: open HTTP connection manager: %w", l.Name, err)
				}
				name := hcm.GetRds().GetRouteConfigName()
				if name == "" {
					continue
				}
				u, seen := uses[name]
				if !seen || tls < u.tls {
					uses[name] = use{tls, order}
				}
				order++
			}
		}
	}
	hosts := map[string]string{} // hostname → route configuration
	better := func(a, b string) bool {
		ua, ub := uses[a], uses[b]
		return cmp.Or(cmp.Compare(ua.tls, ub.tls), cmp.Compare(ua.order, ub.order), strings.Compare(a, b)) < 0
	}
	for name := range uses {
		rc := routes[name]
		if rc == nil {
			return nil, nil, fmt.Errorf("route configuration %q does not exist", name)
		}
		for _, vh := range rc.VirtualHosts {
			for _, d := range vh.Domains {
				if strings.Contains(d, "*") {
					continue
				}
				if cur, ok := hosts[d]; !ok || better(name, cur) {
					hosts[d] = name
				}
			}
		}
	}

	out := &proxylessResources{}
	used := map[string]bool{}
	for _, h := range slices.Sorted(maps.Keys(hosts)) {
		hcm := &hcmv3.HttpConnectionManager{
			StatPrefix: h,
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
				RouteConfigName: hosts[h],
				ConfigSource:    adsSource(),
			}},
			HttpFilters: []*hcmv3.HttpFilter{{
				Name:       wellknown.Router,
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(&routerv3.Router{})},
			}},
		}
		out.Listeners = append(out.Listeners, &listenerv3.Listener{
			Name:        h,
			ApiListener: &listenerv3.ApiListener{ApiListener: pack(hcm)},
		})
		used[hosts[h]] = true
	}
	for _, rc := range r.Routes {
		if used[rc.Name] {
			out.Routes = append(out.Routes, proxylessRoutes(rc))
		}
	}

	var notes []string
	kube := map[string]*endpointv3.ClusterLoadAssignment{}
	for _, cla := range r.Endpoints {
		kube[cla.ClusterName] = cla
	}
	for _, c := range r.Clusters {
		cl, cla, why := proxylessCluster(c)
		if why != "" {
			notes = append(notes, fmt.Sprintf("cluster %q is left out for gRPC clients: %s", c.Name, why))
			continue
		}
		out.Clusters = append(out.Clusters, cl)
		if cla == nil { // a Kubernetes Service's, shared by the clusters that name it
			name := cl.GetEdsClusterConfig().GetServiceName()
			cla, ok := kube[name]
			if !ok {
				return nil, nil, fmt.Errorf("cluster %q: endpoints %q do not exist", c.Name, name)
			}
			if cla != nil {
				out.Endpoints = append(out.Endpoints, cla)
				kube[name] = nil // once
			}
			continue
		}
		out.Endpoints = append(out.Endpoints, cla)
	}
	slices.Sort(notes)
	return out, notes, nil
}

// proxylessRoutes returns rc, or a copy without what gRPC would reject.
func proxylessRoutes(rc *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	noRetries := func(rt *routev3.Route) bool {
		n := rt.GetRoute().GetRetryPolicy().GetNumRetries()
		return n != nil && n.GetValue() == 0
	}
	// The security filters' per-route settings are for Envoy's filters,
	// which a gRPC client's connection manager does not have: it would
	// refuse the routes for them. The edge's protections are the edge's,
	// not the calling client's.
	filtered := func(vh *routev3.VirtualHost) bool {
		return len(vh.TypedPerFilterConfig) > 0 || slices.ContainsFunc(vh.Routes, func(rt *routev3.Route) bool { return len(rt.TypedPerFilterConfig) > 0 })
	}
	if len(rc.TypedPerFilterConfig) == 0 && !slices.ContainsFunc(rc.VirtualHosts, func(vh *routev3.VirtualHost) bool {
		return filtered(vh) || slices.ContainsFunc(vh.Routes, noRetries)
	}) {
		return rc
	}
	out := proto.Clone(rc).(*routev3.RouteConfiguration)
	out.TypedPerFilterConfig = nil
	for _, vh := range out.VirtualHosts {
		vh.TypedPerFilterConfig = nil
		for _, rt := range vh.Routes {
			rt.TypedPerFilterConfig = nil
			if noRetries(rt) {
				rt.GetRoute().RetryPolicy = nil
			}
		}
	}
	return out
}

var lbForGRPC = map[clusterv3.Cluster_LbPolicy]clusterv3.Cluster_LbPolicy{
	clusterv3.Cluster_ROUND_ROBIN:   clusterv3.Cluster_ROUND_ROBIN,
	clusterv3.Cluster_LEAST_REQUEST: clusterv3.Cluster_LEAST_REQUEST,
	clusterv3.Cluster_RING_HASH:     clusterv3.Cluster_RING_HASH,
	clusterv3.Cluster_RANDOM:        clusterv3.Cluster_ROUND_ROBIN,
	clusterv3.Cluster_MAGLEV:        clusterv3.Cluster_RING_HASH,
}

// proxylessCluster rewrites a cluster to EDS, or says why it cannot be.
func proxylessCluster(c *clusterv3.Cluster) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, string) {
	if c.GetTransportSocket() != nil || len(c.GetTransportSocketMatches()) > 0 {
		return nil, nil, "it uses TLS upstream, and a gRPC client brings its own credentials"
	}
	lb, ok := lbForGRPC[c.GetLbPolicy()]
	if !ok {
		return nil, nil, fmt.Sprintf("gRPC has no load balancing policy like %s", c.GetLbPolicy())
	}
	if c.GetType() == clusterv3.Cluster_EDS {
		// Endpoints of a Kubernetes Service, under its service name: the
		// server fills them in, deduplicated and with every locality
		// weighted.
		return &clusterv3.Cluster{
			Name:                 c.Name,
			ConnectTimeout:       c.ConnectTimeout,
			LbPolicy:             lb,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource(), ServiceName: c.GetEdsClusterConfig().GetServiceName()},
			CircuitBreakers:      c.CircuitBreakers,
			OutlierDetection:     c.OutlierDetection,
		}, nil, ""
	}
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: c.Name}
	if la := c.GetLoadAssignment(); la != nil {
		cla = proto.Clone(la).(*endpointv3.ClusterLoadAssignment)
		cla.ClusterName = c.Name
	}
	seen := map[string]bool{}
	for _, loc := range cla.Endpoints {
		if loc.Locality == nil {
			loc.Locality = &corev3.Locality{}
		}
		if loc.GetLoadBalancingWeight().GetValue() == 0 {
			loc.LoadBalancingWeight = wrapperspb.UInt32(1)
		}
		for _, ep := range loc.LbEndpoints {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			addr := fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue())
			if seen[addr] {
				return nil, nil, fmt.Sprintf("endpoint %s is listed twice", addr)
			}
			seen[addr] = true
		}
	}
	return &clusterv3.Cluster{
		Name:                 c.Name,
		ConnectTimeout:       c.ConnectTimeout,
		LbPolicy:             lb,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource(), ServiceName: c.Name},
		CircuitBreakers:      c.CircuitBreakers,
		OutlierDetection:     c.OutlierDetection,
	}, cla, ""
}

// checkProxyless holds the proxyless flavour to what gRPC accepts: the
// generated validation of every message (the connection managers opened),
// listeners naming route configurations that exist and nothing else, and
// every cluster with exactly its endpoints. Snapshot.Consistent cannot
// check the first part: it does not look into api_listeners.
func checkProxyless(p *proxylessResources) error {
	var errs []error
	routes := map[string]bool{}
	for _, rc := range p.Routes {
		routes[rc.Name] = false
	}
	for _, l := range p.Listeners {
		if err := l.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.Name, err))
		}
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetApiListener().GetApiListener().UnmarshalTo(hcm); err != nil {
			errs = append(errs, fmt.Errorf("listener %q: open HTTP connection manager: %w", l.Name, err))
			continue
		}
		if err := hcm.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.Name, err))
		}
		name := hcm.GetRds().GetRouteConfigName()
		if _, ok := routes[name]; !ok {
			errs = append(errs, fmt.Errorf("listener %q: route configuration %q does not exist", l.Name, name))
		}
		routes[name] = true
	}
	for _, rc := range p.Routes {
		if !routes[rc.Name] {
			errs = append(errs, fmt.Errorf("route configuration %q is used by no listener", rc.Name))
		}
	}
	for _, c := range p.Clusters {
		if err := c.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("cluster %q: %w", c.Name, err))
		}
	}
	for _, cla := range p.Endpoints {
		if err := cla.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("endpoints %q: %w", cla.ClusterName, err))
		}
	}
	// Consistent checks that the EDS names are exactly the clusters'.
	eds, err := cachev3.NewSnapshot("", map[resourcev3.Type][]types.Resource{
		resourcev3.ClusterType:  resources(p.Clusters),
		resourcev3.EndpointType: resources(p.Endpoints),
	})
	if err == nil {
		err = eds.Consistent()
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// pack packs a message deterministically, as every Any edgectl serves is.
func pack(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(fmt.Sprintf("serve: pack %T: %v", m, err)) // only fails for invalid UTF-8, which no name here has
	}
	return a
}
