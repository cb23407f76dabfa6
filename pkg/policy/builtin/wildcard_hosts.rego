# Only the teams in params.teams may serve wildcard hostnames.
package edgectl.builtin.wildcard_hosts

import rego.v1

params := data.edgectl.params.wildcard_hosts

violation contains {"msg": msg, "path": ["spec", "hostnames", i]} if {
	input.kind == "VirtualHost"
	host := input.spec.hostnames[i]
	startswith(host, "*.")
	not input.edgectl.team in params.teams
	msg := sprintf("wildcard hostname %s is reserved for teams %s", [host, concat(", ", params.teams)])
}
