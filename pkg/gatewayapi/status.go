package gatewayapi

import (
	"encoding/json"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Status is what a conformant controller would write into the status of
// each Gateway, listener and route, had the manifests been applied. edgectl
// writes nothing to a cluster; it prints this for CI.
type Status struct {
	Gateways []GatewayStatus `json:"gateways" yaml:"gateways"`
	Routes   []RouteStatus   `json:"routes" yaml:"routes"`
	Policies []PolicyStatus  `json:"policies,omitempty" yaml:"policies,omitempty"`
}

// PolicyStatus is the status of a policy (a BackendTLSPolicy).
type PolicyStatus struct {
	Kind       string      `json:"kind" yaml:"kind"`
	Namespace  string      `json:"namespace" yaml:"namespace"`
	Name       string      `json:"name" yaml:"name"`
	Conditions []Condition `json:"conditions" yaml:"conditions"`
}

type GatewayStatus struct {
	Namespace  string           `json:"namespace" yaml:"namespace"`
	Name       string           `json:"name" yaml:"name"`
	Bundle     string           `json:"bundle" yaml:"bundle"` // the bundle the gateway compiles to
	Conditions []Condition      `json:"conditions" yaml:"conditions"`
	Listeners  []ListenerStatus `json:"listeners" yaml:"listeners"`
}

type ListenerStatus struct {
	Name           string      `json:"name" yaml:"name"`
	SupportedKinds []string    `json:"supportedKinds" yaml:"supportedKinds"`
	AttachedRoutes int         `json:"attachedRoutes" yaml:"attachedRoutes"`
	Conditions     []Condition `json:"conditions" yaml:"conditions"`
}

type RouteStatus struct {
	Kind      string         `json:"kind" yaml:"kind"`
	Namespace string         `json:"namespace" yaml:"namespace"`
	Name      string         `json:"name" yaml:"name"`
	Parents   []ParentStatus `json:"parents" yaml:"parents"`
}

type ParentStatus struct {
	Gateway     string      `json:"gateway" yaml:"gateway"` // namespace/name
	SectionName string      `json:"sectionName,omitempty" yaml:"sectionName,omitempty"`
	Port        int32       `json:"port,omitempty" yaml:"port,omitempty"`
	Conditions  []Condition `json:"conditions" yaml:"conditions"`
}

// Condition is one status condition, with the spec's type and reason names.
type Condition struct {
	Type    string `json:"type" yaml:"type"`
	Status  string `json:"status" yaml:"status"` // "True" or "False"
	Reason  string `json:"reason" yaml:"reason"`
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
}

func cond(typ string, ok bool, reason, format string, args ...any) Condition {
	c := Condition{Type: typ, Status: "True", Reason: reason}
	if !ok {
		c.Status = "False"
	}
	if format != "" {
		c.Message = fmt.Sprintf(format, args...)
	}
	return c
}

// WriteYAML prints the status as YAML.
func (s *Status) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return enc.Close()
}

// WriteJSON prints the status as indented JSON.
func (s *Status) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}
