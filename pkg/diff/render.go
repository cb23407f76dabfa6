package diff

import (
	"fmt"
	"io"
	"strings"
)

// Labels name the two sides in a rendering: "main (3f2a1c9)".
type Labels struct {
	Base, Head string
}

var marks = map[string]string{Added: "+", Removed: "-", Changed: "~"}

// Summary is terraform's closing line.
func (r *Report) Summary() string {
	return fmt.Sprintf("%d to add, %d to change, %d to remove.", r.Counts.Add, r.Counts.Change, r.Counts.Remove)
}

// WriteText renders the report for a terminal or a log. color adds ANSI
// colours for a terminal.
func WriteText(w io.Writer, r *Report, l Labels, color bool) error {
	paint := func(status, s string) string {
		if !color {
			return s
		}
		code := map[string]string{Added: "32", Removed: "31", Changed: "33"}[status]
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s\n", l.Base, l.Head)
	if r.Empty() {
		b.WriteString("\nNo changes.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, g := range r.Gateways {
		fmt.Fprintf(&b, "\n%s gateway %s", paint(g.Status, marks[g.Status]), g.Name)
		b.WriteByte('\n')
		for _, h := range g.Hosts {
			fmt.Fprintf(&b, "  %s %s (virtual host %s%s)\n", paint(h.Status, marks[h.Status]), strings.Join(h.Hostnames, ", "), h.Name, teamNote(h.Team))
			for _, c := range h.Changes {
				fmt.Fprintf(&b, "      %s\n", c)
			}
			for _, rt := range h.Routes {
				rteam := ""
				if rt.Team != h.Team {
					rteam = teamNote(rt.Team)
				}
				fmt.Fprintf(&b, "    %s route %s%s\n", paint(rt.Status, marks[rt.Status]), routeLabel(rt), rteam)
				if rt.Status != Changed {
					fmt.Fprintf(&b, "        %s\n", rt.Action)
				}
				for _, c := range rt.Changes {
					fmt.Fprintf(&b, "        %s\n", c)
				}
			}
		}
		writeSecurityText(&b, g.Security, paint)
		writeTrafficText(&b, g.Traffic)
		writePatchesText(&b, g.Patches, paint)
		if len(g.Resources) > 0 {
			b.WriteString("  Envoy resources (applied live over xDS):\n")
			for _, rd := range g.Resources {
				fmt.Fprintf(&b, "    %s %s %s\n", paint(rd.Status, marks[rd.Status]), rd.Type, rd.Name)
				for _, by := range rd.PatchedBy {
					fmt.Fprintf(&b, "        patched by %s\n", by)
				}
				for _, f := range rd.Fields {
					fmt.Fprintf(&b, "        %s: %s → %s%s\n", f.Path, orNone(f.Old), orNone(f.New), patchedMark(f))
				}
			}
		}
		if len(g.Restart) > 0 {
			b.WriteString("  Bootstrap (needs an Envoy restart):\n")
			for _, f := range g.Restart {
				fmt.Fprintf(&b, "        %s: %s → %s\n", f.Path, orNone(f.Old), orNone(f.New))
			}
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

func routeLabel(r RouteDiff) string {
	if r.Name != "" {
		return r.Name + "  " + r.Match
	}
	return r.Match
}

func teamNote(t string) string {
	if t == "" {
		return ""
	}
	return ", team " + t
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// WriteMarkdown renders the report as a pull-request comment: the summary
// a reviewer reads first, the resource-level detail folded away.
func WriteMarkdown(w io.Writer, r *Report, l Labels) error {
	var b strings.Builder
	b.WriteString("### edgectl diff\n\n")
	fmt.Fprintf(&b, "`%s` → `%s`\n\n", l.Base, l.Head)
	if r.Empty() {
		b.WriteString("No changes to Envoy configuration.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "**%s**\n", r.Summary())
	for _, g := range r.Gateways {
		fmt.Fprintf(&b, "\n#### %s gateway `%s`\n\n", marks[g.Status], g.Name)
		if len(g.Hosts) > 0 {
			b.WriteString("| | host | route | change |\n|---|---|---|---|\n")
			for _, h := range g.Hosts {
				hosts := "`" + strings.Join(h.Hostnames, "`, `") + "`"
				for _, c := range h.Changes {
					fmt.Fprintf(&b, "| %s | %s | | %s |\n", marks[h.Status], hosts, md(c))
				}
				for _, rt := range h.Routes {
					change := rt.Action
					if rt.Status == Changed {
						change = strings.Join(rt.Changes, "<br>")
					}
					fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", marks[rt.Status], hosts, md(routeLabel(rt)), md(change))
				}
				if len(h.Changes) == 0 && len(h.Routes) == 0 {
					fmt.Fprintf(&b, "| %s | %s | | |\n", marks[h.Status], hosts)
				}
			}
			b.WriteByte('\n')
		}
		writeSecurityMarkdown(&b, g.Security)
		writeTrafficMarkdown(&b, g.Traffic)
		writePatchesMarkdown(&b, g.Patches)
		if len(g.Restart) > 0 {
			b.WriteString("> [!WARNING]\n> The bootstrap changes: Envoy needs a restart to apply these.\n>\n")
			for _, f := range g.Restart {
				fmt.Fprintf(&b, "> - `%s`: `%s` → `%s`\n", f.Path, orNone(f.Old), orNone(f.New))
			}
			b.WriteByte('\n')
		}
		if len(g.Resources) > 0 {
			noun := "Envoy resources"
			if len(g.Resources) == 1 {
				noun = "Envoy resource"
			}
			fmt.Fprintf(&b, "<details><summary>%d changed %s, applied live over xDS</summary>\n\n", len(g.Resources), noun)
			for _, rd := range g.Resources {
				fmt.Fprintf(&b, "- %s %s `%s`\n", marks[rd.Status], rd.Type, rd.Name)
				for _, by := range rd.PatchedBy {
					fmt.Fprintf(&b, "  - patched by %s\n", by)
				}
				for _, f := range rd.Fields {
					fmt.Fprintf(&b, "  - `%s`: `%s` → `%s`%s\n", f.Path, orNone(f.Old), orNone(f.New), patchedMark(f))
				}
			}
			b.WriteString("\n</details>\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// patchedMark follows a field an EnvoyPatch sets.
func patchedMark(f FieldChange) string {
	if f.Patched {
		return " (patched)"
	}
	return ""
}

// md escapes what would break a table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", "<br>").Replace(s)
}

// shownChanges bounds the traffic changes a text or Markdown rendering
// lists; the JSON form has them all.
const shownChanges = 20

// shownSecurity bounds the security changes a text or Markdown rendering
// lists; loosening changes come first, so they are the ones shown. The
// JSON form has them all.
const shownSecurity = 50

func writeSecurityText(b *strings.Builder, cs []SecurityChange, paint func(status, s string) string) {
	if len(cs) == 0 {
		return
	}
	b.WriteString("  Security (loosening changes first):\n")
	for i, c := range cs {
		if i == shownSecurity {
			fmt.Fprintf(b, "    … and %d more (-o json lists them all)\n", len(cs)-shownSecurity)
			break
		}
		mark := paint(Added, "tightens")
		if c.Loosening {
			mark = paint(Removed, "loosens ")
		}
		fmt.Fprintf(b, "    %s  %s: %s\n", mark, c.Where, c.Change)
	}
}

func writeSecurityMarkdown(b *strings.Builder, cs []SecurityChange) {
	if len(cs) == 0 {
		return
	}
	loosening := 0
	for _, c := range cs {
		if c.Loosening {
			loosening++
		}
	}
	if loosening > 0 {
		fmt.Fprintf(b, "> [!CAUTION]\n> %d security %s loosen the protection of requests.\n\n", loosening, plural(loosening, "change would", "changes would"))
	}
	b.WriteString("| security | where | change |\n|---|---|---|\n")
	for i, c := range cs {
		if i == shownSecurity {
			fmt.Fprintf(b, "\n… and %d more.\n", len(cs)-shownSecurity)
			break
		}
		kind := "tightens"
		if c.Loosening {
			kind = "**loosens**"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", kind, md(c.Where), md(c.Change))
	}
	b.WriteByte('\n')
}

func writeTrafficText(b *strings.Builder, t *Traffic) {
	if t == nil || len(t.Changes) == 0 {
		return
	}
	fmt.Fprintf(b, "  Traffic: %d of %d %s change:\n", len(t.Changes), t.Requests, plural(t.Requests, "request", "requests"))
	for i, c := range t.Changes {
		if i == shownChanges {
			fmt.Fprintf(b, "    … and %d more (-o json lists them all)\n", len(t.Changes)-shownChanges)
			break
		}
		fmt.Fprintf(b, "    %s  (%s)\n        %s → %s\n", c.Request, c.From, c.Base, c.Head)
	}
}

func writeTrafficMarkdown(b *strings.Builder, t *Traffic) {
	if t == nil || len(t.Changes) == 0 {
		return
	}
	fmt.Fprintf(b, "%d of %d %s change:\n\n| request | from | before | after |\n|---|---|---|---|\n", len(t.Changes), t.Requests, plural(t.Requests, "request", "requests"))
	for i, c := range t.Changes {
		if i == shownChanges {
			fmt.Fprintf(b, "\n… and %d more.\n", len(t.Changes)-shownChanges)
			break
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", md(c.Request), md(c.From), md(c.Base), md(c.Head))
	}
	b.WriteByte('\n')
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
