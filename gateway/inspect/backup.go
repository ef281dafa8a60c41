package inspect

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"ecardgw/store"
)

// BackupOptions shape SaveBackup.
type BackupOptions struct {
	// StorePath is the live store; a backup onto it is refused.
	StorePath string
	// Force replaces an existing file at the destination.
	Force bool
}

// SaveBackup writes a backup to path safely: fill writes the store's
// bytes (DB.Backup or FetchBackup) into path+".tmp" (mode 0600), which is
// fsynced, checked by opening it with store.Open (full consistency check)
// and only then renamed to path; the directory is fsynced so the rename
// survives a crash. On any failure the temporary file is removed and path
// is untouched. It returns the backup's size.
func SaveBackup(path string, o BackupOptions, fill func(io.Writer) (int64, error)) (int64, error) {
	if o.StorePath != "" && samePath(path, o.StorePath) {
		return 0, fmt.Errorf("%w: %s", ErrSameFile, path)
	}
	if _, err := os.Stat(path); err == nil && !o.Force {
		return 0, fmt.Errorf("%w: %s (choose another name or force)", ErrExists, path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	// Verified before the rename, so path only ever holds a good copy.
	return writeAtomic(path, fill, verify)
}

// WriteAtomic writes a file that appears whole or not at all: fill
// writes path+".tmp" (mode 0600), which is fsynced and renamed to path,
// and the directory is fsynced. On failure the temporary file is removed.
func WriteAtomic(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	return writeAtomic(path, fill, nil)
}

// writeAtomic is WriteAtomic with a check of the written temporary file
// before it is renamed into place.
func writeAtomic(path string, fill func(io.Writer) (int64, error), check func(tmp string) error) (int64, error) {
	tmp := path + ".tmp"
	n, err := writeSynced(tmp, fill)
	if err == nil && check != nil {
		err = check(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = store.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	return n, nil
}

// writeSynced creates (or truncates) path with mode 0600, fills it and
// fsyncs it before closing.
func writeSynced(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	// A stale file from an interrupted run keeps its old mode under
	// O_TRUNC; the copy holds card numbers, so it must be 0600.
	err = f.Chmod(0o600)
	var n int64
	if err == nil {
		bw := bufio.NewWriterSize(f, 1<<20)
		n, err = fill(bw)
		if err == nil {
			err = bw.Flush()
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// verify opens a copy read-only with the full consistency check, which
// also refuses a newer schema.
func verify(path string) error {
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("the copy does not open: %w", err)
	}
	return db.Close()
}

// samePath reports whether a and b name the same file: the same inode
// when both exist, else the same cleaned absolute path.
func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	aa, errA := filepath.Abs(a)
	ab, errB := filepath.Abs(b)
	return errA == nil && errB == nil && aa == ab
}
