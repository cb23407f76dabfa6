package patch

import (
	"errors"
	"testing"
)

func TestProtoError(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"proto: (line 1:25): unknown field \"keepalive\"":              `unknown field "keepalive"`,
		"proto:\u00a0(line 1:25): unknown field \"keepalive\"":         `unknown field "keepalive"`,
		"proto: syntax error (line 1:20): unexpected token 5":          "syntax error: unexpected token 5",
		"proto:\u00a0syntax error (line 12:3): unexpected token \"x\"": `syntax error: unexpected token "x"`,
		"proto: google.protobuf.Duration: invalid duration":            "google.protobuf.Duration: invalid duration",
	} {
		if got := protoError(errors.New(in)); got != want {
			t.Errorf("protoError(%q) = %q, want %q", in, got, want)
		}
	}
}
