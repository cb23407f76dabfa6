package intent

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/internal/par"
	"github.com/edgectl/edgectl/pkg/credscan"
	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/glob"
	"github.com/edgectl/edgectl/pkg/privkey"
	"github.com/edgectl/edgectl/pkg/schema"
	"github.com/edgectl/edgectl/pkg/source"
	"github.com/edgectl/edgectl/schemas"
)

// Model is every document of a repository, decoded.
type Model struct {
	Project      *Project
	Gateways     []*Gateway
	VirtualHosts []*VirtualHost
	Backends     []*Backend
	Certificates []*Certificate
	RouteSets    []*RouteSet

	AuthProviders     []*AuthProvider
	AuthServices      []*AuthService
	RateLimitServices []*RateLimitService

	// EnvoyPatches are the platform team's patches to generated resources.
	EnvoyPatches []*EnvoyPatch
	// Docs lists every document, ordered by file and index.
	Docs []*Doc
	// Files lists every file read, with its content, ordered by path.
	Files []File

	intents, exclude, tests []string
}

// IsInput reports whether a file at p would be read as intents (or is the
// project file), whether or not it exists.
func (m *Model) IsInput(p string) bool {
	return p == ProjectFile || !hidden(p) && glob.Any(m.intents, p) >= 0 && glob.Any(m.exclude, p) < 0 && glob.Any(m.tests, p) < 0
}

// File is one file of the repository that edgectl read.
type File struct {
	Path string
	Data []byte
}

// DefaultIntents are the globs used when edgectl.yaml names none.
var DefaultIntents = []string{"**/*.yaml", "**/*.yml"}

var compiledSchema = sync.OnceValues(func() (*schema.Schema, error) {
	return schema.Compile(diag.SchemaFile, schemas.Source)
})

// kinds maps each kind a repository may hold to its schema definition.
var kinds = map[string]string{
	"Gateway":     "#Gateway",
	"VirtualHost": "#VirtualHost",
	"Backend":     "#Backend",
	"Certificate": "#Certificate",
	"RouteSet":    "#RouteSet",

	"AuthProvider":     "#AuthProvider",
	"AuthService":      "#AuthService",
	"RateLimitService": "#RateLimitService",

	"EnvoyPatch": "#EnvoyPatch",
}

// KindNames lists the kinds of intent documents, sorted.
func KindNames() []string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// MinEnvoy is the oldest Envoy release edgectl targets. Bundles use
// file-based xDS with path_config_source and watched_directory, SNI filter
// chains and header append actions, all settled well before it.
const MinEnvoy = "1.28"

// olderThan compares "1.N" versions.
func olderThan(v, min string) bool {
	minor := func(s string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "1."))
		return n
	}
	return minor(v) < minor(min)
}

// Options tune Load. The zero value is ready to use.
type Options struct {
	// Workers parse files in parallel; zero means GOMAXPROCS.
	Workers int
}

// Load reads the project file and every intent file of fsys, which is rooted
// at the directory holding edgectl.yaml. User problems are returned as
// diagnostics; the error is for failures to read.
func Load(fsys fs.FS, opts Options) (*Model, diag.List, error) {
	sch, err := compiledSchema()
	if err != nil {
		return nil, nil, fmt.Errorf("compile schema: %w", err)
	}
	var diags diag.List
	m := &Model{}

	projectSrc, err := fs.ReadFile(fsys, ProjectFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", ProjectFile, err)
	}
	m.Files = append(m.Files, File{ProjectFile, projectSrc})
	diags = append(diags, scanPrivateKeys(ProjectFile, projectSrc)...)
	docs, pd := parseFile(sch, ProjectFile, projectSrc, projectFile)
	diags = append(diags, pd...)
	for _, d := range docs {
		if p, ok := d.(*Project); ok {
			m.Project = p
		}
	}
	if m.Project == nil {
		if !diags.HasErrors() {
			diags.Errorf(diag.Pos{File: ProjectFile}, "project", "%s must hold one document of kind Project", ProjectFile)
		}
		return m, diags, nil
	}

	if v := m.Project.Spec.EnvoyVersion; v != "" && olderThan(v, MinEnvoy) {
		diags.Errorf(m.Project.Doc.Pos("spec", "envoyVersion"), "project", "envoyVersion %s is older than Envoy %s, the oldest release edgectl's bundles are made for", v, MinEnvoy)
	}
	intents := m.Project.Spec.Intents
	if len(intents) == 0 {
		intents = DefaultIntents
	}
	check := func(patterns []string, path ...any) {
		for i, p := range patterns {
			if err := glob.Valid(p); err != nil {
				diags.Errorf(m.Project.Doc.Pos(append(path, i)...), "project", "%v", err)
			}
		}
	}
	check(m.Project.Spec.Intents, "spec", "intents")
	check(m.Project.Spec.Exclude, "spec", "exclude")
	check(m.Project.Spec.Tests, "spec", "tests")
	if p := m.Project.Spec.Policies; p != nil {
		check(p.Paths, "spec", "policies", "paths")
	}
	for i, a := range m.Project.Spec.Acknowledge {
		check(a.Files, "spec", "acknowledge", i, "files")
	}
	if diags.HasErrors() {
		return m, diags, nil
	}
	// Route tests are read by edgectl test, never as intents, even where
	// the intent globs cover them.
	skip := slices.Concat(m.Project.Spec.Exclude, m.Project.Spec.Tests)
	m.intents, m.exclude, m.tests = intents, m.Project.Spec.Exclude, m.Project.Spec.Tests

	var paths []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && d.Name() == ".git" {
				return fs.SkipDir
			}
			// edgectl's own output is never input.
			if _, err := fs.Stat(fsys, path.Join(p, source.OutputMarker)); err == nil {
				return fs.SkipDir
			}
			return nil
		}
		if (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) && p != ProjectFile {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walk repository: %w", err)
	}
	slices.Sort(paths)

	results := make([]fileResult, len(paths))
	par.Each(len(paths), opts.Workers, func(i int) { results[i] = loadFile(sch, fsys, paths[i], intents, skip) })

	for _, r := range results {
		if r.err != nil {
			return nil, nil, r.err
		}
		diags = append(diags, r.diags...)
		if r.data != nil {
			m.Files = append(m.Files, File{r.path, r.data})
		}
		for _, d := range r.docs {
			m.add(d)
		}
	}
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return m, diags, nil
}

// ReleaseSyntax lets the YAML syntax trees go. They are most of the memory a
// large repository takes; positions remain available by parsing a file
// again when one is asked for.
func (m *Model) ReleaseSyntax() {
	for _, d := range m.Docs {
		d.release()
	}
	if m.Project != nil {
		m.Project.Doc.release()
	}
}

func (m *Model) add(d any) {
	switch d := d.(type) {
	case *Gateway:
		m.Gateways = append(m.Gateways, d)
		m.Docs = append(m.Docs, d.Doc)
	case *VirtualHost:
		m.VirtualHosts = append(m.VirtualHosts, d)
		m.Docs = append(m.Docs, d.Doc)
	case *Backend:
		m.Backends = append(m.Backends, d)
		m.Docs = append(m.Docs, d.Doc)
	case *Certificate:
		m.Certificates = append(m.Certificates, d)
		m.Docs = append(m.Docs, d.Doc)
	case *RouteSet:
		m.RouteSets = append(m.RouteSets, d)
		m.Docs = append(m.Docs, d.Doc)
	case *AuthProvider:
		m.AuthProviders = append(m.AuthProviders, d)
		m.Docs = append(m.Docs, d.Doc)
	case *AuthService:
		m.AuthServices = append(m.AuthServices, d)
		m.Docs = append(m.Docs, d.Doc)
	case *RateLimitService:
		m.RateLimitServices = append(m.RateLimitServices, d)
		m.Docs = append(m.Docs, d.Doc)
	case *EnvoyPatch:
		m.EnvoyPatches = append(m.EnvoyPatches, d)
		m.Docs = append(m.Docs, d.Doc)
	}
}

type fileResult struct {
	path  string
	data  []byte // set for intent files
	docs  []any
	diags diag.List
	err   error
}

func loadFile(sch *schema.Schema, fsys fs.FS, p string, intents, exclude []string) fileResult {
	r := fileResult{path: p}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		if d, ok := SymlinkProblem(fsys, p, err); ok {
			r.diags.Add(d)
			return r
		}
		r.err = fmt.Errorf("read %s: %w", p, err)
		return r
	}
	r.diags = append(r.diags, scanPrivateKeys(p, data)...)
	if hidden(p) || glob.Any(intents, p) < 0 || glob.Any(exclude, p) >= 0 {
		return r
	}
	r.data = data
	docs, diags := parseFile(sch, p, data, intentFile)
	r.docs = docs
	r.diags = append(r.diags, diags...)
	return r
}

// hidden reports whether a path is inside a directory whose name starts
// with a dot, such as .github: tooling, never intents.
func hidden(p string) bool {
	dir, _ := path.Split(p)
	for _, seg := range strings.Split(dir, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// SymlinkProblem turns a failure to read a symlink into a finding: one
// that leads outside the repository or into a loop is refused, and one to
// a directory is not followed. Other failures are not findings.
func SymlinkProblem(fsys fs.FS, p string, err error) (diag.Diagnostic, bool) {
	if errors.Is(err, source.ErrOutside) {
		target, _ := fs.ReadLink(fsys, p)
		return diag.Diagnostic{Pos: diag.Pos{File: p}, Severity: diag.Error, Rule: "symlink",
			Message: fmt.Sprintf("%s is a symlink to %s, outside the repository; edgectl reads only what the repository holds", p, target)}, true
	}
	if errors.Is(err, source.ErrLoop) {
		target, _ := fs.ReadLink(fsys, p)
		return diag.Diagnostic{Pos: diag.Pos{File: p}, Severity: diag.Error, Rule: "symlink",
			Message: fmt.Sprintf("%s is a symlink to %s, which leads back to itself (a symlink loop)", p, target)}, true
	}
	if target, lerr := fs.ReadLink(fsys, p); lerr == nil && errors.Is(err, fs.ErrNotExist) {
		return diag.Diagnostic{Pos: diag.Pos{File: p}, Severity: diag.Error, Rule: "symlink",
			Message: fmt.Sprintf("%s is a symlink to %s, which does not exist", p, target)}, true
	}
	if fi, serr := fs.Stat(fsys, p); serr == nil && fi.IsDir() {
		return diag.Diagnostic{Pos: diag.Pos{File: p}, Severity: diag.Warning, Rule: "symlink",
			Message: fmt.Sprintf("%s is a symlink to a directory, which edgectl does not follow; link the files instead", p)}, true
	}
	return diag.Diagnostic{}, false
}

const privateKeyMessage = "private key material must not be in the repository; store it on the Envoy host or at an SDS server and reference it with a Certificate"

// material is a kind of secret or key material refused anywhere in the
// repository.
type material struct {
	rule    string
	index   func([]byte) int
	message string
}

var materials = []material{
	{"private-key", privkey.Index, privateKeyMessage},
	{"htpasswd-hash", credscan.HtpasswdIndex, "password hashes must not be in the repository; keep the htpasswd file on the Envoy host and reference it with security.basicAuth.usersFile"},
	{"jwks", credscan.JWKSIndex, "JSON Web Key sets must not be in the repository; reference the issuer's keys with an AuthProvider's jwks.remote, or a file on the Envoy host with jwks.file"},
}

// scanPrivateKeys refuses key and password material anywhere in the
// repository, in any file: private keys as PEM or base64 of PEM, htpasswd
// password hashes and JSON Web Key sets. Such material belongs on the
// Envoy host, at an SDS server or at its issuer, never in Git. The first
// of each kind in a file is reported; YAML values are also scanned once
// decoded (see scanValues).
func scanPrivateKeys(p string, data []byte) diag.List {
	var diags diag.List
	for _, m := range materials {
		if i := m.index(data); i >= 0 {
			diags.Errorf(newText(p, data).pos(i), m.rule, "%s", m.message)
		}
	}
	return diags
}

// scanValues finds material that only the decoded values of a document
// show: written with escapes ("\x2d----BEGIN"), folded across lines, or
// split by a line continuation. Material the raw scan of the file already
// found, inside the same value, is not reported twice.
func scanValues(t *text, root *yaml.Node) diag.List {
	// Most documents hold no material: one scan of all their values says
	// so. A zero byte between values ends a word or a base64 run as the
	// end of a value does, so whatever a value holds is found in them all;
	// a hit, or one that spans values, is placed by the scan of each.
	var all []byte
	var join func(n *yaml.Node)
	join = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			all = joinValue(all, n.Value)
		}
		for _, c := range n.Content {
			join(c)
		}
	}
	join(root)
	if !slices.ContainsFunc(materials, func(m material) bool { return m.index(all) >= 0 }) {
		return nil
	}
	var scalars []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			scalars = append(scalars, n)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	// Each value is converted once, not once for each material.
	values := make([][]byte, len(scalars))
	for i, n := range scalars {
		values[i] = []byte(n.Value)
	}
	var diags diag.List
	for _, m := range materials {
		raw, scanned := -1, false
		for i, n := range scalars {
			if m.index(values[i]) < 0 {
				continue
			}
			if !scanned {
				raw, scanned = m.index(t.data), true
			}
			pos := diag.Pos{File: t.file, Line: n.Line, Col: n.Column}
			if raw >= 0 {
				// Already reported when the raw hit lies inside this value:
				// after its start and before the next value's.
				rp := t.pos(raw)
				after := rp.Line > pos.Line || rp.Line == pos.Line && rp.Col >= pos.Col
				before := i+1 == len(scalars) || rp.Line < scalars[i+1].Line || rp.Line == scalars[i+1].Line && rp.Col < scalars[i+1].Column
				if after && before {
					continue
				}
			}
			diags.Errorf(pos, m.rule, "%s", m.message)
		}
	}
	return diags
}

// joinValue adds a value to the values scanValues scans at once.
func joinValue(all []byte, v string) []byte { return append(append(all, v...), 0) }

// fileKind says what a file may hold.
type fileKind int

const (
	intentFile  fileKind = iota // documents of the kinds in kinds
	projectFile                 // one Project
	testFile                    // RouteTest documents
)

// parseFile reads every document of one file.
func parseFile(sch *schema.Schema, p string, data []byte, fk fileKind) ([]any, diag.List) {
	return parse(sch, p, data, fk, len(data) >= largeFile)
}

// parse is parseFile, with the passes over a large file's documents run
// at once (large) or one after the other.
func parse(sch *schema.Schema, p string, data []byte, fk fileKind, large bool) ([]any, diag.List) {
	var diags diag.List
	var out []any
	t := newText(p, data)
	if d, ok := checkEncoding(t); ok {
		diags.Add(d)
		return nil, diags
	}
	dd, syntax := eachDocument(t, data, func(index int, n *yaml.Node) diag.List {
		// The tree is bounded now (checkNodes refused runaway aliases), and
		// the scan for keys, the schema and the decoding only read it: in a
		// large file they run at once.
		var keys diag.List
		var wg sync.WaitGroup
		if large {
			wg.Go(func() { keys = scanValues(t, n) })
		} else if keys = scanValues(t, n); len(keys) > 0 {
			return keys
		}
		doc := &Doc{File: p, Index: index, src: data, node: n}
		v, dd := decodeDoc(sch, doc, fk, large)
		wg.Wait()
		if len(keys) > 0 {
			return keys
		}
		if v != nil {
			out = append(out, v)
		}
		return dd
	})
	if syntax != nil {
		return nil, diag.List{*syntax}
	}
	diags = append(diags, dd...)
	return out, diags
}

// largeFile is the size from which a file's documents are checked and
// decoded on several goroutines at once.
const largeFile = 256 << 10

// decodeDoc checks a document's header and schema, then decodes it. With
// concurrent set, the decoding runs while the schema is checked, and is
// dropped if the schema refuses the document.
func decodeDoc(sch *schema.Schema, doc *Doc, fk fileKind, concurrent bool) (any, diag.List) {
	var diags diag.List
	if doc.node.Kind != yaml.MappingNode {
		diags.Errorf(doc.Pos(), "document", "a document must be a mapping with apiVersion and kind")
		return nil, diags
	}
	apiVersion := scalarField(doc.node, "apiVersion")
	kind := scalarField(doc.node, "kind")
	if fk == intentFile && apiVersion != nil && strings.HasPrefix(apiVersion.Value, GatewayAPIGroup+"/") {
		return nil, nil // read by the Gateway API dialect (pkg/gatewayapi)
	}
	switch {
	case apiVersion == nil && schema.Child(doc.node, "apiVersion") != nil:
		diags.Errorf(doc.Pos("apiVersion"), "document", "apiVersion must be a string: %s", APIVersion)
	case apiVersion == nil:
		diags.Errorf(doc.Pos(), "document", "missing apiVersion (want %q)", APIVersion)
	case apiVersion.Value != APIVersion:
		d := diags.Errorf(doc.Pos("apiVersion"), "document", "unsupported apiVersion %q (want %q)", apiVersion.Value, APIVersion)
		if !strings.HasPrefix(apiVersion.Value, "edgectl.dev/") {
			d.Message += "; if this file is not an edgectl intent, list it under exclude in " + ProjectFile
		}
	}
	if kind == nil && schema.Child(doc.node, "kind") != nil {
		diags.Errorf(doc.Pos("kind"), "document", "kind must be a string such as Backend (one of %s)", strings.Join(KindNames(), ", "))
	} else if kind == nil {
		diags.Errorf(doc.Pos(), "document", "missing kind (one of %s)", strings.Join(KindNames(), ", "))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	doc.Kind = kind.Value
	def, ok := kinds[doc.Kind]
	switch {
	case fk == projectFile && doc.Kind != "Project":
		diags.Errorf(doc.Pos("kind"), "project", "%s must hold kind Project, not %s", ProjectFile, doc.Kind)
		return nil, diags
	case fk == projectFile:
		def = "#Project"
	case fk == testFile && doc.Kind != TestKind:
		diags.Errorf(doc.Pos("kind"), "document", "a route test file holds only documents of kind %s, not %s; it is listed under tests in %s", TestKind, doc.Kind, ProjectFile)
		return nil, diags
	case fk == testFile:
		def = "#" + TestKind
	case doc.Kind == TestKind:
		diags.Errorf(doc.Pos("kind"), "document", "kind %s belongs in the files listed under tests in %s", TestKind, ProjectFile)
		return nil, diags
	case doc.Kind == "Project":
		diags.Errorf(doc.Pos("kind"), "document", "kind Project belongs only in %s at the repository root", ProjectFile)
		return nil, diags
	case !ok:
		msg := fmt.Sprintf("unknown kind %q", doc.Kind)
		if s := diag.Suggest(doc.Kind, KindNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += " (one of " + strings.Join(KindNames(), ", ") + ")"
		}
		diags.Errorf(doc.Pos("kind"), "document", "%s", msg)
		return nil, diags
	}
	if n := scalarField(schema.Child(doc.node, "metadata"), "name"); n != nil {
		doc.Name = n.Value
	}
	var typed any
	var typedErr error
	var wg sync.WaitGroup
	if concurrent {
		wg.Go(func() { typed, typedErr = decodeTyped(doc) })
	}
	violations := sch.Check(def, doc.node)
	wg.Wait()
	for _, v := range violations {
		msg := v.Message
		if v.Path != "" {
			msg = v.Path + ": " + msg
		}
		d := diags.Errorf(diag.Pos{File: doc.File, Line: v.Node.Line, Col: v.Node.Column}, "schema", "%s", msg)
		if v.SchemaLine > 0 {
			d.Note(diag.Pos{File: diag.SchemaFile, Line: v.SchemaLine, Col: v.SchemaCol}, "the %s schema constrains it here: line %d of what edgectl schema prints", doc.Kind, v.SchemaLine)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if !concurrent {
		typed, typedErr = decodeTyped(doc)
	}
	if typedErr != nil {
		// The schema admitted a document the types cannot hold: a bug in
		// edgectl, reported at the document so the user is not stuck.
		diags.Errorf(doc.Pos(), "schema", "internal error decoding %s: %v", doc.ID(), typedErr)
		return nil, diags
	}
	return typed, diags
}

func decodeTyped(doc *Doc) (any, error) {
	switch doc.Kind {
	case TestKind:
		// Decoded by its reader (pkg/routetest), which keeps the syntax
		// for positions.
		return doc, nil
	case "Project":
		v := &Project{Doc: doc}
		return v, doc.node.Decode(v)
	case "Gateway":
		v := &Gateway{Doc: doc}
		return v, doc.node.Decode(v)
	case "VirtualHost":
		v := &VirtualHost{Doc: doc}
		return v, doc.node.Decode(v)
	case "Backend":
		v := &Backend{Doc: doc}
		return v, doc.node.Decode(v)
	case "Certificate":
		v := &Certificate{Doc: doc}
		return v, doc.node.Decode(v)
	case "RouteSet":
		v := &RouteSet{Doc: doc}
		return v, doc.node.Decode(v)
	case "AuthProvider":
		v := &AuthProvider{Doc: doc}
		return v, doc.node.Decode(v)
	case "AuthService":
		v := &AuthService{Doc: doc}
		return v, doc.node.Decode(v)
	case "RateLimitService":
		v := &RateLimitService{Doc: doc}
		return v, doc.node.Decode(v)
	case "EnvoyPatch":
		v := &EnvoyPatch{Doc: doc}
		return v, doc.node.Decode(v)
	}
	return nil, fmt.Errorf("no type for kind %q", doc.Kind)
}

func scalarField(n *yaml.Node, name string) *yaml.Node {
	v := schema.Child(n, name)
	if v == nil || v.Kind != yaml.ScalarNode {
		return nil
	}
	return v
}
