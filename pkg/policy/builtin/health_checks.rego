# Every backend needs an active health check, except those whose names
# match params.exclude.
package edgectl.builtin.health_checks

import rego.v1

params := object.get(data.edgectl.params, "health_checks", {})

excluded(name) if {
	some pattern in object.get(params, "exclude", [])
	glob.match(pattern, [], name)
}

violation contains {"msg": msg, "path": ["spec"]} if {
	input.kind == "Backend"
	not input.spec.healthCheck
	not excluded(input.metadata.name)
	msg := sprintf("backend %s has no health check: set spec.healthCheck", [input.metadata.name])
}
