// Package durable makes what was written survive a power loss: directory
// entries with SyncDir, and a whole tree of new files with SyncFS.
package durable

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SyncDir flushes a directory's entries: names created, renamed or removed
// in it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// SyncFS flushes the filesystem that holds dir (syncfs(2)): once it
// returns, every file and directory written under dir is on disk. One call
// replaces a sync of each file, which costs a journal commit apiece: a
// bundle of 10,000 files was written in 7 to 11 s with one fsync a file and
// in about 4 s with SyncFS on the 2-core machine of the benchmarks. It also
// waits for whatever else is being written to the filesystem; on Linux
// since 5.8 it reports write-back errors of files on it.
func SyncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync the filesystem of %s: %w", dir, err)
	}
	return nil
}
