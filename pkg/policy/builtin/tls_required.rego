# Public hosts must be served with TLS. Parameters: hosts, the hostname
# patterns that are public ("*." covers one label); every host if unset.
package edgectl.builtin.tls_required

import rego.v1

params := object.get(data.edgectl.params, "tls_required", {})

public(host) if count(object.get(params, "hosts", [])) == 0

public(host) if {
	some pattern in params.hosts
	glob.match(pattern, ["."], host)
}

violation contains {"msg": msg, "path": ["spec", "hostnames", i]} if {
	input.kind == "VirtualHost"
	not input.spec.tls
	not input.spec.passthrough # TLS end to end, terminated by the backend
	host := input.spec.hostnames[i]
	public(host)
	msg := sprintf("%s is public and must be served over TLS: set spec.tls.certificate", [host])
}
