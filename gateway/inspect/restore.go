package inspect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"ecardgw/store"
)

// KeptSuffix is added to the store being replaced by a restore, with the
// UTC time: ecardgw.db.before-restore-20261126T013000Z.
const KeptSuffix = ".before-restore-"

// Restore replaces the store at storePath with a copy of the backup src.
// It refuses while a gateway holds the store (store.ErrLocked), and a
// backup that does not open or has a newer schema. The store it replaces
// is kept beside it as storePath+KeptSuffix+<UTC time>, whose name it
// returns ("" when there was no store). src itself is left as it was, so
// the backup stays a backup.
func Restore(storePath, src string, now time.Time) (kept string, err error) {
	if samePath(src, storePath) {
		return "", fmt.Errorf("%w: %s", ErrSameFile, src)
	}
	if err := verify(src); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	old, err := lockStore(storePath)
	if err != nil {
		return "", err
	}
	if old != nil {
		// Held until the swap is done: a gateway starting meanwhile waits
		// for the lock (and then opens the restored file by name).
		defer old.Close()
	}
	tmp := storePath + ".restore.tmp"
	_, err = writeSynced(tmp, func(w io.Writer) (int64, error) {
		f, err := os.Open(src)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.Copy(w, f)
	})
	if err == nil {
		err = verify(tmp)
	}
	if err == nil && old != nil {
		err = sameOwner(tmp, old)
	}
	if err == nil && old != nil {
		kept = storePath + KeptSuffix + now.UTC().Format("20060102T150405Z")
		if _, serr := os.Lstat(kept); serr == nil {
			err = fmt.Errorf("%w: %s", ErrExists, kept)
		} else {
			err = os.Rename(storePath, kept)
		}
	}
	if err == nil {
		if err = os.Rename(tmp, storePath); err != nil && kept != "" {
			// Put the old store back rather than leave no store at all.
			_ = os.Rename(kept, storePath)
		}
	}
	if err == nil {
		err = store.SyncDir(filepath.Dir(storePath))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return kept, nil
}

// lockStore takes bbolt's own lock (flock, exclusive) on the store file
// without opening it as a store, so a corrupt store — a reason to restore
// — can still be replaced, while a running gateway is detected. It
// returns nil, nil when there is no store yet.
func lockStore(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s: stop the gateway first", store.ErrLocked, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// sameOwner gives the restored file the owner of the one it replaces:
// restore usually runs as root, and the gateway's user must still be
// able to open its store. Only root can change owners; anyone else
// creates files as themselves, which is then right already.
func sameOwner(path string, old *os.File) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := old.Stat()
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(sys.Uid), int(sys.Gid))
}
