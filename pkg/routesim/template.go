package routesim

import (
	"fmt"
	"regexp"
	"strings"
)

// URI templates (envoy.path.match.uri_template and
// envoy.path.rewrite.uri_template) as documented:
//
//	*          one path segment
//	**         zero or more segments; nothing may glob after it
//	{name}     a variable matching one segment, like {name=*}
//	{name=a/*} a variable matching a sequence of literals and globs
//	v{name}    literal text around a variable inside one segment
//
// and a literal suffix after the last segment ("/**.mpd"). Literals are
// RFC 3986 pchars without "*"; a template has at most five variables,
// each named once with 1 to 16 characters.

const (
	templateLiteral = `a-zA-Z0-9\-._~%!$&'()+,;:@=`
	pathGlob        = `[` + templateLiteral + `]+`
	textGlob        = `[` + templateLiteral + `/]*`
)

var (
	templateLiteralRE = regexp.MustCompile(`^[` + templateLiteral + `]+$`)
	rewriteLiteralRE  = regexp.MustCompile(`^[` + templateLiteral + `/]+$`)
	variableNameRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
)

// uriTemplate is a compiled match template.
type uriTemplate struct {
	src  string
	re   *regexp.Regexp
	vars []string
}

type templateParser struct {
	vars     []string
	textGlob bool
}

func compileTemplate(src string) (*uriTemplate, error) {
	if !strings.HasPrefix(src, "/") || strings.IndexFunc(src, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return nil, fmt.Errorf("invalid path template %q", src)
	}
	p := &templateParser{}
	var b strings.Builder
	b.WriteString("^/")
	rest := src[1:]
	for first := true; rest != ""; first = false {
		seg, more, err := splitSegment(rest)
		if err != nil {
			return nil, fmt.Errorf("path template %q: %w", src, err)
		}
		if !first {
			b.WriteByte('/')
		}
		// A segment that is an operator or a variable may be followed by
		// a literal suffix ending the template ("/**.mpd", "/*.m4s").
		re, err := p.segment(seg, more == "")
		if err != nil {
			return nil, fmt.Errorf("path template %q: %w", src, err)
		}
		b.WriteString(re)
		rest = more
		if rest == "/" {
			b.WriteByte('/')
			break
		}
		rest = strings.TrimPrefix(rest, "/")
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("path template %q: %w", src, err)
	}
	return &uriTemplate{src: src, re: re, vars: p.vars}, nil
}

// splitSegment cuts the first segment of a template at a "/" outside
// braces, returning the rest from that "/".
func splitSegment(s string) (seg, rest string, err error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return "", "", fmt.Errorf("unmatched %q", "}")
			}
		case '/':
			if depth == 0 {
				if i == 0 {
					return "", "", fmt.Errorf("empty segment")
				}
				return s[:i], s[i:], nil
			}
		}
	}
	if depth != 0 {
		return "", "", fmt.Errorf("unmatched %q", "{")
	}
	return s, "", nil
}

func (p *templateParser) segment(seg string, last bool) (string, error) {
	// Operators, alone or followed by the template's literal suffix.
	if strings.HasPrefix(seg, "*") {
		n := 1
		if strings.HasPrefix(seg, "**") {
			n = 2
		}
		re, err := p.operator(seg[:n])
		if err != nil {
			return "", err
		}
		suffix := seg[n:]
		if suffix == "" {
			return re, nil
		}
		if !last || !templateLiteralRE.MatchString(suffix) {
			return "", fmt.Errorf("invalid literal %q", suffix)
		}
		return re + regexp.QuoteMeta(suffix), nil
	}
	open := strings.IndexByte(seg, '{')
	if open < 0 {
		if !templateLiteralRE.MatchString(seg) {
			return "", fmt.Errorf("invalid literal %q", seg)
		}
		return regexp.QuoteMeta(seg), nil
	}
	close := strings.LastIndexByte(seg, '}')
	before, inner, after := seg[:open], seg[open+1:close], seg[close+1:]
	for _, lit := range []string{before, after} {
		if lit != "" && !templateLiteralRE.MatchString(lit) {
			return "", fmt.Errorf("invalid literal %q", lit)
		}
	}
	name, match, hasMatch := strings.Cut(inner, "=")
	if err := p.variable(name); err != nil {
		return "", err
	}
	var body string
	if !hasMatch {
		if p.textGlob {
			return "", fmt.Errorf("variable %q globs after %q", name, "**")
		}
		body = pathGlob
	} else {
		if match == "" {
			return "", fmt.Errorf("variable %q has an empty match", name)
		}
		var parts []string
		for _, item := range strings.Split(match, "/") {
			var re string
			var err error
			if strings.HasPrefix(item, "*") {
				re, err = p.operator(item)
			} else if templateLiteralRE.MatchString(item) {
				re = regexp.QuoteMeta(item)
			} else {
				err = fmt.Errorf("invalid variable match %q", match)
			}
			if err != nil {
				return "", err
			}
			parts = append(parts, re)
		}
		body = strings.Join(parts, "/")
	}
	return regexp.QuoteMeta(before) + "(?P<" + name + ">" + body + ")" + regexp.QuoteMeta(after), nil
}

func (p *templateParser) operator(op string) (string, error) {
	if p.textGlob {
		return "", fmt.Errorf("glob %q after %q", op, "**")
	}
	switch op {
	case "*":
		return pathGlob, nil
	case "**":
		p.textGlob = true
		return textGlob, nil
	}
	return "", fmt.Errorf("invalid operator %q", op)
}

func (p *templateParser) variable(name string) error {
	switch {
	case !variableNameRE.MatchString(name):
		return fmt.Errorf("invalid variable name %q", name)
	case len(name) > 16:
		return fmt.Errorf("variable name %q is longer than 16 characters", name)
	case len(p.vars) == 5:
		return fmt.Errorf("more than 5 variables")
	}
	for _, v := range p.vars {
		if v == name {
			return fmt.Errorf("repeated variable %q", name)
		}
	}
	p.vars = append(p.vars, name)
	return nil
}

func (t *uriTemplate) match(path string) bool { return t.re.MatchString(path) }

// rewriteTemplate is a compiled path_template_rewrite: literals and
// variables of the match template.
type rewriteTemplate struct {
	src   string
	parts []rewritePart
}

type rewritePart struct {
	literal string
	group   int // capture group of the match template, 0 for a literal
}

func compileRewrite(src string, match *uriTemplate) (*rewriteTemplate, error) {
	if !strings.HasPrefix(src, "/") {
		return nil, fmt.Errorf("invalid path template rewrite %q", src)
	}
	rt := &rewriteTemplate{src: src}
	rest := src
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			open = len(rest)
		}
		if open > 0 {
			if !rewriteLiteralRE.MatchString(rest[:open]) {
				return nil, fmt.Errorf("path template rewrite %q: invalid literal %q", src, rest[:open])
			}
			rt.parts = append(rt.parts, rewritePart{literal: rest[:open]})
			rest = rest[open:]
			continue
		}
		close := strings.IndexByte(rest, '}')
		if close < 0 {
			return nil, fmt.Errorf("path template rewrite %q: unmatched %q", src, "{")
		}
		name := rest[1:close]
		g := match.re.SubexpIndex(name)
		if g < 0 {
			return nil, fmt.Errorf("path template rewrite %q: variable %q is not in the match template %q", src, name, match.src)
		}
		rt.parts = append(rt.parts, rewritePart{group: g})
		rest = rest[close+1:]
	}
	return rt, nil
}

// rewrite builds the new path from the variables of path. Like Envoy, the
// result has no query string.
func (rt *rewriteTemplate) rewrite(match *uriTemplate, path string) (string, bool) {
	sub := match.re.FindStringSubmatch(path)
	if sub == nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range rt.parts {
		if p.group == 0 {
			b.WriteString(p.literal)
		} else {
			b.WriteString(sub[p.group])
		}
	}
	return b.String(), true
}
