package inspect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// TestCheckReadsSchema also guards the store layout Check reads directly.
func TestCheckReadsSchema(t *testing.T) {
	path := newStore(t, 25)
	res, err := Check(path)
	require.NoError(t, err)
	require.Equal(t, store.SchemaVersion, res.Schema)
	require.Equal(t, uint64(25), res.JournalLen)
	require.Equal(t, 25, res.Outbox, "nothing forwarded yet")
	require.Equal(t, t0, res.OutboxOldest)
	require.Positive(t, res.Size)
}

func TestCheckRefuses(t *testing.T) {
	path := newStore(t, 1)
	db := openStore(t, path)
	_, err := Check(path)
	require.ErrorIs(t, err, store.ErrLocked, "a running gateway holds the file")
	require.NoError(t, db.Close())

	bad := filepath.Join(t.TempDir(), "bad.db")
	require.NoError(t, os.WriteFile(bad, make([]byte, 16384), 0o600))
	_, err = Check(bad)
	require.ErrorIs(t, err, store.ErrCorrupt)
}
