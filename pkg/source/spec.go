package source

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Spec says which repository content to read.
type Spec struct {
	// Dir is where to start: a directory of the working tree (the project
	// is found by walking up), or with Rev the repository to read from.
	Dir string
	// Rev, if set, reads that revision from git instead of the working tree.
	Rev string
	// Subdir is the project directory inside the repository, for
	// revisions. Empty: the project directory found from Dir.
	Subdir string
	// Git marks a buf-style spec (".git#branch=main,subdir=edge").
	Git bool
}

// ParseSpec reads a source argument: a directory, or the buf-style form
// users know from buf, PATH#key=value,... where PATH is a git repository
// (".git" for the current one) and the keys are branch, tag, ref (a
// revision) and subdir (the project directory inside the repository).
func ParseSpec(arg string) (Spec, error) {
	path, opts, ok := strings.Cut(arg, "#")
	if !ok && !strings.HasSuffix(arg, ".git") {
		return Spec{Dir: arg}, nil
	}
	// ".git" and "dir/.git" name the repository around them; any other
	// path (a bare "other.git" included) names itself.
	s := Spec{Git: true, Dir: path}
	if filepath.Base(path) == ".git" {
		s.Dir = filepath.Dir(path)
	}
	revs := 0
	for _, kv := range strings.Split(opts, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "branch":
			s.Rev, revs = "refs/heads/"+v, revs+1
		case "tag":
			s.Rev, revs = "refs/tags/"+v, revs+1
		case "ref":
			s.Rev, revs = v, revs+1
		case "subdir":
			s.Subdir = filepath.ToSlash(filepath.Clean(v))
		case "depth", "recurse_submodules":
			// Accepted for buf compatibility; a local read needs neither.
		default:
			return Spec{}, fmt.Errorf("source %q: unknown option %q (want branch, tag, ref or subdir)", arg, k)
		}
	}
	if revs > 1 {
		return Spec{}, fmt.Errorf("source %q: set only one of branch, tag and ref", arg)
	}
	if s.Rev == "" {
		s.Rev = "HEAD"
	}
	return s, nil
}

// Open opens what a spec names. For a revision, the project directory is
// Subdir, or else the one holding edgectl.yaml in the working tree at Dir
// (so `--rev main` reads the same project as the working tree).
func Open(s Spec) (*Source, error) {
	if s.Rev == "" {
		root, err := FindProject(s.Dir)
		if errors.Is(err, ErrNoProject) && gatewayAPIDir(s.Dir) {
			return Dir(s.Dir)
		}
		if err != nil {
			return nil, err
		}
		return Dir(root)
	}
	top := gitTop(mustAbs(s.Dir))
	if top == "" {
		return nil, fmt.Errorf("%s is %w, so revision %q cannot be read", s.Dir, ErrNoRepository, s.Rev)
	}
	subdir := s.Subdir
	if !s.Git && subdir == "" {
		if root, err := FindProject(s.Dir); err == nil {
			rel, _ := filepath.Rel(top, root)
			subdir = filepath.ToSlash(rel)
		} else if rel, err := filepath.Rel(top, mustAbs(s.Dir)); err == nil {
			subdir = filepath.ToSlash(rel)
		}
	}
	repo, err := OpenRepo(top)
	if err != nil {
		return nil, err
	}
	src, err := repo.Git(s.resolveBranch(repo), subdir)
	if err != nil {
		repo.Close()
		return nil, err
	}
	src.repo = repo
	return src, nil
}

// resolveBranch lets a branch name (main, main~2, branch=main) also find
// origin/main when there is no local main, which is all a CI checkout
// usually has.
func (s Spec) resolveBranch(r *Repo) string {
	if _, err := r.Resolve(s.Rev); err == nil {
		return s.Rev
	}
	name, suffix := s.Rev, ""
	if i := strings.IndexAny(name, "~^"); i >= 0 {
		name, suffix = name[:i], name[i:]
	}
	name, explicit := strings.CutPrefix(name, "refs/heads/")
	if !explicit && (name == "HEAD" || strings.HasPrefix(name, "refs/") || strings.ContainsAny(name, ":@") || looksLikeSHA(name)) {
		return s.Rev
	}
	if alt := "refs/remotes/origin/" + name + suffix; name != "" {
		if _, err := r.Resolve(alt); err == nil {
			return alt
		}
	}
	return s.Rev
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}
