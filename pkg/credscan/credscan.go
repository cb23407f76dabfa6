// Package credscan finds authentication material that belongs on the
// Envoy host or at its issuer, never in a repository: password hashes as
// htpasswd files hold them, and JSON Web Key sets. Every search takes
// time linear in the length of the text.
package credscan

import (
	"bytes"
	"regexp"
)

// htpasswd hashes in the forms Apache's htpasswd writes them and Envoy's
// basic_auth or other proxies read: {SHA} with 28 characters of base64,
// Apache MD5 ($apr1$), bcrypt ($2a$, $2b$, $2y$) and the SHA-crypt forms
// ($5$, $6$). The whole hash must be there, so the prefixes alone (in
// prose, or in a regular expression) are not refused.
var htpasswd = regexp.MustCompile(`\{SHA\}[A-Za-z0-9+/]{27}=|\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}|\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$[56]\$(?:rounds=[0-9]+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43,86}`)

// HtpasswdIndex returns the offset of the first htpasswd password hash in
// b, or -1.
func HtpasswdIndex(b []byte) int {
	// Every hash the pattern knows starts with "$" or "{SHA}": most files
	// have neither, and are spared the regular expression.
	if bytes.IndexByte(b, '$') < 0 && !bytes.Contains(b, []byte("{SHA}")) {
		return -1
	}
	if loc := htpasswd.FindIndex(b); loc != nil {
		return loc[0]
	}
	return -1
}

// jwks is the start of a JSON Web Key set: an object whose "keys" array
// opens with an object holding "kty", possibly after other members of that
// object. Quotes may be JSON-escaped when the set is itself inside a JSON
// string.
var jwks = regexp.MustCompile(`\\?"keys\\?"\s*:\s*\[\s*\{[^{}\[\]]*?\\?"kty\\?"\s*:`)

// JWKSIndex returns the offset of the first JSON Web Key set in b, or -1.
// A single key ("kty" outside a "keys" array) is not a set and is left
// alone.
func JWKSIndex(b []byte) int {
	if !bytes.Contains(b, []byte("kty")) {
		return -1
	}
	if loc := jwks.FindIndex(b); loc != nil {
		return loc[0]
	}
	return -1
}
