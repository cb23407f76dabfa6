package acme.availability_test

import rego.v1

import data.acme.availability

backend(endpoints, labels) := {"kind": "Backend", "metadata": {"name": "b", "labels": labels}, "spec": {"endpoints": endpoints}}

test_single_ip_endpoint_is_a_violation if {
	count(availability.violation) == 1 with input as backend([{"address": "10.0.0.1", "port": 80}], {})
}

test_labelled_single_endpoint_passes if {
	count(availability.violation) == 0 with input as backend([{"address": "10.0.0.1", "port": 80}], {"acme.io/single-endpoint": "canary"})
}

test_two_endpoints_pass if {
	count(availability.violation) == 0 with input as backend([{"address": "10.0.0.1", "port": 80}, {"address": "10.0.0.2", "port": 80}], {})
}

test_dns_name_passes if {
	count(availability.violation) == 0 with input as backend([{"address": "api.internal", "port": 80}], {})
}

test_ipv6_counts_as_fixed if {
	count(availability.violation) == 1 with input as backend([{"address": "fd00::1", "port": 80}], {})
}
