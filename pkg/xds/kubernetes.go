package xds

import (
	"slices"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/edgectl/edgectl/pkg/ir"
)

// KubernetesPrefix starts the EDS service name of every cluster whose
// endpoints are those of a Kubernetes Service.
const KubernetesPrefix = "k8s/"

// ServiceName is the EDS service name of a Kubernetes Service port:
// k8s/NAMESPACE/SERVICE:PORT, PORT being the port's number or name as the
// Backend gives it. Clusters of the same Service port share it, and so
// share one ClusterLoadAssignment.
func ServiceName(s ir.Service) string {
	return KubernetesPrefix + s.Namespace + "/" + s.Name + ":" + s.Port
}

// ParseServiceName takes a ServiceName apart; ok is false for any other
// name.
func ParseServiceName(name string) (s ir.Service, ok bool) {
	rest, ok := strings.CutPrefix(name, KubernetesPrefix)
	if !ok {
		return ir.Service{}, false
	}
	ns, rest, ok1 := strings.Cut(rest, "/")
	svc, port, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || ns == "" || svc == "" || port == "" || strings.ContainsAny(port, "/:") || strings.Contains(svc, "/") {
		return ir.Service{}, false
	}
	return ir.Service{Namespace: ns, Name: svc, Port: port}, true
}

// EndpointsFile is the file holding the endpoints of an EDS service name:
// the name with "/" and ":" made ".", which Kubernetes names never hold,
// so no two services share a file.
func EndpointsFile(serviceName string) string {
	return "eds-" + strings.NewReplacer("/", ".", ":", ".").Replace(serviceName) + ".yaml"
}

// placeholders are the ClusterLoadAssignments a gateway's resources carry
// for its Kubernetes clusters: one per service name, without endpoints,
// so that an Envoy reading the files loads the clusters (with no
// endpoints), and a server knows which names to fill.
func placeholders(g *ir.Gateway) []*endpointv3.ClusterLoadAssignment {
	seen := map[string]bool{}
	var out []*endpointv3.ClusterLoadAssignment
	for _, c := range g.Clusters {
		if c.Service == nil {
			continue
		}
		name := ServiceName(*c.Service)
		if !seen[name] {
			seen[name] = true
			out = append(out, &endpointv3.ClusterLoadAssignment{ClusterName: name})
		}
	}
	slices.SortFunc(out, func(a, b *endpointv3.ClusterLoadAssignment) int { return strings.Compare(a.ClusterName, b.ClusterName) })
	return out
}
