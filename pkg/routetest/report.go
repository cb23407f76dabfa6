package routetest

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Pos is a position that encodes in JSON as "file:line:col".
type Pos struct{ diag.Pos }

func (p Pos) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// Report is the outcome of a run.
type Report struct {
	// Files lists the documents in the order of the suite; with
	// Options.Run, only those with a test that ran.
	Files []*FileResult `json:"files"`
	// Problems are the findings not about one test: YAML, schema and
	// ownership of the files, and gateways they name that do not exist.
	Problems diag.List `json:"-"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	NotRun   int       `json:"notRun"`
	Coverage *Coverage `json:"coverage"`
}

// FileResult is the outcome of the tests of one RouteTest document.
type FileResult struct {
	Path    string        `json:"path"`
	Name    string        `json:"name"`
	Team    string        `json:"team,omitempty"`
	Gateway string        `json:"gateway,omitempty"`
	Tests   []*TestResult `json:"tests"`
}

// TestResult is the outcome of one test.
type TestResult struct {
	Name   string `json:"name"`
	Pos    Pos    `json:"at"`
	Status Status `json:"status"`
	// Outcome says what Envoy does with the request.
	Outcome string `json:"outcome,omitempty"`
	// Route is the route that took the request (nil when none did).
	Route    *RouteRef `json:"route,omitempty"`
	Failures []Failure `json:"failures,omitempty"`
	// Problems kept the test from running (Status Error).
	Problems diag.List `json:"-"`
}

// Failure is one expectation that did not hold.
type Failure struct {
	// Field is the expectation, as written: backend, redirect.code,
	// requestHeaders.x-debug.
	Field string `json:"field"`
	Want  string `json:"want"`
	Got   string `json:"got"`
	// Diagnostic reports it at the expectation, with the route that
	// matched as a note.
	Diagnostic diag.Diagnostic `json:"-"`
}

// RouteRef names a route of a compiled gateway and where it is defined.
type RouteRef struct {
	Gateway     string `json:"gateway"`
	Listener    string `json:"listener"`
	VirtualHost string `json:"virtualHost"`
	Name        string `json:"name,omitempty"`
	Team        string `json:"team,omitempty"`
	Origin      Pos    `json:"origin"`
	// Generated: the redirect to HTTPS edgectl adds to the plain HTTP
	// listener for a virtual host with TLS; Origin is the virtual host's
	// tls.
	Generated bool `json:"generated,omitempty"`
}

func (r *RouteRef) describe() string {
	switch {
	case r.Generated:
		return fmt.Sprintf("the redirect to HTTPS edgectl adds to virtual host %s", r.VirtualHost)
	case r.Name == "":
		return fmt.Sprintf("the unnamed route of virtual host %s at %s", r.VirtualHost, r.Origin)
	}
	return fmt.Sprintf("route %q of virtual host %s", r.Name, r.VirtualHost)
}

// Diagnostics returns every finding of the run, sorted: the problems of
// the files and tests, and each failed expectation.
func (r *Report) Diagnostics() diag.List {
	l := slices.Clone(r.Problems)
	for _, f := range r.Files {
		for _, t := range f.Tests {
			l = append(l, t.Problems...)
			for _, fl := range t.Failures {
				l = append(l, fl.Diagnostic)
			}
		}
	}
	return l.Sorted()
}

// WithPrefix puts dir before every path of the report, for paths relative
// to the root of a git repository rather than to the project directory.
func (r *Report) WithPrefix(dir string) {
	if dir == "" || dir == "." {
		return
	}
	fix := func(p *Pos) {
		if p.File != "" {
			p.File = dir + "/" + p.File
		}
	}
	r.Problems = r.Problems.WithPrefix(dir)
	for _, f := range r.Files {
		f.Path = dir + "/" + f.Path
		for _, t := range f.Tests {
			fix(&t.Pos)
			if t.Route != nil {
				fix(&t.Route.Origin)
			}
			t.Problems = t.Problems.WithPrefix(dir)
			for i := range t.Failures {
				t.Failures[i].Diagnostic = diag.List{t.Failures[i].Diagnostic}.WithPrefix(dir)[0]
			}
		}
	}
	if c := r.Coverage; c != nil {
		for _, tc := range c.Teams {
			for i := range tc.Unreached {
				fix(&tc.Unreached[i].Origin)
			}
		}
	}
}
