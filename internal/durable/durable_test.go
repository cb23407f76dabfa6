package durable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyncs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SyncFS(dir); err != nil {
		t.Fatalf("SyncFS: %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	for name, sync := range map[string]func(string) error{"SyncFS": SyncFS, "SyncDir": SyncDir} {
		if err := sync(missing); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s of a missing directory: %v, want an error naming it", name, err)
		}
	}
}
