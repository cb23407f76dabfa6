# No route may retry more than params.max times: retries multiply load on a
# backend that is already failing.
package edgectl.builtin.max_retries

import rego.v1

params := data.edgectl.params.max_retries

violation contains {"msg": msg, "path": ["spec", "routes", i, "retries", "attempts"]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	route := input.spec.routes[i]
	route.retries.attempts > params.max
	msg := sprintf("%d retry attempts exceed the maximum of %d", [route.retries.attempts, params.max])
}

violation contains {"msg": msg, "path": ["spec", "defaults", "retries", "attempts"]} if {
	input.kind == "Gateway"
	input.spec.defaults.retries.attempts > params.max
	msg := sprintf("%d default retry attempts exceed the maximum of %d", [input.spec.defaults.retries.attempts, params.max])
}
