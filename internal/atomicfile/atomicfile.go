// Package atomicfile writes files so that readers see either the old content
// or the complete new content, never a partial file: the data goes to a
// temporary file in the destination's directory, which is flushed to stable
// storage and then renamed over the destination (rename is atomic within a
// file system on POSIX systems and replaces the target on Windows).
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes path with the bytes that write produces. The data goes to
// a temporary file next to path (same directory, so the final rename stays on
// one file system), created with permission perm (before the umask), which is
// synced and renamed to path once write returned nil. On any error, or if
// write panics, the temporary file is removed and path is left untouched.
// The writer given to write is buffered; write must not retain it.
func WriteFile(path string, write func(w io.Writer) error, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("atomicfile: %q names a directory, not a file", path)
	}
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTemp(dir, base, perm)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		done = true
		return fmt.Errorf("atomicfile: %w", err)
	}
	done = true
	syncDir(dir)
	return nil
}

// createTemp opens a new file ".base.tmp-XXXXXXXX" in dir with O_EXCL, so a
// concurrent writer never shares it, and with perm so that the umask applies
// as it would for os.WriteFile.
func createTemp(dir, base string, perm os.FileMode) (*os.File, string, error) {
	var lastErr error
	for range 100 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, "", fmt.Errorf("atomicfile: %w", err)
		}
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("atomicfile: %w", err)
		}
		lastErr = err
	}
	return nil, "", fmt.Errorf("atomicfile: no free temporary name in %s: %w", dir, lastErr)
}

// syncDir flushes the directory entry of the rename where the platform
// allows it; failure only weakens durability after a crash, not atomicity, so
// it is ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
