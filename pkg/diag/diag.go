// Package diag holds the findings edgectl reports about a user's repository.
//
// A finding is positioned at path:line:col relative to the repository root,
// carries a stable rule id, and may point at related positions. Lists are
// sorted and de-duplicated before anyone sees them, so output never depends
// on the order in which files were read or checks ran.
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Severity orders findings: errors reject the input, warnings do not.
type Severity int

const (
	Error Severity = iota
	Warning
	Note
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "note"
	}
}

// ParseSeverity reads the name printed by String.
func ParseSeverity(s string) (Severity, bool) {
	switch s {
	case "error":
		return Error, true
	case "warning":
		return Warning, true
	case "note":
		return Note, true
	}
	return 0, false
}

// Pos is a position in a file of the repository. Line and Col are 1-based;
// zero means unknown and is never printed.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	return s
}

func comparePos(a, b Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

// Related is a second position that explains a finding, printed as a note.
type Related struct {
	Pos     Pos
	Message string
}

// Diagnostic is one finding.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
	Rule     string
	Related  []Related
}

func (d Diagnostic) String() string {
	s := d.Severity.String() + ": " + d.Message
	if d.Rule != "" {
		s += " [" + d.Rule + "]"
	}
	if p := d.Pos.String(); p != "" {
		s = p + ": " + s
	}
	return s
}

func compare(a, b Diagnostic) int {
	if c := comparePos(a.Pos, b.Pos); c != 0 {
		return c
	}
	if c := cmp.Or(cmp.Compare(a.Severity, b.Severity), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message)); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Related, b.Related, func(x, y Related) int {
		return cmp.Or(comparePos(x.Pos, y.Pos), cmp.Compare(x.Message, y.Message))
	})
}

// List collects findings. The zero value is ready to use.
type List []Diagnostic

// Add appends one finding.
func (l *List) Add(d Diagnostic) { *l = append(*l, d) }

// Errorf adds an error at pos.
func (l *List) Errorf(pos Pos, rule, format string, args ...any) *Diagnostic {
	return l.add(pos, Error, rule, format, args)
}

// Warnf adds a warning at pos.
func (l *List) Warnf(pos Pos, rule, format string, args ...any) *Diagnostic {
	return l.add(pos, Warning, rule, format, args)
}

func (l *List) add(pos Pos, sev Severity, rule, format string, args []any) *Diagnostic {
	*l = append(*l, Diagnostic{Pos: pos, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...)})
	return &(*l)[len(*l)-1]
}

// Note attaches a related position to a finding returned by Errorf or Warnf.
func (d *Diagnostic) Note(pos Pos, format string, args ...any) *Diagnostic {
	d.Related = append(d.Related, Related{Pos: pos, Message: fmt.Sprintf(format, args...)})
	return d
}

// Sorted returns the findings sorted by position, severity and rule, with
// exact duplicates removed. The receiver is not modified.
func (l List) Sorted() List {
	out := slices.Clone(l)
	for i := range out {
		out[i].Related = slices.Clone(out[i].Related)
	}
	slices.SortStableFunc(out, compare)
	return slices.CompactFunc(out, func(a, b Diagnostic) bool { return compare(a, b) == 0 })
}

// Count returns how many findings have the given severity.
func (l List) Count(s Severity) int {
	n := 0
	for _, d := range l {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// HasErrors reports whether any finding is an error.
func (l List) HasErrors() bool { return l.Count(Error) > 0 }

// AtLeast reports whether any finding is at least as severe as s.
func (l List) AtLeast(s Severity) bool {
	for _, d := range l {
		if d.Severity <= s {
			return true
		}
	}
	return false
}

// WithPrefix returns the list with every file path prefixed by dir, for
// printing paths relative to the root of a git repository rather than to
// the directory holding edgectl.yaml.
func (l List) WithPrefix(dir string) List {
	if dir == "" || dir == "." {
		return l
	}
	fix := func(p Pos) Pos {
		if p.File != "" && !isExternal(p.File) {
			p.File = dir + "/" + p.File
		}
		return p
	}
	out := make(List, len(l))
	for i, d := range l {
		d.Pos = fix(d.Pos)
		d.Related = slices.Clone(d.Related)
		for j := range d.Related {
			d.Related[j].Pos = fix(d.Related[j].Pos)
		}
		out[i] = d
	}
	return out
}

// SchemaFile is the file name of positions in edgectl's own embedded schema
// (printed by `edgectl schema`). They are not in the user's repository and are
// never prefixed.
const SchemaFile = "(edgectl schema)"

func isExternal(file string) bool { return file == SchemaFile }
