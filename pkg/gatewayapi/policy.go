package gatewayapi

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/intent"
)

// PolicyDocuments hands the project's policies the manifests of the kinds
// they read (want), as edgectl's own documents are handed to them: the
// document as written, its file and index, and as its team the one its
// namespace maps to (the namespace itself when namespaces are not mapped),
// as findings name it. A file's documents go together, its text parsed
// once, so that a file of thousands of routes is not parsed once per
// route; the trees go when each returns.
func (s *Set) PolicyDocuments(proj *intent.Project, want func(kind string) bool, each func([]*intent.Doc) error) error {
	o := newOwners(proj)
	var reported diag.List // by Lower already
	for i := 0; i < len(s.docs); {
		j := i + 1
		for j < len(s.docs) && s.docs[j].File == s.docs[i].File {
			j++
		}
		file := s.docs[i:j]
		i = j
		if !slices.ContainsFunc(file, func(d *Doc) bool { return want(d.Kind) }) {
			continue
		}
		parsed, _ := intent.Documents(file[0].File, file[0].src)
		trees := make(map[int]*yaml.Node, len(parsed))
		for _, p := range parsed {
			trees[p.Index] = p.Node
		}
		var docs []*intent.Doc
		for _, d := range file {
			if !want(d.Kind) {
				continue
			}
			o.team(d.Namespace, d, &reported)
			docs = append(docs, intent.DocOf(d.File, d.Index, d.Kind, d.Name, o.name(d.Namespace), d.src, trees[d.Index]))
		}
		if err := each(docs); err != nil {
			return err
		}
	}
	return nil
}
