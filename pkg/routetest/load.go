// Package routetest runs a repository's route tests: requests written in
// YAML, each with what Envoy must do with it, routed through the compiled
// gateway's xDS resources by the simulator, and the coverage of the
// repository's routes they reach.
package routetest

import (
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/intent"
	"github.com/edgectl/edgectl/pkg/source"
)

// File is one document of kind RouteTest: the tests of one file, or of
// one document when a file holds several.
type File struct {
	// Path is the file, relative to the project directory.
	Path string
	// Name is the document's metadata.name.
	Name string
	// Team owns the file by the paths in edgectl.yaml ("" without teams).
	Team string
	// Gateway is the gateway the document names ("" for the only one).
	Gateway string
	Tests   []*Test

	doc     *intent.Doc
	claimed string // spec.team
}

// Test is one request and what Envoy must do with it.
type Test struct {
	Name string
	// Pos is the position of the test's name.
	Pos     diag.Pos
	Request Request
	Expect  Expect

	index int // in spec.tests, for positions
	// problems keep the test from running as written.
	problems diag.List
}

// Request is a test's request as written.
type Request struct {
	URL           string            `yaml:"url" json:"url"`
	Method        string            `yaml:"method" json:"method,omitempty"`
	Headers       map[string]string `yaml:"headers" json:"headers,omitempty"`
	ClientAddress string            `yaml:"clientAddress" json:"clientAddress,omitempty"`
}

// Expect is what Envoy must do with a test's request; every field set must
// hold, and unset fields are not checked.
type Expect struct {
	NoRoute         *bool              `yaml:"noRoute" json:"noRoute,omitempty"`
	VirtualHost     string             `yaml:"virtualHost" json:"virtualHost,omitempty"`
	Route           string             `yaml:"route" json:"route,omitempty"`
	Backend         string             `yaml:"backend" json:"backend,omitempty"`
	Weights         map[string]float64 `yaml:"weights" json:"weights,omitempty"`
	Redirect        *ExpectRedirect    `yaml:"redirect" json:"redirect,omitempty"`
	Respond         *ExpectRespond     `yaml:"respond" json:"respond,omitempty"`
	Path            string             `yaml:"path" json:"path,omitempty"`
	Host            string             `yaml:"host" json:"host,omitempty"`
	RequestHeaders  map[string]*string `yaml:"requestHeaders" json:"requestHeaders,omitempty"`
	ResponseHeaders map[string]*string `yaml:"responseHeaders" json:"responseHeaders,omitempty"`
}

// ExpectRedirect is an expected redirect: its full location, its code, or
// both.
type ExpectRedirect struct {
	Location string `yaml:"location" json:"location,omitempty"`
	Code     int    `yaml:"code" json:"code,omitempty"`
}

// ExpectRespond is an expected direct response.
type ExpectRespond struct {
	Status int     `yaml:"status" json:"status,omitempty"`
	Body   *string `yaml:"body" json:"body,omitempty"`
}

// spec is the spec of a RouteTest document.
type spec struct {
	Gateway string `yaml:"gateway"`
	Team    string `yaml:"team"`
	Tests   []struct {
		Name    string  `yaml:"name"`
		Request Request `yaml:"request"`
		Expect  Expect  `yaml:"expect"`
	} `yaml:"tests"`
}

// Suite is the route tests of a repository, as read.
type Suite struct {
	// Files lists the RouteTest documents, by path and position.
	Files []*File
	// Problems are the findings about the files themselves, sorted: YAML,
	// schema, ownership, duplicate names. Run reports them with its own,
	// and with those about single tests (such as a URL that does not
	// parse), which keep those tests from running.
	Problems diag.List
}

// Load reads every route test file of a repository: the files of fsys
// (rooted at the directory of edgectl.yaml) that the globs under tests in
// edgectl.yaml match. Problems in the files are the suite's findings; the
// error is for failures to read.
//
// A directory of Gateway API manifests has no edgectl.yaml to list its
// tests (proj has no Doc): there, every YAML file that holds a document
// of kind RouteTest is a test file, wherever it lies.
func Load(fsys fs.FS, proj *intent.Project) (*Suite, error) {
	suite := &Suite{}
	if proj == nil {
		return suite, nil
	}
	discover := proj.Doc == nil && len(proj.Spec.Tests) == 0
	if !discover && len(proj.Spec.Tests) == 0 {
		return suite, nil
	}
	patterns := proj.Spec.Tests
	for _, p := range patterns {
		if glob.Valid(p) != nil {
			return suite, nil // reported by the loader of the intents
		}
	}
	var paths []string
	err := source.WalkManifests(fsys, func(p string, d fs.DirEntry) error {
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 || p == intent.ProjectFile {
			return nil
		}
		switch {
		case !discover:
			if glob.Any(patterns, p) >= 0 {
				paths = append(paths, p)
			}
		case path.Ext(p) == ".yaml" || path.Ext(p) == ".yml":
			if data, err := fs.ReadFile(fsys, p); err == nil && routeTestKind.Match(data) {
				paths = append(paths, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk repository: %w", err)
	}
	slices.Sort(paths)

	var diags diag.List
	own := owners{proj: proj}
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			if d, ok := intent.SymlinkProblem(fsys, p, err); ok {
				diags.Add(d)
				continue
			}
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		docs, pd, err := intent.ParseTests(p, data)
		if err != nil {
			return nil, err
		}
		diags = append(diags, pd...)
		team, od := own.file(p, docs)
		diags = append(diags, od...)
		for _, doc := range docs {
			f, fd := decode(doc, team)
			diags = append(diags, fd...)
			diags = append(diags, own.claim(f)...)
			suite.Files = append(suite.Files, f)
		}
	}
	suite.Problems = diags.Sorted()
	return suite, nil
}

// routeTestKind finds a document of kind RouteTest in a file.
var routeTestKind = regexp.MustCompile(`(?m)^kind:[ \t]*["']?RouteTest["']?[ \t]*(#.*)?\r?$`)

// decode reads a RouteTest document that passed its schema, and checks
// what the schema cannot: test names unique, URLs and addresses that
// parse.
func decode(doc *intent.Doc, team string) (*File, diag.List) {
	f := &File{Path: doc.File, Name: doc.Name, Team: team, doc: doc}
	var diags diag.List
	var d struct {
		Spec spec `yaml:"spec"`
	}
	if err := doc.Syntax().Decode(&d); err != nil {
		// The schema admitted what the types cannot hold: a bug, reported
		// at the document so the user is not stuck.
		diags.Errorf(doc.Pos(), "schema", "internal error decoding %s: %v", doc.ID(), err)
		return f, diags
	}
	s := d.Spec
	f.Gateway, f.claimed = s.Gateway, s.Team
	seen := map[string]int{}
	for i, tc := range s.Tests {
		t := &Test{Name: tc.Name, Pos: doc.Pos("spec", "tests", i, "name"), Request: tc.Request, Expect: tc.Expect, index: i}
		if prev, dup := seen[t.Name]; dup {
			diags.Errorf(t.Pos, "duplicate-name", "test %q is declared twice in this document", t.Name).
				Note(doc.Pos("spec", "tests", prev, "name"), "first declared here")
		}
		seen[t.Name] = i
		if a := t.Request.ClientAddress; a != "" {
			if _, err := netip.ParseAddr(a); err != nil {
				t.problems.Errorf(f.pos(t, "request", "clientAddress"), "invalid-value", "request.clientAddress: %q is not an IP address", a)
			}
		}
		f.Tests = append(f.Tests, t)
	}
	return f, diags
}

// pos returns the position of a field of a test.
func (f *File) pos(t *Test, path ...any) diag.Pos {
	return f.doc.Pos(append([]any{"spec", "tests", t.index}, path...)...)
}

// owners decides which team owns a test file, as edgectl.yaml's paths
// decide it for intents: a team writes tests only under its own paths,
// though its tests may send requests to any host.
type owners struct {
	proj *intent.Project
}

func (o owners) teams() []intent.Team { return o.proj.Spec.Teams }

// file returns the team that owns a file, and reports a file that no team
// or more than one team owns.
func (o owners) file(p string, docs []*intent.Doc) (string, diag.List) {
	if len(o.teams()) == 0 || len(docs) == 0 {
		return "", nil
	}
	var diags diag.List
	var idx []int
	for t, team := range o.teams() {
		if glob.Any(team.Paths, p) >= 0 {
			idx = append(idx, t)
		}
	}
	proj := o.proj.Doc
	switch len(idx) {
	case 1:
		return o.teams()[idx[0]].Name, nil
	case 0:
		diags.Errorf(docs[0].Pos(), "ownership", "route test file %s belongs to no team; put it under the paths of the team that writes it", p).
			Note(proj.KeyPos("spec", "teams"), "the teams and their paths")
	default:
		names := make([]string, len(idx))
		for i, t := range idx {
			names[i] = o.teams()[t].Name
		}
		e := diags.Errorf(docs[0].Pos(), "ownership", "route test file %s belongs to %d teams (%s); a file must have one owner", p, len(idx), strings.Join(names, ", "))
		for _, t := range idx {
			e.Note(proj.Pos("spec", "teams", t, "paths", glob.Any(o.teams()[t].Paths, p)), "team %q claims it here", o.teams()[t].Name)
		}
	}
	return "", diags
}

// claim checks the team a document says writes it against the owner of
// its file.
func (o owners) claim(f *File) diag.List {
	claimed := f.claimed
	if claimed == "" {
		return nil
	}
	var diags diag.List
	at := f.doc.Pos("spec", "team")
	t := slices.IndexFunc(o.teams(), func(t intent.Team) bool { return t.Name == claimed })
	switch {
	case t < 0:
		names := make([]string, len(o.teams()))
		for i, team := range o.teams() {
			names[i] = team.Name
		}
		msg := fmt.Sprintf("unknown team %q", claimed)
		if len(names) == 0 {
			msg += "; edgectl.yaml declares no teams"
		} else if sug := diag.Suggest(claimed, names); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		diags.Errorf(at, "unknown-reference", "%s", msg)
	case f.Team != "" && f.Team != claimed:
		owner := slices.IndexFunc(o.teams(), func(t intent.Team) bool { return t.Name == f.Team })
		diags.Errorf(at, "ownership", "team %q may write route tests only under its own paths; %s lies under the paths of team %q", claimed, f.Path, f.Team).
			Note(o.proj.Doc.Pos("spec", "teams", owner, "paths", glob.Any(o.teams()[owner].Paths, f.Path)), "team %q claims it here", f.Team).
			Note(o.proj.Doc.KeyPos("spec", "teams", t, "paths"), "the paths of team %q", claimed)
	}
	return diags
}
