package acme.websocket_test

import rego.v1

import data.acme.websocket

vhost(route) := {"kind": "VirtualHost", "metadata": {"name": "chat"}, "spec": {"routes": [route]}}

test_websocket_without_idle_timeout if {
	some f in websocket.violation with input as vhost({"name": "socket", "websocket": true})
	f.path == ["spec", "routes", 0]
}

test_websocket_idle_timeout_too_long if {
	some f in websocket.violation with input as vhost({"name": "socket", "websocket": true, "idleTimeout": "2h"})
	f.path == ["spec", "routes", 0, "idleTimeout"]
}

test_websocket_within_limit if {
	count(websocket.violation) == 0 with input as vhost({"name": "socket", "websocket": true, "idleTimeout": "1h"})
}

test_plain_routes_ignored if {
	count(websocket.violation) == 0 with input as vhost({"name": "api"})
}
