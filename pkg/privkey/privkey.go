// Package privkey finds private key material in text, in the forms it is
// written in: PEM blocks (RSA, EC, DSA, PKCS#8, encrypted, OpenSSH, PGP),
// with their header wrapped across lines or JSON-escaped line breaks, and
// the base64 of any of these, in the standard or URL alphabet, padded or
// not, wrapped or not. Public certificates and keys are not key material.
// Every search takes time linear in the length of the text.
package privkey

import (
	"bytes"
	"encoding/base64"
	"sync"
)

// Index returns the offset in b where the first private key starts, or -1.
func Index(b []byte) int {
	first := -1
	better := func(i int) {
		if i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	better(pemIndex(b))
	better(base64Index(b))
	return first
}

// markers are texts that only private keys hold, beside the PEM header.
var markers = [][]byte{[]byte("Proc-Type: 4,ENCRYPTED"), []byte("PuTTY-User-Key-File-")}

// pemIndex finds a PEM private key header, "-----BEGIN ... PRIVATE KEY",
// allowing any spacing between its words.
func pemIndex(b []byte) int {
	first := -1
	for _, m := range markers {
		if i := bytes.Index(b, m); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte("PRIVATE"))
		if i < 0 {
			break
		}
		i += from
		from = i + len("PRIVATE")
		if first >= 0 && i > first {
			break
		}
		if j := skipSpace(b, from); !bytes.HasPrefix(b[j:], []byte("KEY")) {
			continue
		}
		if start := beginBefore(b, i); start >= 0 {
			return start
		}
	}
	return first
}

// beginBefore looks back from the PRIVATE at i, over at most a few words,
// for "-----BEGIN" (or the "-----END" of a key whose start was cut off)
// and returns where it starts, or -1.
func beginBefore(b []byte, i int) int {
	lo := max(i-96, 0) // bounded look-back keeps the search linear
	j := i
	for j > lo {
		// Step back over separators, then over one word.
		k := j
		for k > lo && isSpaceAt(b, k-1) {
			k--
			if k > lo && b[k-1] == '\\' { // an escaped \n, \r or \t
				k--
			}
		}
		w := k
		for w > lo && (b[w-1] >= 'A' && b[w-1] <= 'Z' || b[w-1] >= '0' && b[w-1] <= '9') {
			w--
		}
		if w == k {
			return -1
		}
		if string(b[w:k]) == "BEGIN" || string(b[w:k]) == "END" {
			d := w
			for d > lo && b[d-1] == ' ' {
				d--
			}
			if d > lo && b[d-1] == '-' {
				for d > lo && b[d-1] == '-' {
					d--
				}
				return d
			}
			return -1
		}
		j = w
	}
	return -1
}

// isSpaceAt reports whether b[i] separates words of a PEM header: white
// space, or the letter of a JSON or YAML escape \n, \r, \t.
func isSpaceAt(b []byte, i int) bool {
	switch b[i] {
	case ' ', '\t', '\r', '\n':
		return true
	case 'n', 'r', 't':
		return i > 0 && b[i-1] == '\\'
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch {
		case b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n':
			i++
		case b[i] == '\\' && i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r' || b[i+1] == 't'):
			i += 2
		default:
			return i
		}
	}
	return i
}

// patterns are the base64 texts of "PRIVATE KEY" and of the encrypted
// key marker at each of the three byte alignments, trimmed of the
// characters their neighbours change.
var patterns = func() [][]byte {
	var out [][]byte
	for _, needle := range []string{"PRIVATE KEY", string(markers[0])} {
		for shift := range 3 {
			a := base64.RawStdEncoding.EncodeToString(append(bytes.Repeat([]byte{0}, shift), needle...))
			z := base64.RawStdEncoding.EncodeToString(append(bytes.Repeat([]byte{0xff}, shift), needle...))
			skip := 0
			for a[skip] != z[skip] {
				skip++
			}
			full := (shift + len(needle)) / 3 * 4 // characters of whole groups
			out = append(out, []byte(a[skip:full]))
		}
	}
	return out
}()

// joinedBuffers lend base64Index the buffer it joins a text into: a
// bundle's files are scanned before they are written, each as long as the
// text, and a buffer each time was most of what the scans allocated.
var joinedBuffers = sync.Pool{New: func() any { return new([]byte) }}

// base64Index finds base64 text that decodes to a PEM private key header.
// It joins the text across white space and escaped line breaks, maps the
// URL alphabet onto the standard one, looks for the encodings of "PRIVATE
// KEY", and decodes only around those to confirm.
func base64Index(b []byte) int {
	bp := joinedBuffers.Get().(*[]byte)
	defer joinedBuffers.Put(bp)
	if cap(*bp) < len(b) {
		*bp = make([]byte, len(b))
	}
	joined := (*bp)[:len(b)]
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '\\':
			if i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r' || b[i+1] == 't') {
				i++
				continue
			}
		case '-':
			c = '+'
		case '_':
			c = '/'
		}
		joined[n] = c
		n++
	}
	joined = joined[:n]
	first := -1
	for _, p := range patterns {
		for from := 0; ; {
			i := bytes.Index(joined[from:], p)
			if i < 0 {
				break
			}
			i += from
			from = i + 1
			// The run of base64 characters around the match, bounded.
			lo, hi := i, i+len(p)
			for lo > max(i-160, 0) && value(joined[lo-1]) >= 0 {
				lo--
			}
			for hi < min(i+len(p)+8, len(joined)) && value(joined[hi]) >= 0 {
				hi++
			}
			if start, ok := decodedHeader(joined[lo:hi]); ok {
				if first < 0 || lo+start < first {
					first = lo + start
				}
				break
			}
		}
	}
	if first < 0 {
		return -1
	}
	// Map the index in the joined text back to the text.
	n = 0
	for i := 0; i < len(b); i++ {
		at := i
		if _, ok := base64Char(b, &i); ok {
			if n == first {
				return at
			}
			n++
		}
	}
	return -1
}

// base64Char reads the character at *i as the joined text holds it: white
// space and escaped line breaks are dropped (advancing *i past an escape),
// the URL alphabet's - and _ become + and /.
func base64Char(b []byte, i *int) (byte, bool) {
	switch c := b[*i]; {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		return 0, false
	case c == '\\' && *i+1 < len(b) && (b[*i+1] == 'n' || b[*i+1] == 'r' || b[*i+1] == 't'):
		*i++
		return 0, false
	case c == '-':
		return '+', true
	case c == '_':
		return '/', true
	default:
		return c, true
	}
}

// decodedHeader decodes a window of joined base64 text at each alignment
// and reports whether it holds a PEM private key header, with the index
// in the window of the character that encodes its start.
func decodedHeader(w []byte) (int, bool) {
	for shift := range 4 {
		var out []byte
		var acc, bits uint
		for _, c := range w[min(shift, len(w)):] {
			acc = acc<<6 | uint(value(c))
			bits += 6
			if bits >= 8 {
				bits -= 8
				out = append(out, byte(acc>>bits))
			}
		}
		if i := pemIndex(out); i >= 0 {
			return shift + i*4/3, true
		}
	}
	return 0, false
}

func value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}
