package diag

import "slices"

// Rule describes one stable rule id. Ids never change meaning once released;
// docs/rules.md explains each with an example, and a test keeps the two in step.
type Rule struct {
	ID      string
	Summary string
}

// Rules is the catalogue of every rule edgectl itself reports. Policy findings
// use their Rego package and rule name as id and are not listed here.
var Rules = []Rule{
	{"yaml", "the file is not valid YAML"},
	{"document", "a YAML document lacks apiVersion or kind, or names an unknown one"},
	{"schema", "a value does not satisfy the schema of its kind"},
	{"private-key", "PEM private key material is in the repository"},
	{"htpasswd-hash", "an htpasswd password hash is in the repository"},
	{"jwks", "a JSON Web Key set is in the repository"},
	{"symlink", "a symlink leads outside the repository, to nothing, into a loop, or to a directory edgectl does not follow"},
	{"project", "edgectl.yaml is missing or invalid"},
	{"duplicate-name", "two documents of one kind share a name"},
	{"unknown-reference", "a reference names a document that does not exist"},
	{"oneof", "a block sets none or several of fields that exclude each other"},
	{"invalid-value", "a value is well-typed but meaningless, such as an unparsable address"},
	{"invalid-regex", "a regular expression is not valid RE2"},
	{"regex-complexity", "a regular expression may exceed Envoy's default RE2 program size"},
	{"port-conflict", "two listeners of a gateway bind the same address and port"},
	{"duplicate-hostname", "two virtual hosts claim one hostname on one listener"},
	{"duplicate-route", "two routes of a virtual host have the same match"},
	{"shadowed-route", "a route can never match because an earlier route takes all its requests"},
	{"zero-weight", "the weights of a route's backends sum to zero"},
	{"weight-missing", "some backends of a route have a weight and others do not"},
	{"tls", "a TLS setting cannot work as written"},
	{"certificate-type", "a certificate is used where a different type is needed"},
	{"health-check", "a health check cannot work with its backend"},
	{"hash-policy", "a route hashes requests to a backend whose load balancer ignores the hash"},
	{"retry-timeout", "a retry's per-try timeout is not below the route timeout"},
	{"unused-backend", "a backend is referenced by no route"},
	{"kubernetes-endpoints", "a backend takes its endpoints from a Kubernetes Service, which only edgectl serve delivers"},
	{"unused-certificate", "a certificate is referenced by nothing"},
	{"empty-gateway", "a gateway has no virtual hosts"},
	{"empty-listener", "an HTTPS listener serves no virtual host, so it is left out"},
	{"ownership", "a document declares or uses what its team does not own"},
	{"wildcard-capture", "a wildcard virtual host answers a hostname another team owns but does not serve"},
	{"include-cycle", "route sets include each other in a cycle"},
	{"include-condition", "an include's conditions cannot be composed with the routes it includes"},
	{"route-outside-include", "a route of an included route set falls outside the prefix it was given"},
	{"unused-routeset", "a route set is included by nothing"},
	{"policy", "a Rego policy does not compile, or refers to a refused built-in"},
	{"acknowledgement", "an acknowledgement in edgectl.yaml matches no warning"},
	{"header-change", "a header change adds, sets or removes a pseudo-header or host, which Envoy refuses"},
	{"path-query", "a path match holds \"?\", so it can never match"},
	{"regex-program-size", "a regular expression compiles to more RE2 instructions than Envoy accepts"},
	{"include-consent", "a route set is included by a team or virtual host its team does not let include it"},
	{"include-plaintext", "a route set of a team that requires TLS would be served over plain HTTP"},
	{"policy-limit", "a policy ran past its time limit, or a built-in it calls would build a value over its memory limit"},
	{"cross-team-shadow", "a route of one team takes requests from a later route of another team that did not include it"},
	{"route-test", "a route test's expectation does not hold: Envoy does something else with its request"},
	{"security-disabled", "a security feature sets disabled: true beside other settings, or sets nothing"},
	{"invalid-cidr", "an address range of an IP filter is not valid, or has bits set beyond its prefix"},
	{"invalid-origin", "a CORS origin is not an origin a browser sends"},
	{"service-protocol", "a gRPC service's backend (authorization, rate limits, tracing, OpenTelemetry access logs) does not speak HTTP/2"},
	{"unused-definition", "an AuthProvider, AuthService or RateLimitService is named by no security rule"},
	{"auth-fail-open", "an authorization service lets requests through when it cannot be reached"},
	// HTTP features (docs/reference.md).
	{"fault-injection", "a route injects faults while the faultInjection built-in policy is off"},
	{"hedge", "a route hedges requests without the per-try timeout hedging reacts to"},
	{"upstream-protocol", "a backend chooses its HTTP protocol by ALPN without TLS"},
	{"slow-start", "a backend ramps up new endpoints with a load balancer that has no slow start"},
	{"untested-route", "no route test reaches a route (edgectl test --coverage, in the github and sarif formats)"},
	{"patch-target", "an EnvoyPatch addresses a resource, virtual host or HTTP filter the gateway does not have"},
	{"patch-apply", "an EnvoyPatch does not apply to its resource, or makes something that is not a resource of its type and name"},
	{"patch-filter", "an EnvoyPatch's HTTP filter has an unknown @type, a configuration that does not parse, or a name already taken"},
	{"patch-result", "the resources an EnvoyPatch makes fail Envoy's validation or refer to what does not exist"},
	// Gateway API: the reasons of the status conditions a conformant
	// controller would set to False, as the spec names them.
	{"unsupported-kind", "a Gateway API kind edgectl reads but does not compile yet"},
	{"UnsupportedAddress", "a Gateway asks for addresses, which edgectl cannot assign"},
	{"UnsupportedProtocol", "a Gateway listener's protocol is not HTTP or HTTPS"},
	{"ProtocolConflict", "two Gateway listeners on one port have different protocols"},
	{"HostnameConflict", "two Gateway listeners on one port have the same hostname"},
	{"InvalidCertificateRef", "an HTTPS listener's certificateRef is missing or not a Secret"},
	{"InvalidRouteKinds", "a listener's allowedRoutes.kinds names a kind it cannot serve"},
	{"RefNotPermitted", "a reference to another namespace has no ReferenceGrant there"},
	{"NoMatchingParent", "a route's parentRef names no Gateway, or no listener of it with that sectionName or port"},
	{"NotAllowedByListeners", "no listener a route's parentRef selects admits the route's namespace or kind"},
	{"NoMatchingListenerHostname", "no hostname of a route matches a listener it may attach to"},
	{"UnsupportedValue", "a route or listener sets a value edgectl cannot honour, so it is not accepted"},
	{"IncompatibleFilters", "a route rule has filters that cannot be used together (RequestRedirect and URLRewrite)"},
	{"InvalidKind", "a backendRef names a kind other than Service, or a BackendTLSPolicy's CA one other than ConfigMap"},
	{"BackendNotFound", "a backendRef names a Service, or a port of it, that is not among the manifests"},
	{"InvalidCACertificateRef", "a BackendTLSPolicy's CA certificate is missing or not a ConfigMap"},
	{"TargetNotFound", "a BackendTLSPolicy targets something other than a Service among the manifests"},
	{"Conflicted", "a BackendTLSPolicy targets a Service port an older policy already covers, or a TLSRoute or TCPRoute loses its server name or listener to an older route"},
	// Listeners and connections (docs/listeners.md).
	{"passthrough", "a TLS passthrough virtual host sets what only a terminating one can use, or has no HTTPS listener"},
	{"fallback-certificate", "two virtual hosts ask to be the fallback for clients without SNI on one listener"},
	{"http3", "HTTP/3 is asked of a listener that cannot serve it"},
}

// RuleSummary returns the summary of a catalogued rule, or the id itself.
func RuleSummary(id string) string {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return id
	}
	return Rules[i].Summary
}

// Known reports whether id is in the catalogue.
func Known(id string) bool {
	return slices.ContainsFunc(Rules, func(r Rule) bool { return r.ID == id })
}
