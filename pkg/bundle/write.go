package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/edgectl/edgectl/internal/durable"
	"github.com/edgectl/edgectl/pkg/source"
)

// WriteOutput writes bundles into dir, one subdirectory per gateway, and
// replaces whatever an earlier compile left there in one step: readers see
// the old tree or the new one, never a mix, and gateways that no longer
// exist disappear. A directory that is neither empty nor an earlier output
// is refused rather than overwritten.
func WriteOutput(dir string, bundles []*Bundle) error {
	dir = filepath.Clean(dir)
	for _, b := range bundles {
		if err := checkNoKeys(b); err != nil {
			return err
		}
	}
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp) // after a swap it holds the old tree
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(tmp, source.OutputMarker), nil); err != nil {
		return err
	}
	for _, b := range bundles {
		if err := writeTree(filepath.Join(tmp, b.Gateway), b.Files); err != nil {
			return err
		}
	}
	// Every file and directory of the new tree at once, before it is
	// swapped in.
	if err := durable.SyncFS(tmp); err != nil {
		return err
	}
	return swap(tmp, dir)
}

func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read output directory: %w", err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, source.OutputMarker)); err != nil {
		return fmt.Errorf("output directory %s is not empty and was not written by edgectl; choose another or empty it", dir)
	}
	return nil
}

// writeTree writes files under root; the caller syncs them.
func writeTree(root string, files []File) error {
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
		}
		if err := writeFile(p, f.Data); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// swap puts the directory tmp at dir. An existing dir is exchanged with tmp
// atomically where the kernel can (renameat2 RENAME_EXCHANGE), so tmp then
// holds the old tree for the caller to remove.
func swap(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("move output into place: %w", err)
		}
		return durable.SyncDir(filepath.Dir(dir))
	}
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		// No atomic exchange on this filesystem: move the old tree aside
		// first. A crash between the two renames leaves it beside dir.
		old := tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("move old output aside: %w", err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("move output into place: %w", err)
		}
		defer os.RemoveAll(old)
		return durable.SyncDir(filepath.Dir(dir))
	}
	if err != nil {
		return fmt.Errorf("swap output into place: %w", err)
	}
	return durable.SyncDir(filepath.Dir(dir))
}
