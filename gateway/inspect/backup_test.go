package inspect

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func backupFrom(path string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.Copy(w, f)
	}
}

func TestSaveBackup(t *testing.T) {
	src := newStore(t, 3)
	dst := filepath.Join(t.TempDir(), "b.db")
	n, err := SaveBackup(dst, BackupOptions{StorePath: src}, backupFrom(src))
	require.NoError(t, err)
	st, err := os.Stat(dst)
	require.NoError(t, err)
	require.Equal(t, n, st.Size())
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.NoFileExists(t, dst+".tmp")

	_, err = SaveBackup(dst, BackupOptions{}, backupFrom(src))
	require.ErrorIs(t, err, ErrExists)
	_, err = SaveBackup(dst, BackupOptions{Force: true}, backupFrom(src))
	require.NoError(t, err)
}

func TestSaveBackupRefusesTheStoreItself(t *testing.T) {
	src := newStore(t, 1)
	_, err := SaveBackup(src, BackupOptions{StorePath: src, Force: true}, backupFrom(src))
	require.ErrorIs(t, err, ErrSameFile)
	rel, err := filepath.Rel(mustWd(t), src)
	require.NoError(t, err)
	_, err = SaveBackup(rel, BackupOptions{StorePath: src, Force: true}, backupFrom(src))
	require.ErrorIs(t, err, ErrSameFile)
}

func mustWd(t *testing.T) string {
	wd, err := os.Getwd()
	require.NoError(t, err)
	return wd
}

// A failed or unusable copy leaves neither the file nor its temporary.
func TestSaveBackupFailuresLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "b.db")
	boom := errors.New("boom")
	_, err := SaveBackup(dst, BackupOptions{}, func(w io.Writer) (int64, error) {
		_, _ = io.WriteString(w, "partial")
		return 7, boom
	})
	require.ErrorIs(t, err, boom)
	_, err = SaveBackup(dst, BackupOptions{}, func(w io.Writer) (int64, error) {
		n, err := io.Copy(w, strings.NewReader(strings.Repeat("not a store ", 2000)))
		return n, err
	})
	require.Error(t, err)
	require.Contains(t, err.Error(), "does not open")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}
