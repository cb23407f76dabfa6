# Every backend must be reached over TLS verified against a CA, except those
# whose names match params.exclude.
package edgectl.builtin.upstream_tls

import rego.v1

params := object.get(data.edgectl.params, "upstream_tls", {})

excluded(name) if {
	some pattern in object.get(params, "exclude", [])
	glob.match(pattern, [], name)
}

violation contains {"msg": msg, "path": ["spec"]} if {
	input.kind == "Backend"
	not input.spec.tls
	not excluded(input.metadata.name)
	msg := sprintf("backend %s is reached without TLS: set spec.tls with a ca", [input.metadata.name])
}

violation contains {"msg": msg, "path": ["spec", "tls"]} if {
	input.kind == "Backend"
	input.spec.tls
	not input.spec.tls.ca
	not excluded(input.metadata.name)
	msg := sprintf("backend %s does not verify its certificate: set spec.tls.ca", [input.metadata.name])
}
