package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonToYAML re-emits a JSON document as block-style YAML, keeping the order
// of keys. The output depends only on the JSON's tokens, never on its
// whitespace, which protojson randomises on purpose.
//
// It scans the bytes itself: encoding/json's tokenizer allocates per token
// and dominated compile time on large bundles.
func jsonToYAML(js []byte) ([]byte, error) { return jsonToYAMLAfter(0, js) }

// jsonToYAMLAfter is jsonToYAML with reserve bytes (zero) before the YAML,
// for a caller to fill in.
func jsonToYAMLAfter(reserve int, js []byte) ([]byte, error) {
	s := &scanner{in: js}
	e := emitter{s: s, out: bytes.NewBuffer(make([]byte, reserve, reserve+len(js)*3/2))}
	if err := e.value(0, ctxTop); err != nil {
		return nil, err
	}
	if s.skipSpace(); s.pos != len(js) {
		return nil, s.errorf("trailing data")
	}
	return e.out.Bytes(), nil
}

// scanner walks JSON text.
type scanner struct {
	in  []byte
	pos int
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("read json at offset %d: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.in) {
		return 0
	}
	return s.in[s.pos]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.errorf("want %q", c)
	}
	s.pos++
	return nil
}

// str reads a JSON string and returns its value.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.pos
	escaped := false
	for s.pos < len(s.in) {
		switch c := s.in[s.pos]; {
		case c == '"':
			raw := s.in[start:s.pos]
			s.pos++
			if !escaped && utf8.Valid(raw) {
				return string(raw), nil
			}
			// Escapes, or invalid UTF-8 that encoding/json turns into U+FFFD.
			var v string
			if err := json.Unmarshal(s.in[start-1:s.pos], &v); err != nil {
				return "", s.errorf("%v", err)
			}
			return v, nil
		case c == '\\':
			escaped = true
			s.pos += 2
		case c < 0x20:
			return "", s.errorf("control character in string")
		default:
			s.pos++
		}
	}
	return "", s.errorf("unterminated string")
}

// literal reads a number, true, false or null and returns its text.
func (s *scanner) literal() (string, error) {
	s.skipSpace()
	start := s.pos
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			break
		}
		s.pos++
	}
	lit := string(s.in[start:s.pos])
	switch lit {
	case "true", "false", "null":
		return lit, nil
	}
	// Only a valid JSON number remains acceptable.
	if !json.Valid([]byte(lit)) || lit == "" || strings.ContainsAny(lit[:1], `"[{tfn`) {
		return "", s.errorf("invalid value %q", lit)
	}
	return lit, nil
}

type emitter struct {
	s   *scanner
	out *bytes.Buffer
}

// Where a value is written decides how a collection opens.
const (
	ctxTop  = iota // at the start of the document
	ctxKey         // after "key:"
	ctxItem        // after "- "
)

func (e *emitter) value(indent, ctx int) error {
	switch e.s.peek() {
	case '{':
		return e.object(indent, ctx)
	case '[':
		return e.array(indent, ctx)
	case '"':
		v, err := e.s.str()
		if err != nil {
			return err
		}
		e.scalar(quote(v), ctx)
	default:
		lit, err := e.s.literal()
		if err != nil {
			return err
		}
		e.scalar(lit, ctx)
	}
	return nil
}

func (e *emitter) scalar(s string, ctx int) {
	if ctx == ctxKey {
		e.out.WriteByte(' ')
	}
	e.out.WriteString(s)
	e.out.WriteByte('\n')
}

func (e *emitter) object(indent, ctx int) error {
	e.s.pos++ // {
	if e.s.peek() == '}' {
		e.s.pos++
		e.scalar("{}", ctx)
		return nil
	}
	var seen []string // objects are small; a slice beats a map here
	for first := true; ; first = false {
		key, err := e.s.str()
		if err != nil {
			return err
		}
		for _, k := range seen {
			if k == key {
				return e.s.errorf("duplicate key %q", key)
			}
		}
		seen = append(seen, key)
		switch {
		case first && ctx == ctxItem:
			// The first key sits on the "- " line.
		case first && ctx == ctxKey:
			e.out.WriteByte('\n')
			e.pad(indent)
		default:
			e.pad(indent)
		}
		e.out.WriteString(quote(key))
		e.out.WriteByte(':')
		if err := e.s.expect(':'); err != nil {
			return err
		}
		if err := e.value(indent+2, ctxKey); err != nil {
			return err
		}
		switch e.s.peek() {
		case ',':
			e.s.pos++
		case '}':
			e.s.pos++
			return nil
		default:
			return e.s.errorf("want , or }")
		}
	}
}

func (e *emitter) array(indent, ctx int) error {
	e.s.pos++ // [
	if e.s.peek() == ']' {
		e.s.pos++
		e.scalar("[]", ctx)
		return nil
	}
	if ctx == ctxKey {
		indent -= 2 // "- " lines align with their key, as kubectl writes them
		e.out.WriteByte('\n')
	}
	for first := true; ; first = false {
		if !first || ctx != ctxItem {
			// A list directly in a list starts on the parent's "- " line.
			e.pad(indent)
		}
		e.out.WriteString("- ")
		if err := e.value(indent+2, ctxItem); err != nil {
			return err
		}
		switch e.s.peek() {
		case ',':
			e.s.pos++
		case ']':
			e.s.pos++
			return nil
		default:
			return e.s.errorf("want , or ]")
		}
	}
}

func (e *emitter) pad(n int) {
	for range n {
		e.out.WriteByte(' ')
	}
}

// reserved are plain words YAML 1.1 loaders (Envoy's among them) read as
// booleans or null.
var reserved = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

// plain reports whether every YAML loader reads s back as the same string
// when it is written without quotes: a letter, "_" or "/" first, then only
// letters, digits and a few safe punctuation marks, and not a reserved word.
func plain(s string) bool {
	if s == "" || strings.HasSuffix(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '/':
		case i > 0 && (c >= '0' && c <= '9' || strings.IndexByte(".@%()+=-", c) >= 0):
		default:
			return false
		}
	}
	return !reserved[strings.ToLower(s)]
}

func quote(s string) string {
	if plain(s) {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	q := strings.TrimSuffix(b.String(), "\n")
	if strings.IndexFunc(q, unprintable) < 0 {
		return q
	}
	// JSON leaves DEL and C1 controls raw; YAML allows them only escaped.
	var out strings.Builder
	for _, r := range q {
		if unprintable(r) {
			fmt.Fprintf(&out, "\\u%04X", r)
		} else {
			out.WriteRune(r)
		}
	}
	return out.String()
}

// unprintable reports runes outside YAML's printable set (JSON has already
// escaped those below 0x20).
func unprintable(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f && r != 0x85) || (r >= 0xd800 && r <= 0xdfff) || r == 0xfffe || r == 0xffff
}
