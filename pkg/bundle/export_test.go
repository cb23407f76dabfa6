package bundle

import "google.golang.org/protobuf/proto"

// AppendJSON is appendJSON, for the external tests that compile
// repositories to get real resources (pkg/compile imports this package).
var AppendJSON = appendJSON

// CanonicalJSON is canonicalJSON, appendJSON into a reused buffer.
var CanonicalJSON = canonicalJSON

// ProtojsonCompact is reference: protojson's encoding, compacted, which
// AppendJSON must equal.
var ProtojsonCompact = reference

// ReadBothWays reads an xDS file with readResources and with readWhole,
// for the external tests that compile repositories: fast reports whether
// readResources took the file.
func ReadBothWays(data []byte) (fastVersion, wholeVersion string, fastMsgs, wholeMsgs []proto.Message, fast bool, err error) {
	n, err := firstDocument(data)
	if err != nil {
		return "", "", nil, nil, false, err
	}
	fdr, fmsgs, fast := readResources(&n)
	wdr, wmsgs, err := readWhole(&n)
	if err != nil {
		return "", "", nil, nil, fast, err
	}
	if fast {
		fastVersion = fdr.VersionInfo + " " + fdr.TypeUrl
	}
	return fastVersion, wdr.VersionInfo + " " + wdr.TypeUrl, fmsgs, wmsgs, fast, nil
}
