package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputStableAcrossBuilds compiles the example with two edgectl
// binaries whose protobuf whitespace randomisation differs, and expects
// every file of every bundle to be byte-identical (apart from the
// manifest's record of the edgectl version).
//
// protobuf-go seeds that randomisation from the size and a few samples of
// the running binary; the test computes the same seed for each build and
// builds again, with a longer version string, until two seeds disagree.
// Without that, two builds can quietly share a seed and prove nothing.
func TestOutputStableAcrossBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds edgectl several times")
	}
	t.Parallel()
	dir := t.TempDir()
	type build struct {
		bin, version string
		bit          bool
	}
	var builds []build
	for i := 0; i < 12 && (len(builds) < 2 || builds[0].bit == builds[len(builds)-1].bit); i++ {
		version := "v" + strings.Repeat("9", i*97+1)
		bin := filepath.Join(dir, fmt.Sprintf("edgectl-%d", i))
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", bin, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		b := build{bin: bin, version: version, bit: seed(t, bin)%2 == 1}
		if len(builds) == 0 || b.bit != builds[0].bit {
			builds = append(builds, b)
		}
	}
	if len(builds) < 2 {
		t.Fatal("twelve builds all drew the same whitespace seed; cannot test")
	}
	var outs [2]string
	for i, b := range builds[:2] {
		outs[i] = filepath.Join(dir, fmt.Sprintf("out-%d", i))
		if msg, err := exec.Command(b.bin, "compile", "../../examples/acme", "-o", outs[i]).CombinedOutput(); err != nil {
			t.Fatalf("compile with %s: %v\n%s", b.bin, err, msg)
		}
	}
	files := 0
	err := filepath.WalkDir(outs[0], func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(outs[0], p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(outs[1], rel))
		if err != nil {
			return err
		}
		if filepath.Base(rel) == "manifest.json" {
			want = bytes.ReplaceAll(want, []byte(builds[0].version), nil)
			got = bytes.ReplaceAll(got, []byte(builds[1].version), nil)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs between builds", rel)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("compared only %d files", files)
	}
}

// seed computes the value protobuf-go's internal/detrand derives from a
// binary: an FNV-64 hash of its size and eight evenly spaced 64-byte samples.
func seed(t *testing.T, bin string) uint64 {
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64()
	var buf [64]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(fi.Size()))
	h.Write(buf[:8])
	for i := range int64(8) {
		if _, err := f.ReadAt(buf[:], i*fi.Size()/8); err != nil {
			t.Fatal(err)
		}
		h.Write(buf[:])
	}
	return h.Sum64()
}
