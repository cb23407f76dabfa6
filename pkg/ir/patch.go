package ir

import (
	"encoding/json"

	"github.com/edgectl/edgectl/pkg/diag"
)

// Patch is an EnvoyPatch of the gateway: a change to one of the resources
// translation generates, applied after it (pkg/patch). Exactly one of
// Merge, JSONPatch and Filter is set.
type Patch struct {
	Name   string
	File   string   // the document's file, for the diff
	Origin diag.Pos // the document's metadata.name
	Target PatchTarget

	// Empty fields are left out of the JSON form (diff snapshots), where
	// a nil json.RawMessage would come back as "null".
	Merge     json.RawMessage `json:",omitempty"` // a JSON merge patch (RFC 7386)
	MergePos  diag.Pos
	JSONPatch []PatchOp    `json:",omitempty"` // a JSON patch (RFC 6902), one operation each
	Filter    *PatchFilter `json:",omitempty"`
}

// Patch target types, as the bundle's manifest names them.
const (
	PatchListener           = "Listener"
	PatchRouteConfiguration = "RouteConfiguration"
	PatchCluster            = "Cluster"
	PatchSecret             = "Secret"
)

// PatchTarget addresses one generated resource, or one virtual host of a
// route configuration.
type PatchTarget struct {
	Type           string
	Name           string
	NamePos        diag.Pos
	VirtualHost    string
	VirtualHostPos diag.Pos
}

// PatchOp is one operation of a JSON patch.
type PatchOp struct {
	Op  json.RawMessage
	Pos diag.Pos
}

// PatchFilter is an HTTP filter inserted into every connection manager of
// a listener: before the filter named Before, after the one named After,
// or just before the router when neither is set.
type PatchFilter struct {
	Name        string
	Before      string
	After       string
	At          diag.Pos        // where Before or After is written; else the filter's name
	TypedConfig json.RawMessage // the JSON form of an Any: "@type" and its fields
	TypePos     diag.Pos        // the "@type" value
	Pos         diag.Pos
}
