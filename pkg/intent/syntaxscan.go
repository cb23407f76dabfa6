package intent

import "bytes"

// syntaxScan is what a light pass over a YAML text finds: enough of the
// token structure (quotes, flow brackets, comments, block scalars, anchors)
// to place the errors the parser reports without a usable position. Every
// field is an offset, or -1.
type syntaxScan struct {
	quote   int // opening quote of a quoted scalar never closed
	escape  int // backslash of an unknown escape in a double-quoted scalar
	open    int // outermost flow [ or { never closed
	stray   int // first ] or } that closes nothing
	alias   int // first alias to an anchor not defined before it
	deep    int // first bracket nested beyond maxDepth
	anchors map[string]int
}

// scanSyntax makes one linear pass over data.
func scanSyntax(data []byte) syntaxScan {
	s := syntaxScan{quote: -1, escape: -1, open: -1, stray: -1, alias: -1, deep: -1, anchors: map[string]int{}}
	defined := map[string]bool{} // anchors of the current document
	var stack []int
	tokenStart := true    // the next character may start a token
	lineIndent := 0       // indentation of the current line
	blockParent := -1     // indentation a block scalar's lines must exceed; -1 outside one
	pendingBlock := false // a block scalar indicator was seen on this line
	atLineStart := true
	flowEnd := func(i int) {
		if len(stack) > 0 && s.open < 0 {
			s.open = stack[0]
		}
		stack = stack[:0]
		_ = i
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if atLineStart {
			n := 0
			for i+n < len(data) && data[i+n] == ' ' {
				n++
			}
			rest := data[i+n:]
			blank := len(rest) == 0 || rest[0] == '\n' || rest[0] == '\r'
			if blockParent >= 0 && (blank || n > blockParent) {
				// A line of a block scalar: skip it whole.
				j := bytes.IndexByte(data[i:], '\n')
				if j < 0 {
					break
				}
				i += j
				continue
			}
			blockParent = -1
			atLineStart = false
			lineIndent = n
			if len(stack) == 0 {
				tokenStart = true
			}
			if n == 0 && (bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("..."))) &&
				(len(rest) == 3 || bytes.IndexByte([]byte(" \t\r\n"), rest[3]) >= 0) {
				flowEnd(i)
				clear(defined)
				i += 2
				tokenStart = true
				continue
			}
			i += n
			if i == len(data) {
				break
			}
			c = data[i]
		}
		switch c {
		case '\n':
			atLineStart = true
			if pendingBlock {
				blockParent = lineIndent
				pendingBlock = false
			}
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			if i == 0 || bytes.IndexByte([]byte(" \t\n"), data[i-1]) >= 0 {
				if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
					i += j - 1
					continue
				}
				return s
			}
		}
		if !tokenStart && len(stack) == 0 {
			// Inside a plain scalar of the block context, only ": " ends
			// a token.
			if c == ':' && (i+1 == len(data) || bytes.IndexByte([]byte(" \t\r\n"), data[i+1]) >= 0) {
				tokenStart = true
			}
			continue
		}
		switch c {
		case '"', '\'':
			if !tokenStart {
				continue
			}
			end := closeQuote(data, i, &s)
			if end < 0 {
				if s.quote < 0 {
					s.quote = i
				}
				return s
			}
			i = end
			tokenStart = false
		case '[', '{':
			if !tokenStart {
				continue
			}
			stack = append(stack, i)
			if len(stack) > maxDepth && s.deep < 0 {
				s.deep = i
			}
		case ']', '}':
			if len(stack) == 0 {
				if s.stray < 0 {
					s.stray = i
				}
				continue
			}
			if data[stack[len(stack)-1]] != opener(c) && s.stray < 0 {
				s.stray = i
			}
			stack = stack[:len(stack)-1]
			// After a flow collection of the block context nothing but a
			// comment may follow; let a stray closer show as one.
			tokenStart = len(stack) == 0
		case ',':
			tokenStart = len(stack) > 0
		case ':':
			if len(stack) > 0 || i+1 == len(data) || bytes.IndexByte([]byte(" \t\r\n"), data[i+1]) >= 0 {
				tokenStart = true
			} else {
				tokenStart = false
			}
		case '-', '?':
			if tokenStart && (i+1 == len(data) || bytes.IndexByte([]byte(" \t\r\n"), data[i+1]) >= 0) {
				continue
			}
			tokenStart = false
		case '|', '>':
			if tokenStart && len(stack) == 0 {
				pendingBlock = true
				if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
					i += j - 1
					continue
				}
				return s
			}
			tokenStart = false
		case '&', '*', '!':
			if !tokenStart {
				continue
			}
			name := aliasName(data[i:])
			switch c {
			case '&':
				defined[name] = true
				if _, ok := s.anchors[name]; !ok {
					s.anchors[name] = i
				}
			case '*':
				if !defined[name] && s.alias < 0 {
					s.alias = i
				}
			}
			i += len(name)
			// A node follows an anchor or a tag; an alias is a node.
			tokenStart = c != '*'
		default:
			tokenStart = false
		}
	}
	flowEnd(len(data))
	return s
}

func opener(c byte) byte {
	if c == ']' {
		return '['
	}
	return '{'
}

// closeQuote returns the offset of the quote that closes the quoted scalar
// opening at i, or -1. It records the first unknown escape.
func closeQuote(data []byte, i int, s *syntaxScan) int {
	q := data[i]
	for j := i + 1; j < len(data); j++ {
		switch {
		case q == '\'' && data[j] == '\'':
			if j+1 < len(data) && data[j+1] == '\'' {
				j++
				continue
			}
			return j
		case q == '"' && data[j] == '\\':
			if j+1 < len(data) && s.escape < 0 {
				if e := data[j+1]; bytes.IndexByte([]byte("0abt\tnvfre \"/\\N_LP\r\n"), e) < 0 && !hexEscape(data[j+1:]) {
					s.escape = j
				}
			}
			j++
		case q == '"' && data[j] == '"':
			return j
		}
	}
	return -1
}

// hexEscape reports whether b starts with x, u or U and as many
// hexadecimal digits as that escape takes.
func hexEscape(b []byte) bool {
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[b[0]]
	if n == 0 || len(b) < n+1 {
		return false
	}
	for _, c := range b[1 : n+1] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
