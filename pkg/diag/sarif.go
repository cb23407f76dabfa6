package diag

import (
	"encoding/json"
	"io"
	"slices"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.

type sarifLog struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID           string          `json:"ruleId,omitempty"`
	Level            string          `json:"level"`
	Message          sarifMessage    `json:"message"`
	Locations        []sarifLocation `json:"locations,omitempty"`
	RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
}

type sarifLocation struct {
	ID               int           `json:"id,omitempty"`
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	Message          *sarifMessage `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

func sarifLoc(p Pos) (sarifLocation, bool) {
	if p.File == "" || p.File == SchemaFile {
		return sarifLocation{}, false
	}
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: p.File}}}
	if p.Line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: p.Line, StartColumn: p.Col}
	}
	return loc, true
}

func writeSARIF(w io.Writer, l List, tool Tool) error {
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.URI, Rules: []sarifRule{}}},
		Results: []sarifResult{},
	}
	var ids []string
	for _, d := range l {
		if d.Rule != "" && !slices.Contains(ids, d.Rule) {
			ids = append(ids, d.Rule)
		}
		level := map[Severity]string{Error: "error", Warning: "warning", Note: "note"}[d.Severity]
		res := sarifResult{RuleID: d.Rule, Level: level, Message: sarifMessage{Text: d.Message}}
		if loc, ok := sarifLoc(d.Pos); ok {
			res.Locations = []sarifLocation{loc}
		}
		for i, r := range d.Related {
			if loc, ok := sarifLoc(r.Pos); ok {
				loc.ID = i + 1
				loc.Message = &sarifMessage{Text: r.Message}
				res.RelatedLocations = append(res.RelatedLocations, loc)
			}
		}
		run.Results = append(run.Results, res)
	}
	slices.Sort(ids)
	for _, id := range ids {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{Text: RuleSummary(id)}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Version: "2.1.0",
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Runs:    []sarifRun{run},
	})
}
