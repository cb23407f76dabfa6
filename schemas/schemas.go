// Package schemas embeds the CUE definitions of every document kind.
package schemas

import _ "embed"

// Source is the CUE schema, printed by `edgectl schema`.
//
//go:embed edgectl.cue
var Source []byte

// Filename is the name of the embedded file.
const Filename = "edgectl.cue"
