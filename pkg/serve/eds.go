package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/edgectl/edgectl/pkg/xds"
)

// How endpoints from Kubernetes are served. A version's snapshots hold an
// empty assignment for each Kubernetes Service port its clusters name (the
// bundle's placeholders); what is set in the cache is a copy with those
// replaced by the endpoints the informers hold, made again each time they
// change. The other types keep the bundle digest as their version; the
// endpoints get DIGEST+eds.HASH, HASH covering the assignments, so every
// replica watching the same cluster state serves the same version, and an
// endpoint change makes a new endpoint version for the gateways that use
// the Service and nothing else.

// endpointsVersion is the version of a gateway's endpoints.
func endpointsVersion(digest string, clas []*endpointv3.ClusterLoadAssignment) string {
	h := sha256.New()
	for _, cla := range clas {
		b, err := canonical.Marshal(cla)
		if err != nil {
			panic(fmt.Sprintf("serve: encode endpoints %q: %v", cla.ClusterName, err)) // only for invalid UTF-8, which no address has
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return digest + "+eds." + hex.EncodeToString(h.Sum(nil))[:16]
}

// sameVersion reports whether a version a client acknowledged is the
// bundle version digest: the digest itself, or its endpoints.
func sameVersion(acked, digest string) bool {
	return acked == digest || strings.HasPrefix(acked, digest+"+eds.")
}

// servicesOf lists the Kubernetes Service ports a version serves
// endpoints for, by EDS service name.
func servicesOf(v *version) []string {
	return kubernetesServices(slices.Collect(maps.Keys(v.envoy.GetResources(resourcev3.EndpointType))))
}

// setSnapshots sets a version's snapshots in the cache, with the current
// endpoints of the Kubernetes Services it names. A version that is the
// first to name a Service waits until it is listed (or the sync timeout
// passes).
func (s *Server) setSnapshots(ctx context.Context, v *version, first bool) error {
	envoy, grpc := v.envoy, v.proxyless
	if names := servicesOf(v); len(names) > 0 {
		var eversion string
		if envoy, grpc, eversion = s.withEndpoints(ctx, v, names, first); eversion == "" {
			return nil // unchanged
		}
	}
	if err := s.cache.SetSnapshot(ctx, snapshotKey(grpcFlavour, v.nodeCluster), grpc); err != nil {
		return err
	}
	return s.cache.SetSnapshot(ctx, snapshotKey(envoyFlavour, v.nodeCluster), envoy)
}

// withEndpoints returns v's snapshots with the endpoints of the Services
// named filled in, and their version; an empty version when first is
// false and the endpoints are those already served.
func (s *Server) withEndpoints(ctx context.Context, v *version, names []string, first bool) (*cachev3.Snapshot, *cachev3.Snapshot, string) {
	clas := make([]*endpointv3.ClusterLoadAssignment, len(names))
	if s.kube == nil {
		if first {
			s.log.Warn("gateway names Kubernetes Services, but serve has no access to a cluster (--kubeconfig): their clusters have no endpoints",
				"gateway", v.gateway, "version", v.digest, "services", strings.Join(names, " "))
		}
		for i, n := range names {
			clas[i] = &endpointv3.ClusterLoadAssignment{ClusterName: n}
		}
	} else {
		var keys []serviceKey
		for _, n := range names {
			svc, _ := xds.ParseServiceName(n)
			keys = append(keys, serviceKey{svc.Namespace, svc.Name})
		}
		s.kube.watch(ctx, keys)
		for i, n := range names {
			svc, _ := xds.ParseServiceName(n)
			var why string
			clas[i], why = s.kube.assignment(n, svc)
			if why != "" && first {
				s.log.Warn("no endpoints for a Kubernetes Service port", "gateway", v.gateway, "service", n, "why", why)
			}
		}
	}
	version := endpointsVersion(v.digest, clas)
	if s.kube != nil {
		s.kube.mu.Lock()
		prev := s.kube.served[v.nodeCluster]
		s.kube.served[v.nodeCluster] = version
		s.kube.mu.Unlock()
		if !first && prev == version {
			return nil, nil, ""
		}
	}
	live := map[string]types.Resource{}
	for _, cla := range clas {
		live[cla.ClusterName] = cla
	}
	s.logEndpoints(v, version, clas)
	return withAssignments(v.envoy, version, live), withAssignments(v.proxyless, version, live), version
}

func (s *Server) logEndpoints(v *version, version string, clas []*endpointv3.ClusterLoadAssignment) {
	args := []any{"gateway", v.gateway, "node_cluster", v.nodeCluster, "version", version}
	for _, cla := range clas {
		n := map[corev3.HealthStatus]int{}
		for _, loc := range cla.Endpoints {
			for _, e := range loc.LbEndpoints {
				n[e.HealthStatus]++
			}
		}
		args = append(args, cla.ClusterName, fmt.Sprintf("%d healthy, %d draining, %d unhealthy",
			n[corev3.HealthStatus_HEALTHY], n[corev3.HealthStatus_DRAINING], n[corev3.HealthStatus_UNHEALTHY]))
	}
	s.log.Info("serving endpoints", args...)
}

// withAssignments is a copy of base whose endpoints named in live are
// replaced, at version. Only the endpoints' per-resource versions (delta
// xDS) are computed again; the other types' are base's, computed once.
func withAssignments(base *cachev3.Snapshot, version string, live map[string]types.Resource) *cachev3.Snapshot {
	out := &cachev3.Snapshot{Resources: base.Resources}
	old := base.Resources[types.Endpoint].Items
	items := make(map[string]types.ResourceWithTTL, len(old))
	for name, r := range old {
		if l, ok := live[name]; ok {
			r = types.ResourceWithTTL{Resource: l}
		}
		items[name] = r
	}
	out.Resources[types.Endpoint] = cachev3.Resources{Version: version, Items: items}
	if err := base.ConstructVersionMap(); err != nil {
		return out // the cache builds it when a delta client asks
	}
	edsURL := resourcev3.EndpointType
	out.VersionMap = make(map[string]map[string]string, len(base.VersionMap))
	for typ, m := range base.VersionMap {
		out.VersionMap[typ] = m
	}
	eds := make(map[string]string, len(items))
	for name, r := range items {
		b, err := cachev3.MarshalResource(r.Resource)
		if err != nil {
			out.VersionMap = nil
			return out
		}
		eds[name] = cachev3.HashResource(b)
	}
	out.VersionMap[edsURL] = eds
	return out
}

// followEndpoints serves each change of the followed Services' endpoints
// to the gateways that name them, until ctx ends.
func (s *Server) followEndpoints(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kube.wake:
		}
		dirty := s.kube.takeDirty()
		s.applyMu.Lock()
		s.mu.Lock()
		var affected []*version
		for _, v := range s.served {
			if slices.ContainsFunc(servicesOf(v), func(n string) bool {
				svc, _ := xds.ParseServiceName(n)
				return dirty[serviceKey{svc.Namespace, svc.Name}]
			}) {
				affected = append(affected, v)
			}
		}
		s.mu.Unlock()
		slices.SortFunc(affected, func(a, b *version) int { return strings.Compare(a.nodeCluster, b.nodeCluster) })
		for _, v := range affected {
			if err := s.setSnapshots(ctx, v, false); err != nil && ctx.Err() == nil {
				s.log.Error("set endpoints", "gateway", v.gateway, "error", err)
			}
		}
		s.applyMu.Unlock()
	}
}

// retainServices stops following the Services no served version names;
// s.applyMu is held.
func (s *Server) retainServices() {
	if s.kube == nil {
		return
	}
	keep := map[serviceKey]bool{}
	s.mu.Lock()
	for _, v := range s.served {
		for _, n := range servicesOf(v) {
			svc, _ := xds.ParseServiceName(n)
			keep[serviceKey{svc.Namespace, svc.Name}] = true
		}
	}
	s.mu.Unlock()
	s.kube.retain(keep)
}

// endpointProblems says, for /readyz, why endpoints from Kubernetes are
// not what they should be: a Service not listed yet, or Services named
// with no cluster to read them from.
func (s *Server) endpointProblems() []string {
	if s.kube != nil {
		return s.kube.problems()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.served {
		if names := servicesOf(v); len(names) > 0 {
			out = append(out, fmt.Sprintf("gateway %q names Kubernetes Services (%s), but serve has no access to a cluster: give --kubeconfig, or run it in a pod", v.gateway, strings.Join(names, ", ")))
		}
	}
	slices.Sort(out)
	return out
}
