package yamlfast

import (
	"testing"
)

// cases are streams the fast parser reads (fast) or must leave to yaml.v3;
// either way a Decoder must give what yaml.v3 gives.
var cases = []struct {
	name string
	src  string
	fast bool
}{
	// Streams and documents.
	{"empty", "", true},
	{"newline", "\n", true},
	{"spaces", "   \n  \n", true},
	{"separator only", "---", true},
	{"separator and newline", "---\n", true},
	{"separator and spaces", "---   \n", true},
	{"separator then spaces", "---\n  ", true},
	{"separators", "---\n---\n", true},
	{"separators and blank lines", "---\n\n---\n\n\n", true},
	{"leading separator", "---\na: 1\n", true},
	{"documents", "a: 1\n---\nb: 2\n---\n- c\n", true},
	{"trailing separator", "a: 1\n---\n", true},
	{"trailing separator without newline", "a: 1\n---", true},
	{"no trailing newline", "a: 1\nb: 2", true},
	{"flow after separator", "--- {a: 1}\n", true},
	{"flow after separator then document", "--- [a, b]\n---\nc: d\n", true},
	{"scalar after separator", "--- hello\n", true},
	{"quoted after separator", "--- 'hello'\n---\n", true},
	{"scalar document", "hello", true},
	{"scalar document and newline", "hello\n\n", true},
	{"quoted document", "\"a\\tb\"\n", true},
	{"flow document", "{a: [1, 2]}\n", true},
	{"indented document", "\n\n  a: 1\n  b:\n", true},
	{"indented sequence document", "  - a\n  - b\n", true},
	{"mapping after separator", "--- a: 1\n", false},
	{"entry after separator", "--- - a\n", false},
	{"scalar after separator continued", "--- a\nb\n", false},
	{"implicit second document", "a: 1\n...\nb: 2\n", false},
	{"document end", "a: 1\n...\n", false},
	{"separator text", "---a: 1\n", false},
	{"dots text", "...a: 1\n", false},
	{"directive", "%YAML 1.2\n---\na: 1\n", false},
	{"content after flow document", "[a]\nb\n", false},

	// Block mappings and sequences.
	{"mapping", "a: 1\nb: two\n", true},
	{"nested mappings", "a:\n  b:\n    c: d\n  e: f\ng: h\n", true},
	{"deep indentation", "a:\n        b: 1\n        c: 2\n", true},
	{"sequence in mapping", "a:\n  - x\n  - y\nb: 1\n", true},
	{"indentless sequence", "a:\n- x\n- y\nb: 1\n", true},
	{"indentless sequence at end", "a:\n- x\n- y", true},
	{"indentless sequence of mappings", "a:\n- b: 1\n  c: 2\n- d: 3\ne: 4\n", true},
	{"indentless empty entries", "a:\n-\n- \nb: 1\n-\n", false},
	{"indentless empty entry then key", "a:\n-\nb: 1\n", true},
	{"nested sequences", "- - a\n  - b\n- - - c\n", true},
	{"dash dash x", "- - x\n", true},
	{"sequence of mappings", "- name: a\n  value: 1\n- name: b\n  value: 2\n", true},
	{"mapping in sequence in mapping", "spec:\n  routes:\n  - name: r\n    match:\n      path: /a\n    backends:\n    - name: x\n      weight: 1\n", true},
	{"item with extra spaces", "-   a: 1\n    b: 2\n-    x\n", true},
	{"entry on its own line", "-\n  a: 1\n-\n  - b\n", true},
	{"scalar on entry's next line", "-\n  a\n", false},
	{"scalar on key's next line", "a:\n  b\n", false},
	{"flow on key's next line", "a:\n  [b]\n", false},
	{"mapping then entry", "a: 1\n- b\n", false},
	{"sequence then key", "- a\nb: 1\n", false},
	{"bad dedent", "a:\n    b: 1\n  c: 2\n", false},
	{"bad dedent in sequence", "- a: 1\n    b: 2\n", false},
	{"bad dedent after compact mapping", "- a: 1\n b: 2\n", false},
	{"entry after value", "a: - b\n", false},
	{"value after value", "a: b: c\n", false},
	{"key without value", "a\nb: 1\n", false},
	{"more indented scalar", "a: b\n  c\n", false},
	{"more indented after quoted", "a: 'b'\n  c\n", false},
	{"more indented after flow", "a: [b]\n  c\n", false},
	{"less indented scalar", "  a: b\nc\n", false},

	// Empty values.
	{"empty value", "a:\nb: 1\n", true},
	{"empty value with spaces", "a:   \nb: 1\n", true},
	{"empty value at end", "a: 1\nb:", true},
	{"empty value before dedent", "a:\n  b:\nc:\n", true},
	{"empty values in sequence", "- a:\n  b:\n-\n- \n", true},
	{"empty entry at end", "- a\n-", true},
	{"empty value before separator", "a:\n---\nb:\n", true},
	{"empty value then blank lines", "a:\n\n\n  \nb:\n", true},

	// Scalars.
	{"extra spaces", "key:    value\n", true},
	{"trailing spaces", "key: value   \nother: x  \n", true},
	{"inner spaces", "key: a  b   c\n", true},
	{"single quoted", "key: 'it''s'\n", true},
	{"single quoted doubled at end", "key: 'a'''\n", true},
	{"single quoted empty", "key: ''\n", true},
	{"double quoted escapes", "key: \"a\\tb\\u00e9\"\n", true},
	{"double quoted all escapes", "key: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\\"\\/\\\\\"\n", false},
	{"double quoted known escapes", "key: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\\"\\'\\\\\\N\\_\\L\\P\"\n", true},
	{"double quoted hex escapes", "key: \"\\x41\\x7f\\x80\\xff\\u0041\\u20AC\\U0001F600\\U0010ffff\"\n", true},
	{"double quoted surrogate", "key: \"\\ud800\"\n", false},
	{"double quoted beyond unicode", "key: \"\\U00110000\"\n", false},
	{"double quoted short hex", "key: \"\\x4\"\n", false},
	{"double quoted unknown escape", "key: \"\\q\"\n", false},
	{"double quoted escaped line break", "key: \"a\\\n  b\"\n", false},
	{"double quoted spaces", "key: \"  a  b  \"\n", true},
	{"double quoted empty", "key: \"\"\n", true},
	{"quoted multi-line", "key: 'a\n  b'\n", false},
	{"unterminated quote", "key: 'a\n", false},
	{"quoted keys", "'a b': 1\n\"c\": 2\n'': 3\n", true},
	{"quoted key with spaces before colon", "'a'   : 1\n", true},
	{"quoted key then text", "'a'b: 1\n", false},
	{"quoted key colon without space", "'a':b\n", false},
	{"quoted value then text", "a: 'b' c\n", false},
	{"colon in plain", "a: b:c\nurl: http://x:80/y\n", true},
	{"colon at start of plain", "a: :b\n", false},
	{"colon at end of value", "a: http:\n", false},
	{"plain key with colon", "a:b: c\n", true},
	{"colon in quotes", "a: 'b: c'\nd: \"e: f\"\n", true},
	{"hash in plain", "a: b#c\n", true},
	{"hash in quotes", "a: 'b #c'\n", true},
	{"negative number", "- -1\n- -x\n- --\n", true},
	{"dash value", "a: -\n", false},
	{"three dashes value", "a: ---\nb:\n- ---\n", true},
	{"indicators inside plain", "a: b[c]{d},e?f&g*h!i|j>k'l\"m%n@o`p\n", true},
	{"question mark key", "? a\n: b\n", false},
	{"question mark plain", "a: ?b\n", false},
	{"anchor and alias", "a: &x 1\nb: *x\n", false},
	{"tag", "a: !!str 1\n", false},
	{"local tag", "a: !foo 1\n", false},
	{"literal block", "a: |\n  b\n", false},
	{"folded block", "a: >\n  b\n", false},
	{"merge key", "a: {b: 1}\n<<: {c: 2}\n", false},
	{"merge value", "a: <<\n", false},
	{"at sign", "a: @b\n", false},
	{"backquote", "a: `b\n", false},
	{"percent", "a: %b\n", false},
	{"long key", "a" + string(make100('k', 1100)) + ": 1\n", false},
	{"long value", "a: " + string(make100('v', 5000)) + "\n", true},

	// Comments: yaml.v3 keeps them in the nodes, the fast parser drops
	// them; neither moves a node.
	{"comment line", "# c\na: 1\n", true},
	{"comment only", "# c\n", true},
	{"comment only without newline", "# c", true},
	{"comment lines only", "# a\n  # b\n\n#c\n   #\n", true},
	{"hash only", "#", true},
	{"comment then separator", "# c\n---\na: 1\n", true},
	{"comment after separator", "--- # c\na: 1\n", true},
	{"comment after separator at end", "--- # c", true},
	{"comment after separator then empty document", "--- #c\n--- #d\n", true},
	{"separator and hash", "---#c\na: 1\n", false},
	{"comments between documents", "a: 1\n# end of a\n---\n# start of b\nb: 2\n  # end\n", true},
	{"comments in empty documents", "---\n# c\n---\n  # d\n", true},
	{"comment in empty document at end", "---\n# c", true},
	{"comment after scalar document", "hello # c\n", true},
	{"comment after scalar after separator", "--- hello # c\n---\n", true},
	{"comment after flow after separator", "--- [a] # c\n", true},
	{"comment after quoted after separator", "--- 'a' #c\n", true},
	{"trailing comments", "a: 1 # c\nb: two  # d\nc: x y #e\n", true},
	{"trailing comment without newline", "a: 1 # c", true},
	{"comment on key with nested value", "a: # c\n  b: 1\n", true},
	{"comment on key with empty value", "a: # c\nb: 1\n", true},
	{"comment on key with empty value at end", "a: # c", true},
	{"comment on key before dedent", "a:\n  b: # c\nd: 1\n", true},
	{"comment on key with spaces before colon", "a : # c\n", true},
	{"comment on quoted key", "'a': # c\n  b: 1\n\"c\": #d\n", true},
	{"hash value", "key: #notcomment\n", true},
	{"hash after colon", "a:#b\n", true},
	{"hashes in plain", "a: b#c#d e#f#\n", true},
	{"hash after space", "a: b #c\n", true},
	{"comment after a would-be key", "a #c: 1\n", true},
	{"comment between key and value", "a:\n  # c\n  b: 1\n", true},
	{"comment between key and indentless sequence", "a:\n# c\n- x\n  # d\n- y\n# e\nb: 1\n", true},
	{"comments at odd indentation in a mapping", "a:\n  b: 1\n      # c\n# d\n  c: 2\n # e\nd: 3\n   # f\n", true},
	{"comments at odd indentation in a sequence", "- a\n      # c\n # d\n# e\n- b\n  # f\n", true},
	{"comments at odd indentation in a nested sequence", "a:\n  - b\n# c\n  - c:\n     # d\n      - e\n # f\n    d: 1\n", true},
	{"comment before dedent", "a:\n  b:\n    # c\nd: 1\n", true},
	{"comment on entries", "- a # c\n- # d\n  b: 1\n-  # e\n", true},
	{"comment on empty entry", "- # c\n- b\n", true},
	{"comment on entry before nested sequence", "- # c\n  - x\n  - y\n", true},
	{"comment on nested entry", "- - a # c\n  - b\n", true},
	{"comment on compact mapping", "- a: 1 # c\n  b: # d\n  c: [e] # f\n", true},
	{"comment line in compact mapping", "- a: 1\n# c\n  b: 2\n", true},
	{"comment on flow collections", "a: [b, c] # d\nb: {e: f}   # g\n", true},
	{"comment inside flow", "a: [b # c\n  ]\n", false},
	{"comment before flow close", "a: [b #c]\n", false},
	{"comment after quoted", "a: 'b' # c\nd: \"e\" #f\n", true},
	{"hash after quote", "a: 'b'#c\n", false},
	{"hash after double quote", "a: \"b\"#c\n", false},
	{"hash after flow", "a: [b]#c\n", false},
	{"hash after quoted key", "'a'#c: 1\n", false},
	{"comment with dashes", "# ---\na: 1\n  # ...\n", true},
	{"dots after comment", "# c\n...\n", false},
	{"long comment", "# " + string(make100('x', 5000)) + "\na: 1 # " + string(make100('y', 3000)) + "\n", true},
	{"spaces before comment", "a: 1" + string(make100(' ', 600)) + "# c\nb:" + string(make100(' ', 600)) + "# d\n", true},
	{"blank lines between comments", "a:\n # c" + string(make100('\n', 600)) + "  # d\n  b: 1\n", true},
	{"tab before comment", "a: 1\t# c\n", false},
	{"tab in comment", "# a\tb\n", false},
	{"utf-8 in comments", "# café\na: 1 # ünïcode ✓ 😀\n  # ¡\n", true},
	{"utf-8 before comment", "a: é # c\n", false},
	{"utf-8 in a comment then in a value", "# é\na: é\n", false},
	{"utf-8 in quotes before comment", "a: 'é' # é\n", false},
	{"line separator in comment", "a: 1 # x\u2028b: 2\n", false},
	{"paragraph separator in comment", "# x\u2029\na: 1\n", false},
	{"next line in comment", "# x\u0085\na: 1\n", false},
	{"c1 control in comment", "# \u0080\n", false},
	{"bom in comment", "# \ufeff\n", false},
	{"noncharacter in comment", "# \uffff\n", false},
	{"invalid utf-8 in comment", "# \xff\n", false},
	{"truncated utf-8 in comment", "# \xc3", false},
	{"delete in comment", "# \x7f\n", false},

	// Resolved tags.
	{"values", "- 1\n- 1.5\n- 0x1F\n- 0o17\n- 017\n- 0b101\n- -0b11\n- 1_000\n- 1e3\n- .5\n- +.inf\n- -.Inf\n- .nan\n- 99999999999999999999\n- 18446744073709551615\n- 1__0\n- 1.5.5\n", true},
	{"words", "- true\n- True\n- TRUE\n- tRUE\n- yes\n- Yes\n- no\n- on\n- off\n- y\n- n\n- false\n- False\n- null\n- Null\n- NULL\n- ~\n- nil\n- o\n", true},
	{"quoted words", "- 'true'\n- \"1\"\n- ''\n- \"null\"\n- '~'\n", true},
	{"timestamps", "- 2026-11-30\n- 2026-11-30T10:00:00Z\n- 2026-11-30 10:00:00\n- 2026-1-3\n- 2026-13-40\n- 12345-01-01\n", true},
	{"keys of every type", "1: a\ntrue: b\nnull: c\n1.5: d\n~: e\n2026-01-01: f\n", true},
	{"symbols", "- /path\n- _x\n- $x\n- ^x\n- (x)\n- =x\n- .x\n- +x\n- ~x\n- <x\n- \\x\n", true},
	{"ports and sizes", "- 8080\n- 500ms\n- 5xx\n- 10.0.0.1\n- 1m\n- 0.5\n", true},

	// Flow collections.
	{"flow mapping", "a: {b: 1, c: two}\n", true},
	{"flow sequence", "a: [1, two, 'three', \"four\"]\n", true},
	{"flow nested", "a: {b: [1, [2, 3]], c: {d: {e: f}}}\n", true},
	{"flow empty", "a: []\nb: {}\nc: [ ]\nd: { }\n", true},
	{"flow tight", "a: [b,c]\nd: {e: f,g: h}\n", true},
	{"flow spaced", "a: [  b  ,  c  ]\nd: {  e  :  f  }\n", true},
	{"flow json", "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}\n", true},
	{"flow quoted value adjacent", "{a: 'b',c: \"d\"}\n", true},
	{"flow trailing comma", "a: [b, c,]\n", false},
	{"flow empty entry", "a: [b, , c]\n", false},
	{"flow key without value", "a: {b, c: d}\n", false},
	{"flow empty value", "a: {b: , c: d}\n", false},
	{"flow pair in sequence", "a: [b: c]\n", false},
	{"flow multi-line", "a: [b,\n  c]\n", false},
	{"flow unclosed", "a: [b, c\n", false},
	{"flow plain with colon", "a: [b:c, http://x:80/y, 2001:db8::/48]\n", true},
	{"flow plain with colon before comma", "a: [b:, c]\n", false},
	{"flow plain with colon before bracket", "a: [b:]\n", false},
	{"flow quoted key in sequence", "a: ['d':e]\n", false},
	{"flow key with colon", "a: {b:c: d}\n", true},
	{"flow key with colon and no value", "a: {b:c}\n", false},
	{"flow plain with space colon", "a: {b c: d e}\n", true},
	{"flow plain with question mark", "a: [b?c]\n", false},
	{"flow comment", "a: [b, #c\n  d]\n", false},
	{"flow hash in plain", "a: [b#c]\n", true},
	{"flow as key", "[a]: b\n", false},
	{"flow mapping as key", "{a: 1}: b\n", false},
	{"flow then text", "a: [b] c\n", false},
	{"flow negative", "a: [-1, -x]\n", true},
	{"flow dash", "a: [-]\n", false},
	{"flow dash space", "a: [- b]\n", false},
	{"flow in sequence", "- [a, b]\n- {c: d}\n", true},
	{"flow mapping in flow sequence", "[{a: 1}, {b: 2}]\n", true},
	{"flow question key", "{? a: b}\n", false},

	// Characters the fast parser does not read.
	{"tab", "a:\tb\n", false},
	{"tab indentation", "a:\n\tb: 1\n", false},
	{"carriage return", "a: 1\r\nb: 2\r\n", false},
	{"bom", "\ufeffa: 1\n", false},
	{"utf-8", "a: é\n", false},
	{"control character", "a: \x01\n", false},
	{"delete", "a: \x7f\n", false},
	{"nul", "a: \x00\n", false},

	// Syntax errors, which yaml.v3 reports.
	{"unclosed flow", "a: {b: 1\n", false},
	{"bad indentation", "a: 1\n  b: 2\n", false},
	{"stray closing bracket", "a: ]\n", false},
	{"stray colon", ": a\n", false},
}

func make100(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// TestAgreesWithYAMLv3 decodes each case with a Decoder and with yaml.v3,
// and checks that the fast parser reads the cases it must read.
func TestAgreesWithYAMLv3(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tt := range cases {
		if seen[tt.name] {
			t.Fatalf("two cases named %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if d := agree([]byte(tt.src)); d != "" {
				t.Errorf("yamlfast and yaml.v3 differ on %q: %s", tt.src, d)
			}
			if _, ok := parseFast([]byte(tt.src)); ok != tt.fast {
				t.Errorf("parseFast(%q) ok = %v, want %v", tt.src, ok, tt.fast)
			}
		})
	}
}
