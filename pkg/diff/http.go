package diff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edgectl/edgectl/pkg/ir"
)

// The HTTP features of virtual hosts and routes, in a reviewer's words.

func compression(c *ir.Compression) string {
	switch {
	case c == nil:
		return "none"
	case c.Disabled:
		return "off"
	}
	s := strings.Join(c.Algorithms, ", ")
	if len(c.ContentTypes) > 0 {
		s += " for " + strings.Join(c.ContentTypes, ", ")
	}
	if c.MinLength != nil {
		s += fmt.Sprintf(" from %d bytes", *c.MinLength)
	}
	return s
}

func fault(f *ir.Fault) string {
	if f == nil {
		return "none"
	}
	var parts []string
	if d := f.Delay; d != nil {
		what := "delay " + d.Fixed.String()
		if d.FromHeader {
			what = "delay from header"
		}
		parts = append(parts, what+" for "+strconv.FormatFloat(d.Percent, 'f', -1, 64)+"%")
	}
	if a := f.Abort; a != nil {
		what := fmt.Sprintf("abort %d", a.Status)
		switch {
		case a.FromHeader:
			what = "abort from header"
		case a.GRPCStatus != nil:
			what = fmt.Sprintf("abort gRPC %d", *a.GRPCStatus)
		}
		parts = append(parts, what+" for "+strconv.FormatFloat(a.Percent, 'f', -1, 64)+"%")
	}
	if f.MaxActiveFaults != nil {
		parts = append(parts, fmt.Sprintf("at most %d at once", *f.MaxActiveFaults))
	}
	return strings.Join(parts, ", ")
}

// httpRouteChanges lists what changes about a route's HTTP features.
func httpRouteChanges(b, h *ir.Route) []string {
	var out []string
	add := func(what, old, new string) {
		if old != new {
			out = append(out, fmt.Sprintf("%s: %s → %s", what, old, new))
		}
	}
	add("compression", compression(b.Compression), compression(h.Compression))
	add("fault injection", fault(b.Fault), fault(h.Fault))
	add("hedging", onOff(b.HedgeOnPerTryTimeout), onOff(h.HedgeOnPerTryTimeout))
	return out
}

// httpHostChanges lists what changes about a virtual host's HTTP features.
func httpHostChanges(b, h *ir.VirtualHost) []string {
	var out []string
	add := func(what, old, new string) {
		if old != new {
			out = append(out, fmt.Sprintf("%s: %s → %s", what, old, new))
		}
	}
	add("compression", compression(b.Compression), compression(h.Compression))
	add("gRPC-Web", onOff(b.GRPCWeb), onOff(h.GRPCWeb))
	return out
}
