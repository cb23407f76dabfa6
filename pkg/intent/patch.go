package intent

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// EnvoyPatch is the platform team's escape hatch: a change to one resource
// edgectl generates for a gateway, for an Envoy feature edgectl does not
// model (docs/patches.md).
type EnvoyPatch struct {
	Metadata Metadata       `yaml:"metadata"`
	Spec     EnvoyPatchSpec `yaml:"spec"`
	Doc      *Doc           `yaml:"-"`
}

type EnvoyPatchSpec struct {
	Gateway string      `yaml:"gateway"`
	Target  PatchTarget `yaml:"target"`
	// Exactly one of the three. Merge and each JSON patch operation are
	// kept as syntax, turned into JSON by JSONOf. Merge is a value, not a
	// pointer, because yaml.v3 leaves a *yaml.Node field empty; its Kind
	// is zero when the field is absent.
	Merge      yaml.Node    `yaml:"merge"`
	JSONPatch  []yaml.Node  `yaml:"jsonPatch"`
	HTTPFilter *PatchFilter `yaml:"httpFilter"`
}

// PatchTarget addresses a generated resource.
type PatchTarget struct {
	Type        string `yaml:"type"` // Listener, RouteConfiguration, Cluster, Secret
	Name        string `yaml:"name"`
	VirtualHost string `yaml:"virtualHost"` // RouteConfiguration only
}

// PatchFilter inserts an HTTP filter into the connection managers of a
// listener.
type PatchFilter struct {
	Name        string    `yaml:"name"`
	Before      string    `yaml:"before"`
	After       string    `yaml:"after"`
	TypedConfig yaml.Node `yaml:"typedConfig"`
}

// JSONOf renders YAML syntax as JSON, keys sorted: what a patch holds is
// JSON written as YAML. A scalar keeps the type YAML resolves it to, except
// that tags JSON has no type for (timestamps, binary) stay strings.
func JSONOf(n *yaml.Node) ([]byte, error) {
	v, err := jsonValue(n)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func jsonValue(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return jsonValue(n.Content[0])
	case yaml.AliasNode:
		return jsonValue(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := jsonValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a JSON object's keys are strings", k.Line)
			}
			v, err := jsonValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		return f, nil
	}
	return n.Value, nil
}
