package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists the names accepted by Write.
var Formats = []string{"text", "json", "github", "sarif"}

// Tool names the program in machine-readable reports.
type Tool struct {
	Name    string
	Version string
	URI     string
}

// Write prints the list in one of Formats. The list should already be sorted.
func Write(w io.Writer, l List, format string, tool Tool) error {
	switch format {
	case "text":
		return writeText(w, l)
	case "json":
		return writeJSON(w, l)
	case "github":
		return writeGitHub(w, l)
	case "sarif":
		return writeSARIF(w, l, tool)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func writeText(w io.Writer, l List) error {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
		for _, r := range d.Related {
			if p := r.Pos.String(); p != "" {
				b.WriteString(p + ": ")
			}
			b.WriteString("note: " + r.Message + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the one-line count printed after a list.
func Summary(l List) string {
	e, w := l.Count(Error), l.Count(Warning)
	return fmt.Sprintf("%d %s, %d %s", e, plural(e, "error"), w, plural(w, "warning"))
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

type jsonPos struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

type jsonRelated struct {
	jsonPos
	Message string `json:"message"`
}

type jsonDiag struct {
	jsonPos
	Severity string        `json:"severity"`
	Rule     string        `json:"rule,omitempty"`
	Message  string        `json:"message"`
	Related  []jsonRelated `json:"related,omitempty"`
}

// JSONReport is the stable JSON form of a list, also embedded in other reports.
type JSONReport struct {
	Diagnostics []jsonDiag `json:"diagnostics"`
	Errors      int        `json:"errors"`
	Warnings    int        `json:"warnings"`
}

// Report converts a list to its JSON form.
func Report(l List) JSONReport {
	r := JSONReport{Diagnostics: []jsonDiag{}, Errors: l.Count(Error), Warnings: l.Count(Warning)}
	for _, d := range l {
		jd := jsonDiag{jsonPos: jpos(d.Pos), Severity: d.Severity.String(), Rule: d.Rule, Message: d.Message}
		for _, rel := range d.Related {
			jd.Related = append(jd.Related, jsonRelated{jsonPos: jpos(rel.Pos), Message: rel.Message})
		}
		r.Diagnostics = append(r.Diagnostics, jd)
	}
	return r
}

func jpos(p Pos) jsonPos { return jsonPos{File: p.File, Line: p.Line, Column: p.Col} }

func writeJSON(w io.Writer, l List) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Report(l))
}

// writeGitHub prints workflow commands, which GitHub turns into annotations on
// the pull request. GitHub shows only the first ten of each level, so the full
// list follows as plain text, then the summary.
func writeGitHub(w io.Writer, l List) error {
	var b strings.Builder
	for _, d := range l {
		level := map[Severity]string{Error: "error", Warning: "warning", Note: "notice"}[d.Severity]
		var props []string
		if d.Pos.File != "" && d.Pos.File != SchemaFile {
			props = append(props, "file="+ghProp(d.Pos.File))
			if d.Pos.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
				if d.Pos.Col > 0 {
					props = append(props, fmt.Sprintf("col=%d", d.Pos.Col))
				}
			}
		}
		title := "edgectl"
		if d.Rule != "" {
			title += " " + d.Rule
		}
		props = append(props, "title="+ghProp(title))
		msg := d.Message
		for _, r := range d.Related {
			msg += "\n" + strings.TrimPrefix(r.Pos.String()+": ", ": ") + r.Message
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := writeText(w, l); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summary(l))
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
