# A websocket route keeps connections open; without an idle timeout of at
# most an hour, abandoned connections pile up on the edge.
package acme.websocket

import rego.v1

max_idle := time.parse_duration_ns("1h")

violation contains {"msg": msg, "path": ["spec", "routes", i]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	some i, route in input.spec.routes
	route.websocket
	not route.idleTimeout
	msg := sprintf("websocket route %s needs an idleTimeout of at most 1h", [object.get(route, "name", i)])
}

violation contains {"msg": msg, "path": ["spec", "routes", i, "idleTimeout"]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	some i, route in input.spec.routes
	route.websocket
	time.parse_duration_ns(route.idleTimeout) > max_idle
	msg := sprintf("websocket route %s has idleTimeout %s; at most 1h", [object.get(route, "name", i), route.idleTimeout])
}
