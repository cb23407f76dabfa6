package bundle

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	rlsconfv3 "github.com/envoyproxy/go-control-plane/ratelimit/config/ratelimit/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// RateLimitConfigs reads the bundle's rate-limit configurations back into
// the reference service's types, each named after its service, sorted by
// name.
func (b *Bundle) RateLimitConfigs() ([]*rlsconfv3.RateLimitConfig, error) {
	var out []*rlsconfv3.RateLimitConfig
	for _, f := range b.Files { // sorted by path, so by service
		if path.Dir(f.Path) != RateLimitDir {
			continue
		}
		c, err := parseRateLimitFile(f.Path, f.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseRateLimitFile(p string, data []byte) (*rlsconfv3.RateLimitConfig, error) {
	service, ok := strings.CutPrefix(path.Base(p), "ratelimit-")
	service, ok2 := strings.CutSuffix(service, ".yaml")
	if !ok || !ok2 || service == "" {
		return nil, fmt.Errorf("%s: not the name of a rate-limit configuration", p)
	}
	js, err := yamlToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	c := &rlsconfv3.RateLimitConfig{}
	if err := protojson.Unmarshal(unitCase(js, strings.ToUpper), c); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	c.Name = service
	return c, nil
}

// unitField is a rate limit's unit in compact JSON. Only RateLimitPolicy
// has a field named unit, and a quote inside a string value is escaped, so
// the pattern never matches inside a descriptor's key or value.
var unitField = regexp.MustCompile(`"unit":"[A-Za-z]+"`)

// unitCase rewrites the units of a rate-limit configuration in compact
// JSON: lower case as the reference service documents them, upper case as
// protojson reads its enum names.
func unitCase(js []byte, to func(string) string) []byte {
	return unitField.ReplaceAllFunc(js, func(m []byte) []byte {
		return []byte(`"unit":` + to(string(m[len(`"unit":`):])))
	})
}
