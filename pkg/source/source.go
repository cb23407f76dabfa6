// Package source opens a routing repository for reading: the project
// directory in the working tree, or a git revision read from the object
// store without a checkout.
package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ProjectFile is the name of the project file at the root of a routing
// repository.
const ProjectFile = "edgectl.yaml"

// OutputMarker marks a directory edgectl wrote. Such directories are never
// read as input, and a later compile may replace them.
const OutputMarker = ".edgectl-output"

// Provenance says where a repository's content came from.
type Provenance struct {
	Repository string `json:"repository,omitempty"`
	Path       string `json:"path,omitempty"` // project directory inside the repository
	Ref        string `json:"ref,omitempty"`  // the revision asked for; empty for the working tree
	Commit     string `json:"commit,omitempty"`
	Dirty      bool   `json:"dirty"`
}

// Source is an opened repository.
type Source struct {
	// FS is rooted at the project directory, the one holding edgectl.yaml.
	FS fs.FS
	// Prefix is the project directory relative to the root of the git
	// repository ("" at the root or outside git). Diagnostics print paths
	// with it so they are relative to the repository root, as CI expects.
	Prefix     string
	Provenance Provenance
}

// ErrNoProject means no edgectl.yaml was found.
var ErrNoProject = errors.New("no " + ProjectFile + " found")

// FindProject walks up from dir to the directory holding edgectl.yaml,
// stopping at the root of a git repository or of the file system.
func FindProject(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ProjectFile)); err == nil {
			return d, nil
		}
		_, gitErr := os.Stat(filepath.Join(d, ".git"))
		if gitErr == nil || filepath.Dir(d) == d {
			return "", fmt.Errorf("%w in %s or any parent directory up to %s", ErrNoProject, dir, d)
		}
	}
}

// Dir opens the project at dir in the working tree.
func Dir(dir string) (*Source, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Source{FS: os.DirFS(root)}
	if top := gitTop(root); top != "" {
		rel, err := filepath.Rel(top, root)
		if err == nil && rel != "." {
			s.Prefix = filepath.ToSlash(rel)
			s.Provenance.Path = s.Prefix
		}
	}
	return s, nil
}

// gitTop returns the nearest enclosing directory with a .git entry.
func gitTop(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
