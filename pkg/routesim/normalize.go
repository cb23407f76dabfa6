package routesim

import "strings"

// normalizePath does what the connection manager's normalize_path and
// merge_slashes do to :path before routing. normalize_path resolves "."
// and ".." segments (RFC 3986, section 5.2.4), also when written %2E, and
// turns backslashes into slashes; merge_slashes collapses runs of "/".
// The query string is left alone. Envoy's canonicalisation also
// re-escapes some characters; the simulator does not.
func normalizePath(p string, normalize, merge bool) string {
	path, query := p, ""
	if i := strings.IndexByte(p, '?'); i >= 0 {
		path, query = p[:i], p[i:]
	}
	if normalize {
		path = removeDotSegments(strings.ReplaceAll(path, `\`, "/"))
	}
	if merge {
		for strings.Contains(path, "//") {
			path = strings.ReplaceAll(path, "//", "/")
		}
	}
	return path + query
}

func removeDotSegments(path string) string {
	if !strings.Contains(path, ".") && !strings.Contains(path, "%2") {
		return path
	}
	segs := strings.Split(path, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", "%2e.", ".%2e", "%2e%2e":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}

// unescapeSlashes turns %2F and %5C in the path (not the query) into "/"
// and "\\", and says whether there were any.
func unescapeSlashes(p string) (string, bool) {
	path, query := p, ""
	if i := strings.IndexByte(p, '?'); i >= 0 {
		path, query = p[:i], p[i:]
	}
	if !strings.Contains(path, "%") {
		return p, false
	}
	r := strings.NewReplacer("%2F", "/", "%2f", "/", "%5C", `\`, "%5c", `\`)
	out := r.Replace(path)
	return out + query, out != path
}
