# Redirects may only send clients to hosts matching params.allowed ("*."
# covers one label), so a route cannot become an open redirect.
package edgectl.builtin.redirect_hosts

import rego.v1

params := data.edgectl.params.redirect_hosts

allowed(host) if {
	some pattern in params.allowed
	glob.match(pattern, ["."], host)
}

violation contains {"msg": msg, "path": ["spec", "routes", i, "redirect", "host"]} if {
	input.kind in {"VirtualHost", "RouteSet"}
	route := input.spec.routes[i]
	host := route.redirect.host
	not allowed(host)
	msg := sprintf("redirect to %s, which is not an allowed redirect host", [host])
}
