package routetest

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
)

// JUnit XML, the form CI dashboards read: one testsuite per test file, one
// testcase per test. No times are written: a report is the same for the
// same repository.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// FileProblems is the name of the testcase that carries the problems of a
// test file itself (YAML, schema, ownership) rather than of one test.
const FileProblems = "(file)"

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	suites := map[string]*junitSuite{}
	suite := func(path string) *junitSuite {
		s := suites[path]
		if s == nil {
			s = &junitSuite{Name: path}
			suites[path] = s
		}
		return s
	}
	byFile := map[string]diag.List{}
	for _, d := range r.Problems {
		byFile[d.Pos.File] = append(byFile[d.Pos.File], d)
	}
	for _, path := range sortedKeys(byFile) {
		l := byFile[path]
		name := path
		if name == "" {
			name = "edgectl test"
		}
		s := suite(name)
		s.Errors++
		s.Cases = append(s.Cases, junitCase{Name: FileProblems, Classname: name, File: path,
			Error: &junitProblem{Message: firstLine(l), Type: l[0].Rule, Text: text(l)}})
	}
	for _, f := range r.Files {
		s := suite(f.Path)
		for _, t := range f.Tests {
			c := junitCase{Name: t.Name, Classname: f.Path, File: t.Pos.File, Line: t.Pos.Line}
			switch t.Status {
			case Fail:
				s.Failures++
				var l diag.List
				msgs := make([]string, len(t.Failures))
				for i, fl := range t.Failures {
					l = append(l, fl.Diagnostic)
					msgs[i] = fmt.Sprintf("%s: want %s, got %s", fl.Field, fl.Want, fl.Got)
				}
				c.Failure = &junitProblem{Message: strings.Join(msgs, "; "), Type: Rule, Text: text(l)}
			case Error:
				s.Errors++
				rule := ""
				if len(t.Problems) > 0 {
					rule = t.Problems[0].Rule
				}
				c.Error = &junitProblem{Message: t.Outcome, Type: rule, Text: text(t.Problems)}
			}
			s.Cases = append(s.Cases, c)
		}
	}
	out := junitSuites{Name: "edgectl test"}
	names := sortedKeys(suites)
	for _, name := range names {
		s := suites[name]
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(l diag.List) string {
	if len(l) == 0 {
		return ""
	}
	return l[0].Message
}

// text is the findings as edgectl prints them, notes included.
func text(l diag.List) string {
	if len(l) == 0 {
		return ""
	}
	var b strings.Builder
	_ = diag.Write(&b, slices.Clone(l).Sorted(), "text", diag.Tool{})
	return b.String()
}
