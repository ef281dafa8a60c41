package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrewarmReadsTheWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	// Not a multiple of the chunk: the last read is short.
	size := int64(2*prewarmChunk + 12345)
	require.NoError(t, os.WriteFile(path, make([]byte, size), 0o600))
	require.Equal(t, size, prewarm(path))
	require.Zero(t, prewarm(filepath.Join(t.TempDir(), "missing")))
}

// Open reads the file ahead of its consistency check (so that a cold
// start reads it in order), and only when it runs the check.
func TestOpenReadsTheFileAheadOfTheCheck(t *testing.T) {
	db, path := openTest(t, Options{})
	for i := range 50 {
		a := sampleAccount(uint64(i+1), "")
		update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	}
	var read int64 = -1
	db = reopen(t, db, Options{prewarmed: func(n int64) { read = n }})
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), read)

	read = -1
	db = reopen(t, db, Options{SkipCheck: true, prewarmed: func(n int64) { read = n }})
	require.Equal(t, int64(-1), read, "no check, nothing read ahead")

	require.NoError(t, db.Close())
	ro, err := Open(path, Options{StorageKey: testKey, ReadOnly: true, prewarmed: func(n int64) { read = n }})
	require.NoError(t, err)
	defer ro.Close()
	require.Equal(t, fi.Size(), read, "a read-only open checks, and reads ahead, too")
}
