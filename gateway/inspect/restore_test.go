package inspect

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"ecardgw/store"
)

var restoreAt = time.Date(2026, 11, 26, 1, 30, 0, 0, time.FixedZone("CST", 8*3600))

func journalLen(t *testing.T, path string) uint64 {
	t.Helper()
	res, err := Check(path)
	require.NoError(t, err)
	return res.JournalLen
}

func TestRestoreKeepsTheOldStore(t *testing.T) {
	live := newStore(t, 10)
	backup := newStore(t, 4)
	before, err := os.ReadFile(backup)
	require.NoError(t, err)

	kept, err := Restore(live, backup, restoreAt)
	require.NoError(t, err)
	require.Equal(t, live+".before-restore-20261125T173000Z", kept)
	require.Equal(t, uint64(4), journalLen(t, live))
	require.Equal(t, uint64(10), journalLen(t, kept))
	after, err := os.ReadFile(backup)
	require.NoError(t, err)
	require.Equal(t, before, after, "the backup is left as it was")
	st, err := os.Stat(live)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.NoFileExists(t, live+".restore.tmp")

	_, err = Restore(live, backup, restoreAt)
	require.ErrorIs(t, err, ErrExists, "a second restore in the same second does not overwrite the kept file")
	require.Equal(t, uint64(4), journalLen(t, live))
}

func TestRestoreWithoutAStore(t *testing.T) {
	live := filepath.Join(t.TempDir(), "new.db")
	kept, err := Restore(live, newStore(t, 2), restoreAt)
	require.NoError(t, err)
	require.Empty(t, kept)
	require.Equal(t, uint64(2), journalLen(t, live))
}

func TestRestoreRefusesWhileTheGatewayRuns(t *testing.T) {
	live := newStore(t, 10)
	db := openStore(t, live)
	_, err := Restore(live, newStore(t, 1), restoreAt)
	require.ErrorIs(t, err, store.ErrLocked)
	require.NoError(t, db.Close())
	require.Equal(t, uint64(10), journalLen(t, live))
}

// A corrupt store — a reason to restore — is replaced all the same.
func TestRestoreReplacesACorruptStore(t *testing.T) {
	live := filepath.Join(t.TempDir(), "gw.db")
	require.NoError(t, os.WriteFile(live, []byte("garbage garbage garbage"), 0o600))
	kept, err := Restore(live, newStore(t, 3), restoreAt)
	require.NoError(t, err)
	require.FileExists(t, kept)
	require.Equal(t, uint64(3), journalLen(t, live))
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	live := newStore(t, 10)
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	require.NoError(t, os.WriteFile(garbage, make([]byte, 8192), 0o600))
	_, err := Restore(live, garbage, restoreAt)
	require.Error(t, err)

	newer := newStore(t, 1)
	setSchema(t, newer, store.SchemaVersion+1)
	_, err = Restore(live, newer, restoreAt)
	require.ErrorIs(t, err, store.ErrNewerSchema)

	_, err = Restore(live, live, restoreAt)
	require.ErrorIs(t, err, ErrSameFile)
	require.Equal(t, uint64(10), journalLen(t, live), "nothing changed")
	matches, err := filepath.Glob(live + KeptSuffix + "*")
	require.NoError(t, err)
	require.Empty(t, matches)
}

// setSchema writes a schema version as a newer gateway would.
func setSchema(t *testing.T, path string, v uint32) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, v))
	}))
	require.NoError(t, bdb.Close())
}
