package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// jsonToYAML re-emits a JSON document as block-style YAML, keeping the order
// of keys. The output depends only on the JSON's tokens, never on its
// whitespace, which protojson randomises on purpose.
func jsonToYAML(js []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var b bytes.Buffer
	e := emitter{dec: dec, out: &b}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read json: %w", err)
	}
	if err := e.value(tok, 0, ctxTop); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("read json: trailing data")
	}
	return b.Bytes(), nil
}

type emitter struct {
	dec *json.Decoder
	out *bytes.Buffer
}

// Where a value is written decides how a collection opens.
const (
	ctxTop  = iota // at the start of the document
	ctxKey         // after "key:"
	ctxItem        // after "- "
)

func (e *emitter) value(tok json.Token, indent, ctx int) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return e.object(indent, ctx)
		}
		return e.array(indent, ctx)
	case string:
		e.scalar(quote(t), ctx)
	case json.Number:
		e.scalar(t.String(), ctx)
	case bool:
		e.scalar(fmt.Sprint(t), ctx)
	case nil:
		e.scalar("null", ctx)
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
	first := true
	var seen []string // objects are small; a slice beats a map here
	for e.dec.More() {
		tok, err := e.dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		if slices.Contains(seen, key) {
			return fmt.Errorf("read json: duplicate key %q", key)
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
		first = false
		e.out.WriteString(quote(key))
		e.out.WriteByte(':')
		val, err := e.dec.Token()
		if err != nil {
			return err
		}
		if err := e.value(val, indent+2, ctxKey); err != nil {
			return err
		}
	}
	if _, err := e.dec.Token(); err != nil { // }
		return err
	}
	if first {
		e.scalar("{}", ctx)
	}
	return nil
}

func (e *emitter) array(indent, ctx int) error {
	if ctx == ctxKey {
		indent -= 2 // "- " lines align with their key, as kubectl writes them
	}
	first := true
	for e.dec.More() {
		if first && ctx == ctxKey {
			e.out.WriteByte('\n')
		}
		if first && ctx == ctxItem {
			// A list directly in a list starts on the parent's "- " line.
		} else {
			e.pad(indent)
		}
		first = false
		e.out.WriteString("- ")
		tok, err := e.dec.Token()
		if err != nil {
			return err
		}
		if err := e.value(tok, indent+2, ctxItem); err != nil {
			return err
		}
	}
	if _, err := e.dec.Token(); err != nil { // ]
		return err
	}
	if first {
		e.scalar("[]", ctx)
	}
	return nil
}

func (e *emitter) pad(n int) {
	for range n {
		e.out.WriteByte(' ')
	}
}

// plain matches strings that every YAML loader reads back as the same
// string when written without quotes.
var plain = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./@%()+=-]*$`)

// reserved are plain words YAML 1.1 loaders (Envoy's among them) read as
// booleans or null.
var reserved = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

func quote(s string) string {
	if plain.MatchString(s) && !reserved[strings.ToLower(s)] && !strings.HasSuffix(s, ":") {
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
