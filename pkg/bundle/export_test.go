package bundle

// AppendJSON is appendJSON, for the external tests that compile
// repositories to get real resources (pkg/compile imports this package).
var AppendJSON = appendJSON

// CanonicalJSON is canonicalJSON, appendJSON into a reused buffer.
var CanonicalJSON = canonicalJSON

// ProtojsonCompact is reference: protojson's encoding, compacted, which
// AppendJSON must equal.
var ProtojsonCompact = reference
