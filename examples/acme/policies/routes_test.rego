package acme.routes_test

import rego.v1

import data.acme.routes

test_named_routes_pass if {
	count(routes.deny) == 0 with input as {"kind": "VirtualHost", "metadata": {"name": "www"}, "spec": {"routes": [{"name": "home", "backend": "web"}]}}
}

test_unnamed_route_is_denied_at_its_position if {
	findings := routes.deny with input as {"kind": "RouteSet", "metadata": {"name": "checkout"}, "spec": {"routes": [{"name": "a"}, {"backend": "web"}]}}
	some f in findings
	f.path == ["spec", "routes", 1]
	contains(f.msg, "route 1 of RouteSet checkout has no name")
}

test_other_kinds_are_ignored if {
	count(routes.deny) == 0 with input as {"kind": "Backend", "metadata": {"name": "web"}, "spec": {}}
}
