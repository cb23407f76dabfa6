package bundle

// AppendJSON is appendJSON, for the external tests that compile
// repositories to get real resources (pkg/compile imports this package).
var AppendJSON = appendJSON

// CanonicalJSON is canonicalJSON, appendJSON into a reused buffer.
var CanonicalJSON = canonicalJSON
