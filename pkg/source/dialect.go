package source

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// gatewayAPIMarker is in every Gateway API manifest: its apiVersion.
var gatewayAPIMarker = []byte("gateway.networking.k8s.io/")

// mentionsGatewayAPI reports whether a text names the Gateway API's group.
// It reads the text in pieces, so that a file of many megabytes costs time,
// not memory; a file is never skipped for its size, or its manifests would
// be left out without a word.
func mentionsGatewayAPI(r io.Reader) bool {
	buf := make([]byte, 64<<10)
	kept := 0 // the end of the previous piece, where the marker may start
	for {
		n, err := io.ReadFull(r, buf[kept:])
		end := kept + n
		if bytes.Contains(buf[:end], gatewayAPIMarker) {
			return true
		}
		if err != nil {
			return false
		}
		kept = min(len(gatewayAPIMarker)-1, end)
		copy(buf, buf[end-kept:end])
	}
}

// HasGatewayAPI reports whether a directory without edgectl.yaml holds
// Kubernetes Gateway API manifests (YAML files, outside hidden
// directories, that name the Gateway API's group): such a directory is a
// project of its own, in the Gateway API dialect.
func HasGatewayAPI(fsys fs.FS) bool {
	found := false
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return fs.SkipDir
		}
		if d.IsDir() {
			if LeftOut(fsys, p) {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		if mentionsGatewayAPI(f) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// treeHasGatewayAPI is HasGatewayAPI for a directory of a git revision.
func treeHasGatewayAPI(t *object.Tree) bool {
	found := false
	_ = t.Files().ForEach(func(f *object.File) error {
		if ext := path.Ext(f.Name); ext != ".yaml" && ext != ".yml" || hiddenPath(f.Name) {
			return nil
		}
		r, err := f.Reader()
		if err != nil {
			return nil
		}
		defer r.Close()
		if mentionsGatewayAPI(r) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

func hiddenPath(p string) bool {
	for _, seg := range strings.Split(path.Dir(p), "/") {
		if strings.HasPrefix(seg, ".") && seg != "." {
			return true
		}
	}
	return false
}

// gatewayAPIDir reports whether dir, which has no edgectl.yaml above it, is
// a Gateway API project.
func gatewayAPIDir(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir() && HasGatewayAPI(os.DirFS(dir))
}

// WalkManifests calls file, in lexical order, for every file a walk over a
// repository for manifests reads: those outside the directories LeftOut
// leaves out. An error from the walk or from file ends it.
func WalkManifests(fsys fs.FS, file func(p string, d fs.DirEntry) error) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if LeftOut(fsys, p) {
				return fs.SkipDir
			}
			return nil
		}
		return file(p, d)
	})
}

// LeftOut reports whether a walk over a repository for manifests leaves
// out the directory at p: a hidden one (.git among them), or one edgectl
// wrote.
func LeftOut(fsys fs.FS, p string) bool {
	if p != "." && strings.HasPrefix(path.Base(p), ".") {
		return true
	}
	_, err := fs.Stat(fsys, path.Join(p, OutputMarker))
	return err == nil
}
