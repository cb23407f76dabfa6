package patch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// httpFilterPackage is where Envoy keeps the configurations of its HTTP
// filters; a typed config from elsewhere configures no HTTP filter.
const httpFilterPackage = "envoy.extensions.filters.http."

// FilterConfig reads a filter's typed configuration, the JSON form of an
// Any, and packs it deterministically. The message type must be linked
// into edgectl (pkg/patch/types.go) and configure an HTTP filter.
func FilterConfig(f *ir.PatchFilter) (*anypb.Any, error) {
	var head struct {
		Type string `json:"@type"`
	}
	if err := json.Unmarshal(f.TypedConfig, &head); err != nil || head.Type == "" {
		return nil, errAt(f.TypePos, RuleFilter, "spec.httpFilter.typedConfig needs an \"@type\"")
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(head.Type)
	if err != nil {
		msg := fmt.Sprintf("unknown @type %q: not an Envoy message edgectl knows", head.Type)
		name := head.Type[strings.LastIndex(head.Type, "/")+1:]
		if s := suggestType(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", "type.googleapis.com/"+s)
		}
		return nil, errAt(f.TypePos, RuleFilter, "%s", msg)
	}
	full := string(mt.Descriptor().FullName())
	if !strings.HasPrefix(full, httpFilterPackage) {
		return nil, errAt(f.TypePos, RuleFilter, "@type %q configures no HTTP filter (those are in package %s*)", head.Type, httpFilterPackage)
	}
	a := &anypb.Any{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(f.TypedConfig, a); err != nil {
		return nil, errAt(f.Pos, RuleFilter, "spec.httpFilter.typedConfig is not a valid %s: %s", full, protoError(err))
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, errAt(f.Pos, RuleFilter, "spec.httpFilter.typedConfig: %s", protoError(err))
	}
	return pack(m)
}

// suggestType finds the HTTP filter configuration closest to a mistyped
// message name.
func suggestType(name string) string {
	var names []string
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		if n := string(mt.Descriptor().FullName()); strings.HasPrefix(n, httpFilterPackage) {
			names = append(names, n)
		}
		return true
	})
	slices.Sort(names)
	return suggest(name, names)
}

// pack packs a message deterministically, as translation does: equal
// configurations must give equal bytes.
func pack(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, err
	}
	return a, nil
}

// insertFilter returns a copy of l with the filter in every HTTP
// connection manager: before or after the named filter, or just before
// the router.
func insertFilter(f *ir.PatchFilter, l *listenerv3.Listener) (*listenerv3.Listener, error) {
	cfg, err := FilterConfig(f)
	if err != nil {
		return nil, err
	}
	out := proto.Clone(l).(*listenerv3.Listener)
	chains := slices.Clone(out.FilterChains)
	if out.DefaultFilterChain != nil {
		chains = append(chains, out.DefaultFilterChain)
	}
	managers := 0
	for _, fc := range chains {
		for _, nf := range fc.Filters {
			tc := nf.GetTypedConfig()
			if tc == nil || !tc.MessageIs(&hcmv3.HttpConnectionManager{}) {
				continue
			}
			hcm := &hcmv3.HttpConnectionManager{}
			if err := tc.UnmarshalTo(hcm); err != nil {
				return nil, fmt.Errorf("read the connection manager of listener %q: %w", l.Name, err)
			}
			where := fmt.Sprintf("listener %q", l.Name)
			if fc.Name != "" {
				where = fmt.Sprintf("filter chain %q of listener %q", fc.Name, l.Name)
			}
			if err := insertInto(f, cfg, hcm, where); err != nil {
				return nil, err
			}
			a, err := pack(hcm)
			if err != nil {
				return nil, err
			}
			nf.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
			managers++
		}
	}
	if managers == 0 {
		return nil, errAt(f.Pos, RuleFilter, "listener %q has no HTTP connection manager to insert HTTP filter %q into", l.Name, f.Name)
	}
	return out, nil
}

func insertInto(f *ir.PatchFilter, cfg *anypb.Any, hcm *hcmv3.HttpConnectionManager, where string) error {
	names := make([]string, len(hcm.HttpFilters))
	for i, h := range hcm.HttpFilters {
		names[i] = h.Name
	}
	if slices.Contains(names, f.Name) {
		return errAt(f.Pos, RuleFilter, "the connection manager of %s has HTTP filter %q already", where, f.Name)
	}
	at := slices.Index(names, wellknown.Router)
	if anchor := f.Before + f.After; anchor != "" {
		i := slices.Index(names, anchor)
		if i < 0 {
			msg := fmt.Sprintf("the connection manager of %s has no HTTP filter %q", where, anchor)
			candidates := names
			if f.After != "" {
				candidates = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == wellknown.Router })
			}
			if s := suggest(anchor, candidates); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (it has %s)", quoteAll(names))
			}
			return errAt(f.At, RuleFilter, "%s", msg)
		}
		at = i
		if f.After != "" {
			at = i + 1
		}
	}
	if at < 0 {
		at = len(names)
	}
	h := &hcmv3.HttpFilter{Name: f.Name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}
	hcm.HttpFilters = slices.Insert(hcm.HttpFilters, at, h)
	return nil
}
