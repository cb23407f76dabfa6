package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPutGet(t *testing.T) {
	t.Parallel()
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key("version", "tree abc")
	if _, ok := d.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := d.Put(k, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	if got, ok := d.Get(k); !ok || string(got) != "payload" {
		t.Fatalf("Get = %q %v", got, ok)
	}
	if Key("version", "tree abc") != k || Key("version", "tree abd") == k || Key("versiont", "ree abc") == k {
		t.Error("keys must depend on every part and its boundaries")
	}
}

// TestDamagedEntriesAreMisses corrupts an entry every way a crash or a disk
// can and expects a miss, not an error or wrong data.
func TestDamagedEntriesAreMisses(t *testing.T) {
	t.Parallel()
	d, _ := Open(t.TempDir())
	k := Key("x")
	damage := map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)-3] },
		"bit flipped":  func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"empty":        func([]byte) []byte { return nil },
		"other format": func(b []byte) []byte { b[len(magic)-1] = 9; return b },
		"garbage": func([]byte) []byte {
			return []byte("not a cache entry at all, but long enough to have a checksum........")
		},
	}
	for name, f := range damage {
		if err := d.Put(k, []byte("good payload")); err != nil {
			t.Fatal(err)
		}
		p := d.file(k)
		data, _ := os.ReadFile(p)
		if err := os.WriteFile(p, f(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := d.Get(k); ok {
			t.Errorf("%s: hit with %q", name, got)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: damaged entry left in place", name)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(d.path, "*", ".tmp-*")); len(entries) > 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}
