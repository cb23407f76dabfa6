package bundle

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/edgectl/edgectl/pkg/xds"
)

// A large route configuration (one virtual host of thousands of routes, or
// thousands of virtual hosts) is one resource, and encoding it on one
// goroutine would leave the other cores idle. So it is encoded in pieces:
// a skeleton, the configuration with runs of its virtual hosts or routes
// replaced by stand-ins, and the runs themselves, each encoded on its own;
// the runs then take their stand-ins' places. The bytes are those of
// encoding the whole at once: protojson writes a nested message as it
// writes the message alone, and the YAML emitter writes a nested value as
// it writes the value alone, indented.

// pieceRoutes is the size from which a route configuration is encoded in
// pieces; below it one goroutine is quicker.
const pieceRoutes = 512

// pieceMark starts the name of every stand-in. No user can name a virtual
// host or route so: names starting "edgectl-" are reserved.
const pieceMark = "edgectl-piece:"

var errNoSplice = errors.New("a stand-in is missing or repeated")

// routeConfig is a route configuration's encodings: its Any form for the
// RDS file (json), and the YAML of its own fields, which the RDS file and
// the static bootstrap both take.
type routeConfig struct {
	json []byte
	yaml []byte
}

// encodeRouteConfig encodes rc, in about parts pieces when it is large.
func encodeRouteConfig(rc *routev3.RouteConfiguration, parts int) (routeConfig, error) {
	skeleton, pieces := splitRouteConfig(rc, parts)
	if skeleton == nil {
		return encodeWhole(rc)
	}
	var head []byte
	pieceJSON := make([][][]byte, len(pieces))
	pieceYAML := make([][][]byte, len(pieces))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	g.Go(func() (err error) {
		head, err = canonicalJSON(skeleton)
		return err
	})
	for k, p := range pieces {
		g.Go(func() error {
			pieceJSON[k] = make([][]byte, len(p))
			pieceYAML[k] = make([][]byte, len(p))
			for i, m := range p {
				js, err := canonicalJSON(m)
				if err != nil {
					return err
				}
				y, err := jsonToYAML(js)
				if err != nil {
					return err
				}
				pieceJSON[k][i], pieceYAML[k][i] = js, y
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return routeConfig{}, err
	}
	own, err := spliceJSON(head, pieceJSON)
	if err != nil {
		return encodeWhole(rc)
	}
	headYAML, err := jsonToYAML(head)
	if err != nil {
		return routeConfig{}, err
	}
	y, err := spliceYAML(headYAML, pieceYAML)
	if err != nil {
		return encodeWhole(rc)
	}
	return routeConfig{json: withType(rc, own), yaml: y}, nil
}

// encodeWhole encodes a message on one goroutine: its Any form and the
// YAML of its own fields.
func encodeWhole(m proto.Message) (routeConfig, error) {
	own, err := canonicalJSON(m)
	if err != nil {
		return routeConfig{}, err
	}
	y, err := jsonToYAML(own)
	return routeConfig{json: withType(m, own), yaml: y}, err
}

// withType is the Any form of a message from its own JSON.
func withType(m proto.Message, own []byte) []byte {
	head := `{"@type":"` + TypeURL(m) + `"`
	if string(own) == "{}" {
		return []byte(head + "}")
	}
	return append([]byte(head+","), own[1:]...)
}

// splitRouteConfig returns rc with runs of its virtual hosts, and runs of
// the routes of its large virtual hosts, replaced by stand-ins named
// pieceMark and the run's number; and the runs. It returns nil for a small
// rc.
func splitRouteConfig(rc *routev3.RouteConfiguration, parts int) (*routev3.RouteConfiguration, [][]proto.Message) {
	total := 0
	for _, vh := range rc.GetVirtualHosts() {
		total += len(vh.GetRoutes()) + 1
	}
	if total < pieceRoutes || parts < 2 {
		return nil, nil
	}
	size := max(total/parts, 64)
	skeleton := xds.ShallowWithout(rc, "virtual_hosts").(*routev3.RouteConfiguration)
	var pieces [][]proto.Message
	stand := func() string { return pieceMark + strconv.Itoa(len(pieces)) }
	var run []proto.Message
	weight := 0
	flush := func() {
		if len(run) > 0 {
			skeleton.VirtualHosts = append(skeleton.VirtualHosts, &routev3.VirtualHost{Name: stand()})
			pieces = append(pieces, run)
			run, weight = nil, 0
		}
	}
	for _, vh := range rc.GetVirtualHosts() {
		if len(vh.GetRoutes()) < size {
			run = append(run, vh)
			if weight += len(vh.GetRoutes()) + 1; weight >= size {
				flush()
			}
			continue
		}
		flush()
		v := xds.ShallowWithout(vh, "routes").(*routev3.VirtualHost)
		for start := 0; start < len(vh.Routes); start += size {
			rs := vh.Routes[start:min(start+size, len(vh.Routes))]
			v.Routes = append(v.Routes, &routev3.Route{Name: stand()})
			p := make([]proto.Message, len(rs))
			for i, r := range rs {
				p[i] = r
			}
			pieces = append(pieces, p)
		}
		skeleton.VirtualHosts = append(skeleton.VirtualHosts, v)
	}
	flush()
	return skeleton, pieces
}

// standIn is the JSON of stand-in k.
func standIn(k int) []byte { return []byte(`{"name":"` + pieceMark + strconv.Itoa(k) + `"}`) }

// spliceJSON puts each run, its messages joined by commas, where its
// stand-in is in head. Every stand-in must be there once, in order.
func spliceJSON(head []byte, runs [][][]byte) ([]byte, error) {
	size := len(head)
	for _, r := range runs {
		for _, m := range r {
			size += len(m) + 1
		}
	}
	out := make([]byte, 0, size)
	rest := head
	for k, r := range runs {
		s := standIn(k)
		i := bytes.Index(rest, s)
		if i < 0 {
			return nil, errNoSplice
		}
		out = append(out, rest[:i]...)
		for j, m := range r {
			if j > 0 {
				out = append(out, ',')
			}
			out = append(out, m...)
		}
		rest = rest[i+len(s):]
	}
	if bytes.Contains(rest, []byte(`"`+pieceMark)) {
		return nil, errNoSplice
	}
	return append(out, rest...), nil
}

// spliceYAML puts each run where its stand-in's list item is in head
// ("- name: \"edgectl-piece:K\"" at some indentation): every message of
// the run as an item of that list, its first line on the "- " line and
// the others indented under it.
func spliceYAML(head []byte, runs [][][]byte) ([]byte, error) {
	// Find every stand-in first, so the output is allocated once: it is
	// most of the bundle's size.
	type at struct{ start, end, indent int }
	ats := make([]at, len(runs))
	size, from := len(head), 0
	for k, r := range runs {
		line := []byte(`- name: "` + pieceMark + strconv.Itoa(k) + "\"\n")
		i := bytes.Index(head[from:], line)
		if i < 0 {
			return nil, errNoSplice
		}
		i += from
		start := bytes.LastIndexByte(head[:i], '\n') + 1
		if len(bytes.Trim(head[start:i], " ")) > 0 {
			return nil, errNoSplice
		}
		ats[k] = at{start, i + len(line), i - start}
		for _, y := range r {
			size += len(y) + (bytes.Count(y, []byte{'\n'})+1)*(i-start+2)
		}
		from = i + len(line)
	}
	if bytes.Contains(head[from:], []byte(`"`+pieceMark)) {
		return nil, errNoSplice
	}
	var out bytes.Buffer
	out.Grow(size)
	prev := 0
	for k, r := range runs {
		out.Write(head[prev:ats[k].start])
		for _, y := range r {
			writeItem(&out, y, ats[k].indent)
		}
		prev = ats[k].end
	}
	out.Write(head[prev:])
	return out.Bytes(), nil
}

// writeItem writes a YAML document as a list item at indent.
func writeItem(out *bytes.Buffer, y []byte, indent int) {
	first := true
	for len(y) > 0 {
		n := bytes.IndexByte(y, '\n') + 1
		if n == 0 {
			n = len(y)
		}
		if first {
			pad(out, indent)
			out.WriteString("- ")
			first = false
		} else {
			pad(out, indent+2)
		}
		out.Write(y[:n])
		y = y[n:]
	}
}

// shiftInto replaces, in y, each line that is the key "name" with a value
// in maps (a quoted stand-in) by the mapping maps gives it: its first line
// where the stand-in's line starts (after the indentation, and the "- " of
// a list item), the others indented to match. A stand-in must be in maps,
// and may be there once unless repeat is set (a route configuration served
// by a default filter chain or a QUIC listener besides its own chain); it
// is one pass over y, however many there are.
func shiftInto(y []byte, mark string, maps map[string][]byte, repeat bool) ([]byte, bool) {
	return shiftIntoAfter(0, y, mark, maps, repeat)
}

// shiftIntoAfter is shiftInto with reserve bytes (zero) before the result,
// for a caller to fill in.
func shiftIntoAfter(reserve int, y []byte, mark string, maps map[string][]byte, repeat bool) ([]byte, bool) {
	key := []byte(`name: "` + mark)
	type at struct {
		start, key, end int // the line, its "name:", its end
		m               []byte
	}
	var ats []at
	used := make(map[string]bool, len(maps))
	size := len(y)
	for from := 0; ; {
		i := bytes.Index(y[from:], key)
		if i < 0 {
			break
		}
		i += from
		start := bytes.LastIndexByte(y[:i], '\n') + 1
		end := bytes.IndexByte(y[i:], '\n')
		prefix := bytes.TrimLeft(y[start:i], " ")
		if end < 0 || len(prefix) > 0 && string(prefix) != "- " {
			return nil, false
		}
		end += i + 1
		stand := string(y[i+len("name: ") : end-1])
		m, ok := maps[stand]
		if !ok || used[stand] && !repeat {
			return nil, false
		}
		used[stand] = true
		ats = append(ats, at{start, i, end, m})
		size += len(m) + bytes.Count(m, []byte{'\n'})*(i-start) - (end - i)
		from = end
	}
	out := bytes.NewBuffer(make([]byte, reserve, reserve+size))
	prev := 0
	for _, a := range ats {
		out.Write(y[prev:a.key])
		m := a.m
		for first := true; len(m) > 0; first = false {
			n := bytes.IndexByte(m, '\n') + 1
			if n == 0 {
				n = len(m)
			}
			if !first {
				pad(out, a.key-a.start)
			}
			out.Write(m[:n])
			m = m[n:]
		}
		prev = a.end
	}
	out.Write(y[prev:])
	return out.Bytes(), true
}

func pad(out *bytes.Buffer, n int) {
	const spaces = "                                                                "
	for n > len(spaces) {
		out.WriteString(spaces)
		n -= len(spaces)
	}
	out.WriteString(spaces[:n])
}
