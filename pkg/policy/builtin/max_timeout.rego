# No route may wait longer than params.max for its backend. A timeout of 0s
# disables the limit, which exceeds any maximum, except on websocket routes
# where the connection is meant to stay open.
package edgectl.builtin.max_timeout

import rego.v1

params := data.edgectl.params.max_timeout

limit := time.parse_duration_ns(params.max)

too_long(t) if time.parse_duration_ns(t) > limit

too_long(t) if time.parse_duration_ns(t) == 0

violation contains {"msg": msg, "path": ["spec", "routes", i, "timeout"]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	route := input.spec.routes[i]
	not route.websocket
	too_long(route.timeout)
	msg := sprintf("route timeout %s exceeds the maximum of %s", [route.timeout, params.max])
}

violation contains {"msg": msg, "path": ["spec", "defaults", "timeout"]} if {
	input.kind == "Gateway"
	too_long(input.spec.defaults.timeout)
	msg := sprintf("default timeout %s exceeds the maximum of %s", [input.spec.defaults.timeout, params.max])
}
