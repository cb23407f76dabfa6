package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/edgectl/edgectl/pkg/diag"
)

var tool = diag.Tool{Name: "edgectl", URI: "https://github.com/edgectl/edgectl"}

// printFindings writes the errors and warnings of l in text to w (stderr)
// and counts its notes in one line. Notes (acknowledged warnings, hints) are
// read in full where a repository is reviewed, by validate; compile, diff,
// push and render repeating them buried what matters. -o json and the other
// machine formats always carry every finding.
func printFindings(w io.Writer, l diag.List) {
	shown, notes := withoutNotes(l)
	printDiagnostics(w, shown)
	if notes > 0 {
		fmt.Fprintln(w, notesLine(notes))
	}
}

func withoutNotes(l diag.List) (diag.List, int) {
	shown := slices.DeleteFunc(slices.Clone(l), func(d diag.Diagnostic) bool { return d.Severity == diag.Note })
	return shown, len(l) - len(shown)
}

func notesLine(n int) string {
	return fmt.Sprintf("%s not shown (acknowledged warnings and hints): edgectl validate lists them", count(n, "note"))
}

// printDiagnostics writes findings in text to w (stderr), in colour when w
// is a terminal and colour is not switched off.
func printDiagnostics(w io.Writer, l diag.List) {
	if len(l) == 0 {
		return
	}
	var b strings.Builder
	_ = diag.Write(&b, l, "text", tool)
	text := b.String()
	if useColor(w) {
		r := strings.NewReplacer(": error: ", ": \x1b[1;31merror:\x1b[0m ", ": warning: ", ": \x1b[1;33mwarning:\x1b[0m ", ": note: ", ": \x1b[1;36mnote:\x1b[0m ")
		text = r.Replace(text)
	}
	fmt.Fprint(w, text)
}

func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// rejected is the error for input with error findings: the findings are
// already printed, so only the exit code remains.
func rejected(l diag.List) error {
	return &exitError{code: exitRejected, err: fmt.Errorf("input rejected: %s", diag.Summary(l))}
}
