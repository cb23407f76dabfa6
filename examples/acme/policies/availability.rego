# A backend on fixed addresses needs at least two, so one failed machine does
# not take the service down. A single endpoint is allowed when the backend
# says why, in the label acme.io/single-endpoint (a canary, say). Backends
# found through DNS are exempt: a name usually stands for several machines.
package acme.availability

import rego.v1

ip(address) if regex.match(`^[0-9.]+$|:`, address)

violation contains {"msg": msg, "path": ["spec", "endpoints"]} if {
	input.kind == "Backend"
	endpoints := input.spec.endpoints
	count(endpoints) == 1
	ip(endpoints[0].address)
	not input.metadata.labels["acme.io/single-endpoint"]
	msg := sprintf("backend %s has a single fixed endpoint; add another, or say why in the label acme.io/single-endpoint", [input.metadata.name])
}
