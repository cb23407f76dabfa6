// Package cache keeps compiled versions of a repository on disk, keyed by
// git object ids, so comparing with a commit compiled before costs almost
// nothing. An entry that is corrupt, truncated or written by another build
// of edgectl is a miss, never an error.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Dir is a cache directory.
type Dir struct {
	path string
}

// Open opens the cache at path, or else at $EDGECTL_CACHE_DIR, or else in
// the user's cache directory (~/.cache/edgectl on Linux).
func Open(path string) (*Dir, error) {
	if path == "" {
		path = os.Getenv("EDGECTL_CACHE_DIR")
	}
	if path == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find a cache directory: %w", err)
		}
		path = filepath.Join(base, "edgectl")
	}
	return &Dir{path: filepath.Join(path, "versions")}, nil
}

// magic starts every entry; the byte after it is the format version.
var magic = []byte("edgectl-cache\x00\x01")

// Key derives an entry's name from its parts, with this build's identity
// first so that other builds never read it.
func Key(parts ...string) string {
	h := sha256.New()
	h.Write([]byte(buildID()))
	for _, p := range parts {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (d *Dir) file(key string) string {
	return filepath.Join(d.path, key[:2], key)
}

// Get returns the entry for key. A missing or damaged entry is a miss.
func (d *Dir) Get(key string) ([]byte, bool) {
	data, err := os.ReadFile(d.file(key))
	if err != nil {
		return nil, false
	}
	payload, ok := unwrap(data)
	if !ok {
		_ = os.Remove(d.file(key)) // damaged: make room for a good one
		return nil, false
	}
	return payload, true
}

// Put stores an entry. It is written beside its final name and renamed
// into place, so a reader sees all of it or nothing.
func (d *Dir) Put(key string, payload []byte) error {
	p := d.file(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	_, err = f.Write(append(append(append([]byte{}, magic...), sum[:]...), payload...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

func unwrap(data []byte) ([]byte, bool) {
	if len(data) < len(magic)+sha256.Size || !bytes.Equal(data[:len(magic)], magic) {
		return nil, false
	}
	sum, payload := data[len(magic):len(magic)+sha256.Size], data[len(magic)+sha256.Size:]
	got := sha256.Sum256(payload)
	return payload, bytes.Equal(sum, got[:])
}

// buildID identifies the running executable: a new build of edgectl
// (another version, or the same source built again) never reads what an
// older one wrote, because translation may have changed between them.
var buildID = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(exe)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "unknown"
	}
	// The size and a few samples identify a binary well enough, without
	// reading all of it on every run.
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", fi.Size())
	buf := make([]byte, 4096)
	for i := range int64(16) {
		n, err := f.ReadAt(buf, i*fi.Size()/16)
		if err != nil && !errors.Is(err, io.EOF) && n == 0 {
			return "unknown"
		}
		h.Write(buf[:n])
	}
	return fmt.Sprintf("%x", h.Sum64())
})
