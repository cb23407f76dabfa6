package routecheck

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protopath"
	"google.golang.org/protobuf/reflect/protorange"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/routesim"
)

// Routes is a route configuration ready to route test requests.
type Routes struct {
	Config *routev3.RouteConfiguration
	router *routesim.Router
}

// LoadRoutes reads a route configuration as Envoy's router_check_tool does
// (YAML or JSON, strictly: an unknown field is an error), or as edgectl
// writes it in a bundle (an xDS DiscoveryResponse holding one route
// configuration). The configuration must pass Envoy's validation rules,
// those of the messages packed in typed_per_filter_config included, and
// load into the simulator. Problems come back as findings in file.
func LoadRoutes(file string, data []byte) (*Routes, diag.List) {
	var l diag.List
	root, d, ok := parseYAML(file, data)
	if !ok {
		l.Add(d)
		return nil, l
	}
	at := diag.Pos{File: file}
	if root != nil {
		at = nodePos(file, root)
	}
	if root == nil || resolve(root).Kind != yaml.MappingNode {
		l.Errorf(at, "", "not a route configuration: expected a YAML or JSON object")
		return nil, l
	}
	doc := toJSON(file, root)
	var rc *routev3.RouteConfiguration
	rcNode := root
	if hasKey(root, "resources") {
		var dr discoveryv3.DiscoveryResponse
		if d, ok := doc.unmarshal(&dr, at, ""); !ok {
			l.Add(d)
			return nil, l
		}
		if len(dr.Resources) != 1 {
			l.Errorf(at, "", "a discovery response for routecheck must hold exactly one route configuration, not %d", len(dr.Resources))
			return nil, l
		}
		m, err := dr.Resources[0].UnmarshalNew()
		if err != nil {
			l.Errorf(at, "", "resources[0]: %v", err)
			return nil, l
		}
		var isRC bool
		if rc, isRC = m.(*routev3.RouteConfiguration); !isRC {
			l.Errorf(at, "", "resources[0] is a %s, not a route configuration", m.ProtoReflect().Descriptor().FullName())
			return nil, l
		}
		if res := field(root, "resources"); res != nil && res.Kind == yaml.SequenceNode && len(res.Content) == 1 {
			rcNode = resolve(res.Content[0])
		}
	} else {
		rc = &routev3.RouteConfiguration{}
		if d, ok := doc.unmarshal(rc, at, ""); !ok {
			l.Add(d)
			return nil, l
		}
	}
	for _, err := range validate(rc) {
		path, reason := validationPath(err.Error())
		if len(path) == 0 {
			l.Errorf(diag.Pos{File: file}, "", "%v", err)
			continue
		}
		l.Errorf(nodePos(file, find(rcNode, path)), "", "%s: %s", strings.Join(path, "."), reason)
	}
	if l.HasErrors() {
		return nil, l
	}
	router, err := routesim.NewRouter(rc)
	if err != nil {
		l.Errorf(diag.Pos{File: file}, "", "Envoy would refuse this route configuration: %v", err)
		return nil, l
	}
	return &Routes{Config: rc, router: router}, nil
}

// parseYAML reads the one YAML (or JSON) document in data; root is nil for
// an empty file.
func parseYAML(file string, data []byte) (*yaml.Node, diag.Diagnostic, bool) {
	docs, problems := intent.ReadYAML(file, data)
	switch {
	case len(problems) > 0:
		return nil, problems[0], false
	case len(docs) == 0:
		return nil, diag.Diagnostic{}, true
	case len(docs) > 1:
		return nil, diag.Diagnostic{Pos: nodePos(file, docs[1]), Severity: diag.Error, Message: "a second YAML document: the file must hold one"}, false
	}
	return docs[0], diag.Diagnostic{}, true
}

func hasKey(m *yaml.Node, key string) bool { return field(m, key) != nil }

// field returns the value of a mapping's key, spelled as in the proto or
// in lowerCamelCase; nil when absent.
func field(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]).Value; k == key || k == lowerCamel(key) {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// validationStep is one link of the chain the generated validators report:
// "invalid VirtualHost.Routes[1]: embedded message failed validation".
var validationStep = regexp.MustCompile(`^invalid [A-Za-z0-9_]+\.([A-Za-z0-9_]+)(\[[^\]]*\])?: (.*)$`)

// validationPath reads a validation error as a field path in proto names
// (virtual_hosts[0], routes[1], match, path_specifier) and the reason.
func validationPath(msg string) ([]string, string) {
	var path []string
	for _, seg := range strings.Split(msg, " | caused by: ") {
		m := validationStep.FindStringSubmatch(seg)
		if m == nil {
			return nil, msg
		}
		path = append(path, snake(m[1])+m[2])
		msg = m[3]
	}
	return path, msg
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// find follows a validation path as far as the YAML goes (a oneof's name is
// no key) and returns the node it reaches.
func find(n *yaml.Node, path []string) *yaml.Node {
	for _, step := range path {
		name, index, _ := strings.Cut(step, "[")
		next := field(n, name)
		if next == nil {
			return n
		}
		if index = strings.TrimSuffix(index, "]"); index != "" {
			i, err := strconv.Atoi(index)
			switch {
			case err == nil && next.Kind == yaml.SequenceNode && i < len(next.Content):
				next = resolve(next.Content[i])
			case err != nil && next.Kind == yaml.MappingNode:
				if v := field(next, strings.Trim(index, `"`)); v != nil {
					next = v
				}
			}
		}
		n = next
	}
	return n
}

type validatorAll interface{ ValidateAll() error }

type multiError interface{ AllErrors() []error }

// validate runs Envoy's generated validation on m and on every message
// packed in an Any below it, which the generated code does not open.
func validate(m proto.Message) []error {
	var errs []error
	if v, ok := m.(validatorAll); ok {
		if err := v.ValidateAll(); err != nil {
			var me multiError
			if errors.As(err, &me) {
				errs = append(errs, me.AllErrors()...)
			} else {
				errs = append(errs, err)
			}
		}
	}
	_ = protorange.Options{Stable: true}.Range(m.ProtoReflect(), func(p protopath.Values) error {
		pm, ok := p.Index(-1).Value.Interface().(protoreflect.Message)
		if !ok || len(p.Values) == 1 {
			return nil
		}
		a, ok := pm.Interface().(*anypb.Any)
		if !ok {
			return nil
		}
		where := strings.TrimPrefix(p.Path[1:].String(), ".")
		inner, err := a.UnmarshalNew()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			return protorange.Break
		}
		for _, err := range validate(inner) {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		return protorange.Break
	}, nil)
	return errs
}
