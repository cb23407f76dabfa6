package routesim

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headerOps are the header mutations of one level (route, virtual host,
// route configuration or weighted cluster), as Envoy's header parser holds
// them: names lowercase, removals applied before additions.
type headerOps struct {
	remove []string
	add    []headerAdd
}

type headerAdd struct {
	name, value string
	action      corev3.HeaderValueOption_HeaderAppendAction
	keepEmpty   bool
}

// compileHeaderOps returns nil when there is nothing to do. Like Envoy it
// refuses to add or remove pseudo-headers and Host, and a deprecated append
// set together with a non-default append_action.
func compileHeaderOps(add []*corev3.HeaderValueOption, remove []string) (*headerOps, error) {
	if len(add) == 0 && len(remove) == 0 {
		return nil, nil
	}
	ops := &headerOps{}
	for _, name := range remove {
		n := toLowerASCII(name)
		if strings.HasPrefix(n, ":") || n == "host" {
			return nil, fmt.Errorf("header %q may not be removed", name)
		}
		ops.remove = append(ops.remove, n)
	}
	for _, o := range add {
		n := toLowerASCII(o.GetHeader().GetKey())
		if strings.HasPrefix(n, ":") || n == "host" {
			return nil, fmt.Errorf("header %q may not be modified", o.GetHeader().GetKey())
		}
		a := headerAdd{name: n, value: o.GetHeader().GetValue(), action: o.GetAppendAction(), keepEmpty: o.GetKeepEmptyValue()}
		if a.value == "" && len(o.GetHeader().GetRawValue()) > 0 {
			a.value = string(o.GetHeader().GetRawValue())
		}
		if o.GetAppend() != nil {
			if o.GetAppendAction() != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
				return nil, fmt.Errorf("header %q sets both append and append_action", o.GetHeader().GetKey())
			}
			if !o.GetAppend().GetValue() {
				a.action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			}
		}
		ops.add = append(ops.add, a)
	}
	return ops, nil
}

// mutation is a header map being mutated: all its headers, and the net
// additions and the removals made so far.
type mutation struct {
	headers []Header
	added   []Header
	removed []string
	notes   *[]string
}

func (m *mutation) has(name string) bool {
	for _, h := range m.headers {
		if equalFoldASCII(h.Name, name) {
			return true
		}
	}
	return false
}

func (m *mutation) drop(name string) {
	m.headers = dropHeader(m.headers, name)
	m.added = dropHeader(m.added, name)
}

func dropHeader(hs []Header, name string) []Header {
	out := hs[:0]
	for _, h := range hs {
		if !equalFoldASCII(h.Name, name) {
			out = append(out, h)
		}
	}
	return out
}

// apply evaluates one level the way Envoy's header parser does: removals
// first; then each addition is decided against the headers as they were
// before this level's additions; overwrites are set before appends.
func (m *mutation) apply(ops *headerOps) {
	if ops == nil {
		return
	}
	for _, name := range ops.remove {
		m.drop(name)
		if !containsString(m.removed, name) {
			m.removed = append(m.removed, name)
		}
	}
	var overwrite, appendList []Header
	for _, a := range ops.add {
		if strings.Contains(a.value, "%") {
			note(m.notes, fmt.Sprintf("header %q: value %q may hold a formatter; shown unevaluated", a.name, a.value))
		}
		if a.value == "" && !a.keepEmpty {
			continue
		}
		h := Header{Name: a.name, Value: a.value}
		switch a.action {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			appendList = append(appendList, h)
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !m.has(a.name) {
				appendList = append(appendList, h)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if m.has(a.name) {
				overwrite = append(overwrite, h)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			overwrite = append(overwrite, h)
		}
	}
	for _, h := range overwrite {
		m.drop(h.Name)
		m.headers = append(m.headers, h)
		m.added = append(m.added, h)
	}
	for _, h := range appendList {
		m.headers = append(m.headers, h)
		m.added = append(m.added, h)
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// note adds a note once.
func note(notes *[]string, s string) {
	if notes == nil || containsString(*notes, s) {
		return
	}
	*notes = append(*notes, s)
}
