package routecheck

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/routesim"
)

// Suite is a test file in the format of Envoy's router_check_tool
// (envoy.RouterCheckToolSchema.Validation).
type Suite struct {
	Tests []Test
	// Runtime is the file's top-level runtime map. Envoy's tool loads it
	// into its runtime (for settings such as RE2 limits); routing does not
	// read it, and neither does routecheck.
	Runtime map[string]string
}

// Test is one test case: a request, and what to expect of its route.
type Test struct {
	Name  string
	Pos   diag.Pos
	Input Input
	Want  Want
}

// Input is a test's request (ValidationInput).
type Input struct {
	Authority, Path, Method string
	// RandomValue picks among weighted clusters and decides runtime
	// fractions.
	RandomValue uint64
	// SSL sets x-forwarded-proto (and :scheme) to https rather than http.
	SSL bool
	// Internal adds x-envoy-internal: true.
	Internal bool
	// Runtime is the one runtime key enabled for the test: a route with a
	// runtime fraction under another key is off.
	Runtime                         string
	RequestHeaders, ResponseHeaders []routesim.Header
}

// Want is what a test checks (ValidationAssert). A nil field is not
// checked; an empty string expects no value, such as no route.
type Want struct {
	ClusterName, VirtualClusterName, VirtualHostName *string
	HostRewrite, PathRewrite, PathRedirect           *string
	CodeRedirect                                     *uint32
	RequestHeaderMatches, ResponseHeaderMatches      []*routev3.HeaderMatcher
	// RequestHeaderFields and ResponseHeaderFields are the deprecated
	// exact comparisons of one header value each.
	RequestHeaderFields, ResponseHeaderFields []routesim.Header
}

// The fields of each message of the format, by their proto names. Like
// Envoy, routecheck also accepts each name in lowerCamelCase, as protobuf's
// JSON mapping spells it.
var (
	suiteFields = []string{"tests", "runtime"}
	testFields  = []string{"test_name", "input", "validate"}
	inputFields = []string{"authority", "path", "method", "random_value", "ssl", "internal", "runtime",
		"additional_request_headers", "additional_response_headers", "dynamic_metadata"}
	wantFields = []string{"cluster_name", "virtual_cluster_name", "virtual_host_name", "host_rewrite", "path_rewrite",
		"path_redirect", "code_redirect", "request_header_matches", "response_header_matches",
		"request_header_fields", "response_header_fields"}
)

// Fields of the tool's older formats, and what replaced them.
var (
	oldInputFields = map[string]string{
		":authority":         `"authority"`,
		":path":              `"path"`,
		":method":            `"method"`,
		"additional_headers": `"additional_request_headers"`,
	}
	oldWantFields = map[string]string{
		"header_fields":        `"request_header_matches"`,
		"custom_header_fields": `"request_header_matches"`,
	}
)

// ParseTests reads a router_check_tool test file, YAML or JSON, strictly:
// an unknown field, a value of the wrong type, or a missing required field
// is a finding at its position in file.
func ParseTests(file string, data []byte) (*Suite, diag.List) {
	p := &parser{file: file}
	root, d, ok := parseYAML(file, data)
	if !ok {
		p.diags.Add(d)
		return nil, p.diags
	}
	if root == nil {
		p.diags.Errorf(diag.Pos{File: file}, "", "the test file is empty: it needs a list of tests")
		return nil, p.diags
	}
	root = resolve(root)
	if root.Kind == yaml.SequenceNode {
		p.errorf(root, "the test file is a list, router_check_tool's old format; put the tests under \"tests\", with \"input\" and \"validate\" as Envoy's current format has them")
		return nil, p.diags
	}
	s := &Suite{}
	f := p.object(root, "the test file", suiteFields, nil)
	if f == nil {
		return nil, p.diags
	}
	if n := f["runtime"]; n != nil {
		s.Runtime = p.runtime(n)
	}
	tests := f["tests"]
	if tests == nil {
		p.errorf(root, "\"tests\" is missing: the test file needs at least one test")
		return nil, p.diags
	}
	if p.list(tests, "tests") {
		if len(tests.Content) == 0 {
			p.errorf(tests, "tests: the test file needs at least one test")
		}
		for i, n := range tests.Content {
			if t, ok := p.test(resolve(n), fmt.Sprintf("tests[%d]", i)); ok {
				s.Tests = append(s.Tests, t)
			}
		}
	}
	if p.diags.HasErrors() {
		return nil, p.diags.Sorted()
	}
	return s, nil
}

type parser struct {
	file  string
	diags diag.List
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.diags.Errorf(nodePos(p.file, n), "", format, args...)
}

// object reads a mapping whose keys must be among fields (by proto name or
// in lowerCamelCase), keyed by proto name. Null values are left out, as
// protobuf's JSON mapping reads null as unset. It returns nil when n is
// not a mapping.
func (p *parser) object(n *yaml.Node, where string, fields []string, old map[string]string) map[string]*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be an object with the fields %s", where, strings.Join(fields, ", "))
		return nil
	}
	out := map[string]*yaml.Node{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name, ok := fieldName(k.Value, fields)
		switch {
		case ok && seen[name]:
			p.errorf(k, "%s: %q is given twice", where, name)
			continue
		case ok:
		case old[k.Value] != "":
			p.errorf(k, "%s: %q is from an older format of router_check_tool; Envoy now reads %s", where, k.Value, old[k.Value])
			continue
		default:
			msg := fmt.Sprintf("%s: unknown field %q", where, k.Value)
			if s := diag.Suggest(k.Value, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			p.errorf(k, "%s", msg)
			continue
		}
		seen[name] = true
		if v.ShortTag() != "!!null" {
			out[name] = v
		}
	}
	return out
}

// fieldName finds key among fields, as written or in lowerCamelCase.
func fieldName(key string, fields []string) (string, bool) {
	for _, f := range fields {
		if key == f || key == lowerCamel(f) {
			return f, true
		}
	}
	return "", false
}

func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func (p *parser) list(n *yaml.Node, where string) bool {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list", where)
		return false
	}
	return true
}

func (p *parser) str(n *yaml.Node, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorf(n, "%s must be a string", where)
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, where string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false", where)
	}
	return b
}

// uint reads an unsigned integer of the given bits; protobuf's JSON mapping
// also accepts one written as a string.
func (p *parser) uint(n *yaml.Node, where string, bits int) (uint64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!str") {
		v := n.Value
		if n.ShortTag() == "!!int" {
			v = strings.TrimPrefix(scalarJSON(n), "+")
		}
		if u, err := strconv.ParseUint(v, 10, bits); err == nil {
			return u, true
		}
	}
	p.errorf(n, "%s must be an integer from 0 to %d", where, uint64(1)<<bits-1)
	return 0, false
}

func (p *parser) runtime(n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "runtime must be an object of runtime keys and values")
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "runtime: the value of %q must be a number, string or boolean", k.Value)
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

func (p *parser) test(n *yaml.Node, where string) (Test, bool) {
	t := Test{Pos: nodePos(p.file, n)}
	f := p.object(n, where, testFields, nil)
	if f == nil {
		return t, false
	}
	before := len(p.diags)
	if v := f["test_name"]; v == nil {
		p.errorf(n, "%s: \"test_name\" is missing", where)
	} else if s, ok := p.str(v, where+".test_name"); ok {
		if s == "" {
			p.errorf(v, "%s.test_name must not be empty", where)
		}
		t.Name = s
	}
	if v := f["input"]; v == nil {
		p.errorf(n, "%s: \"input\" is missing", where)
	} else {
		t.Input = p.input(v, where+".input")
	}
	if v := f["validate"]; v == nil {
		p.errorf(n, "%s: \"validate\" is missing", where)
	} else {
		t.Want = p.want(v, where+".validate")
	}
	return t, len(p.diags) == before
}

func (p *parser) input(n *yaml.Node, where string) Input {
	var in Input
	f := p.object(n, where, inputFields, oldInputFields)
	if f == nil {
		return in
	}
	required := func(name string, minLen int) string {
		v := f[name]
		if v == nil {
			p.errorf(n, "%s: %q is missing", where, name)
			return ""
		}
		s, ok := p.str(v, where+"."+name)
		if ok && len(s) < minLen {
			p.errorf(v, "%s.%s must be at least %d characters long", where, name, minLen)
		}
		return s
	}
	in.Authority = required("authority", 1)
	in.Path = required("path", 1)
	in.Method = required("method", 3)
	if v := f["random_value"]; v != nil {
		in.RandomValue, _ = p.uint(v, where+".random_value", 64)
	}
	if v := f["ssl"]; v != nil {
		in.SSL = p.boolean(v, where+".ssl")
	}
	if v := f["internal"]; v != nil {
		in.Internal = p.boolean(v, where+".internal")
	}
	if v := f["runtime"]; v != nil {
		in.Runtime, _ = p.str(v, where+".runtime")
	}
	if v := f["additional_request_headers"]; v != nil {
		in.RequestHeaders = p.headerValues(v, where+".additional_request_headers")
	}
	if v := f["additional_response_headers"]; v != nil {
		in.ResponseHeaders = p.headerValues(v, where+".additional_response_headers")
	}
	if v := f["dynamic_metadata"]; v != nil {
		p.errorf(v, "%s.dynamic_metadata: routecheck does not simulate dynamic metadata; test such routes with Envoy's router_check_tool", where)
	}
	return in
}

func (p *parser) want(n *yaml.Node, where string) Want {
	var w Want
	f := p.object(n, where, wantFields, oldWantFields)
	if f == nil {
		return w
	}
	for name, dst := range map[string]**string{
		"cluster_name":         &w.ClusterName,
		"virtual_cluster_name": &w.VirtualClusterName,
		"virtual_host_name":    &w.VirtualHostName,
		"host_rewrite":         &w.HostRewrite,
		"path_rewrite":         &w.PathRewrite,
		"path_redirect":        &w.PathRedirect,
	} {
		if v := f[name]; v != nil {
			if s, ok := p.str(v, where+"."+name); ok {
				*dst = &s
			}
		}
	}
	if v := f["code_redirect"]; v != nil {
		if u, ok := p.uint(v, where+".code_redirect", 32); ok {
			c := uint32(u)
			w.CodeRedirect = &c
		}
	}
	if v := f["request_header_matches"]; v != nil {
		w.RequestHeaderMatches = p.headerMatchers(v, where+".request_header_matches")
	}
	if v := f["response_header_matches"]; v != nil {
		w.ResponseHeaderMatches = p.headerMatchers(v, where+".response_header_matches")
	}
	if v := f["request_header_fields"]; v != nil {
		w.RequestHeaderFields = p.headerValues(v, where+".request_header_fields")
	}
	if v := f["response_header_fields"]; v != nil {
		w.ResponseHeaderFields = p.headerValues(v, where+".response_header_fields")
	}
	return w
}

// headerValues reads a list of Envoy HeaderValues.
func (p *parser) headerValues(n *yaml.Node, where string) []routesim.Header {
	if !p.list(n, where) {
		return nil
	}
	var out []routesim.Header
	for i, item := range n.Content {
		hv := &corev3.HeaderValue{}
		if !p.message(item, hv, fmt.Sprintf("%s[%d]", where, i)) {
			continue
		}
		v := hv.Value
		if v == "" && len(hv.RawValue) > 0 {
			v = string(hv.RawValue)
		}
		out = append(out, routesim.Header{Name: hv.Key, Value: v})
	}
	return out
}

// headerMatchers reads a list of Envoy HeaderMatchers, and checks their
// regular expressions compile.
func (p *parser) headerMatchers(n *yaml.Node, where string) []*routev3.HeaderMatcher {
	if !p.list(n, where) {
		return nil
	}
	var out []*routev3.HeaderMatcher
	for i, item := range n.Content {
		hm := &routev3.HeaderMatcher{}
		w := fmt.Sprintf("%s[%d]", where, i)
		if !p.message(item, hm, w) {
			continue
		}
		if re := matcherRegex(hm); re != "" {
			if _, err := regexp.Compile(re); err != nil {
				p.errorf(item, "%s: invalid regular expression %q: %v", w, re, err)
				continue
			}
		}
		if hm.GetStringMatch().GetCustom() != nil {
			p.errorf(item, "%s: routecheck cannot run a custom string matcher extension", w)
			continue
		}
		out = append(out, hm)
	}
	return out
}

// matcherRegex returns the regular expression a header matcher uses, if any.
func matcherRegex(hm *routev3.HeaderMatcher) string {
	if r := hm.GetSafeRegexMatch(); r != nil {
		return r.GetRegex()
	}
	if sm, ok := hm.GetStringMatch().GetMatchPattern().(*matcherv3.StringMatcher_SafeRegex); ok {
		return sm.SafeRegex.GetRegex()
	}
	return ""
}

// message decodes an Envoy message with protojson and checks it against
// Envoy's validation rules.
func (p *parser) message(n *yaml.Node, m proto.Message, where string) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be an object", where)
		return false
	}
	doc := toJSON(p.file, n)
	if d, ok := doc.unmarshal(m, nodePos(p.file, n), where); !ok {
		p.diags.Add(d)
		return false
	}
	if errs := validate(m); len(errs) > 0 {
		for _, err := range errs {
			if path, reason := validationPath(err.Error()); len(path) > 0 {
				p.errorf(find(n, path), "%s.%s: %s", where, strings.Join(path, "."), reason)
			} else {
				p.errorf(n, "%s: %v", where, err)
			}
		}
		return false
	}
	return true
}
