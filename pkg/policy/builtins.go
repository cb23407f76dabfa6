package policy

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	// The time.* built-ins that take a zone name read the time zone
	// database; the embedded copy makes their results depend on the
	// edgectl release, not on the host it runs on.
	_ "time/tzdata"
)

// Every built-in of the OPA release edgectl is built with is classified
// here, by review: a policy may call only the allowed ones, which compute
// from their arguments alone, so the same repository gives the same
// findings on every run and every machine. A test fails when an OPA upgrade
// brings a built-in that is not classified, so each new one is reviewed.
//
// The reason of a refused built-in is printed with the finding.
var refusedBuiltins = map[string]string{
	"http.send":          "it reaches the network",
	"net.lookup_ip_addr": "it reaches DNS",
	"opa.runtime":        "it reads the environment edgectl runs in",
	"time.now_ns":        "it reads the clock",
	"rand.intn":          "it is random",
	"uuid.rfc4122":       "it is random",
	// decode_verify reads the clock to check exp and nbf unless the
	// constraints carry a time, which edgectl cannot check before
	// evaluation; the io.jwt.verify_* functions check the signature alone.
	"io.jwt.decode_verify": "it reads the clock to check exp and nbf; decode with io.jwt.decode and check the signature with io.jwt.verify_*",
	// ECDSA and RSA-PSS signatures are random, so the token differs on
	// every run; signing also needs key material, which has no place in a
	// routing repository.
	"io.jwt.encode_sign":                                     "its signatures can differ on every run, and it needs a private key",
	"io.jwt.encode_sign_raw":                                 "its signatures can differ on every run, and it needs a private key",
	"crypto.x509.parse_and_verify_certificates":              "it reads the clock to check validity periods",
	"crypto.x509.parse_and_verify_certificates_with_options": "it reads the clock to check validity periods",
	"crypto.x509.parse_rsa_private_key":                      "it reads private keys, which have no place in a routing repository",
	"crypto.parse_private_keys":                              "it reads private keys, which have no place in a routing repository",
	"crypto.x509.parse_keypair":                              "it reads private keys, which have no place in a routing repository",
	"providers.aws.sign_req":                                 "it signs with credentials, which have no place in a routing repository",
	// OPA marks both as non-deterministic: a schema may $ref a URL.
	"json.match_schema":  "it may fetch schemas over the network",
	"json.verify_schema": "it may fetch schemas over the network",
}

// allowedBuiltins compute from their arguments alone. Those that can build
// values of any size (net.cidr_expand, numbers.range, sprintf, ...) are
// bounded by the memory limit; see limits.go.
var allowedBuiltins = []string{
	// Operators, comparison and internals the compiler emits.
	"and", "assign", "eq", "equal", "gt", "gte", "lt", "lte", "neq", "or",
	"internal.member_2", "internal.member_3", "internal.template_string",
	// print and trace only write where edgectl shows them (policy test
	// output); they never change a result.
	"internal.print", "print", "trace",
	// Used by OPA's test runner for parameterised tests.
	"internal.test_case",
	// Numbers.
	"abs", "ceil", "div", "floor", "minus", "mul", "plus", "rem", "round",
	"numbers.range", "numbers.range_step", "format_int", "to_number",
	"bits.and", "bits.lsh", "bits.negate", "bits.or", "bits.rsh", "bits.xor",
	// Aggregates and collections.
	"all", "any", "count", "max", "min", "product", "sort", "sum",
	"array.concat", "array.flatten", "array.reverse", "array.slice",
	"intersection", "union", "set_diff",
	"object.filter", "object.get", "object.keys", "object.remove", "object.subset", "object.union", "object.union_n",
	"json.filter", "json.patch", "json.remove", "walk",
	"graph.reachable", "graph.reachable_paths",
	// Types.
	"cast_array", "cast_boolean", "cast_null", "cast_object", "cast_set", "cast_string",
	"is_array", "is_boolean", "is_null", "is_number", "is_object", "is_set", "is_string", "type_name",
	// Strings, patterns and encodings.
	"concat", "contains", "endswith", "indexof", "indexof_n", "lower", "replace", "split",
	"sprintf", "startswith", "substring", "trim", "trim_left", "trim_prefix", "trim_right", "trim_space",
	"trim_suffix", "upper",
	"strings.any_prefix_match", "strings.any_suffix_match", "strings.count", "strings.render_template",
	"strings.replace_n", "strings.reverse", "strings.split_n",
	"glob.match", "glob.quote_meta",
	"re_match", "regex.find_all_string_submatch_n", "regex.find_n", "regex.globs_match", "regex.is_valid",
	"regex.match", "regex.replace", "regex.split", "regex.template_match",
	"base64.decode", "base64.encode", "base64.is_valid", "base64url.decode", "base64url.encode",
	"base64url.encode_no_pad", "hex.decode", "hex.encode",
	"json.is_valid", "json.marshal", "json.marshal_with_options", "json.unmarshal",
	"yaml.is_valid", "yaml.marshal", "yaml.unmarshal",
	"urlquery.decode", "urlquery.decode_object", "urlquery.encode", "urlquery.encode_object",
	"uri.is_valid", "uri.parse",
	"semver.compare", "semver.is_valid", "units.parse", "units.parse_bytes", "uuid.parse",
	"graphql.is_valid", "graphql.parse", "graphql.parse_and_verify", "graphql.parse_query",
	"graphql.parse_schema", "graphql.schema_is_valid",
	// Networks.
	"net.cidr_contains", "net.cidr_contains_matches", "net.cidr_expand", "net.cidr_intersects",
	"net.cidr_is_valid", "net.cidr_merge", "net.cidr_overlap",
	// Time, from a time given as an argument.
	"time.add_date", "time.clock", "time.date", "time.diff", "time.format", "time.parse_duration_ns",
	"time.parse_ns", "time.parse_rfc3339_ns", "time.weekday",
	// Hashes, and parsing of public material. Verifying a JWT signature
	// is deterministic; reading its claims is up to the policy.
	"crypto.hmac.equal", "crypto.hmac.md5", "crypto.hmac.sha1", "crypto.hmac.sha256", "crypto.hmac.sha512",
	"crypto.md5", "crypto.sha1", "crypto.sha256",
	"crypto.x509.parse_certificate_request", "crypto.x509.parse_certificates",
	"io.jwt.decode", "io.jwt.verify_eddsa", "io.jwt.verify_es256", "io.jwt.verify_es384", "io.jwt.verify_es512",
	"io.jwt.verify_hs256", "io.jwt.verify_hs384", "io.jwt.verify_hs512", "io.jwt.verify_ps256",
	"io.jwt.verify_ps384", "io.jwt.verify_ps512", "io.jwt.verify_rs256", "io.jwt.verify_rs384", "io.jwt.verify_rs512",
	// Policy metadata and parsing.
	"rego.metadata.chain", "rego.metadata.rule", "rego.parse_module",
}

// Allowed reports whether a policy may call a built-in.
func Allowed(name string) bool { return slices.Contains(allowedBuiltins, name) }

// RefusedReason says why a built-in is refused, or "" if it is not.
func RefusedReason(name string) string { return refusedBuiltins[name] }

// unsafeBuiltins are every built-in of this OPA release that is not
// allowed, including any a later release adds, for OPA's compiler to refuse.
// (Narrowing the compiler's capabilities instead would refuse them as
// undefined functions, in a stage that runs before the safety checks and so
// hides the other mistakes in the policies.)
var unsafeBuiltins = func() map[string]struct{} {
	out := map[string]struct{}{}
	for name := range ast.BuiltinMap {
		if !Allowed(name) {
			out[name] = struct{}{}
		}
	}
	return out
}()
