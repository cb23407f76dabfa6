# Every route has a name: it is what the access log's route_name field and
# Envoy's per-route statistics show, and what on-call searches for.
package acme.routes

import rego.v1

deny contains {"msg": msg, "path": ["spec", "routes", i]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	some i, route in input.spec.routes
	not route.name
	msg := sprintf("route %d of %s %s has no name; name it for logs and metrics", [i, input.kind, input.metadata.name])
}
