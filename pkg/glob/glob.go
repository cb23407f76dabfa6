// Package glob matches slash-separated repository paths against patterns
// such as "teams/payments/**" or "**/*.yaml".
//
// A pattern matches the whole path. "**" as a whole segment matches zero or
// more segments; every other segment is matched by path.Match, so "*" never
// crosses a "/".
package glob

import (
	"fmt"
	"path"
	"strings"
)

// Valid reports whether pattern is well formed.
func Valid(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("empty pattern")
	}
	if strings.HasPrefix(pattern, "/") {
		return fmt.Errorf("pattern %q must be relative to the directory holding edgectl.yaml", pattern)
	}
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return fmt.Errorf("pattern %q: ** must be a whole path segment", pattern)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", pattern, err)
		}
	}
	return nil
}

// Match reports whether name matches pattern. An invalid pattern matches nothing.
func Match(pattern, name string) bool {
	return match(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func match(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(name); i++ {
				if match(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// Any reports whether name matches one of patterns, and returns the index of
// the first that does, or -1.
func Any(patterns []string, name string) int {
	for i, p := range patterns {
		if Match(p, name) {
			return i
		}
	}
	return -1
}
