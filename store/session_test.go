package store

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSessionSealed(t *testing.T) {
	db, path := openTest(t, Options{})
	// Distinctive key bytes, so a scan of the file cannot match by chance.
	pik := []byte("PIK-clear-key-16")
	mak := []byte("MAK-clear-key-16")
	s := Session{Terminal: "T0000001", PIK: pik, MAK: mak, Batch: 12, BatchOpen: true, SignedIn: t0, BlacklistVersion: 3}
	update(t, db, func(tx *Tx) error { return tx.PutSession(&s) })
	view(t, db, func(tx *Tx) error {
		got, ok, err := tx.Session("T0000001")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, s, got)
		_, ok, err = tx.Session("T0000002")
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
	require.NoError(t, db.Close())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.False(t, bytes.Contains(raw, pik), "clear PIK on disk")
	require.False(t, bytes.Contains(raw, mak), "clear MAK on disk")

	// Same key: survives reopen (promise 4: a restart signs no one out).
	db2, err := Open(path, Options{StorageKey: testKey})
	require.NoError(t, err)
	view(t, db2, func(tx *Tx) error {
		got, ok, err := tx.Session("T0000001")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, mak, got.MAK)
		return nil
	})
	require.NoError(t, db2.Close())

	// Wrong key: ErrSealed.
	db3, err := Open(path, Options{StorageKey: bytes.Repeat([]byte{1}, 32)})
	require.NoError(t, err)
	err = db3.View(func(tx *Tx) error {
		_, _, err := tx.Session("T0000001")
		return err
	})
	require.ErrorIs(t, err, ErrSealed)
	require.NoError(t, db3.Close())

	// No key: ErrNoStorageKey for reading and writing.
	db4, err := Open(path, Options{StorageKey: []byte{}})
	require.NoError(t, err)
	defer db4.Close()
	err = db4.View(func(tx *Tx) error {
		_, _, err := tx.Session("T0000001")
		return err
	})
	require.ErrorIs(t, err, ErrNoStorageKey)
	err = db4.Update(t.Context(), func(tx *Tx) error { return tx.PutSession(&s) })
	require.ErrorIs(t, err, ErrNoStorageKey)
}

func TestSessionBoundToTerminal(t *testing.T) {
	db, _ := openTest(t, Options{})
	s := Session{Terminal: "T0000001", MAK: []byte("0123456789abcdef")}
	update(t, db, func(tx *Tx) error { return tx.PutSession(&s) })
	// Copy the sealed value under another terminal: it must not open.
	update(t, db, func(tx *Tx) error {
		b := tx.btx.Bucket(bktSessions)
		k1, _ := appendTerminal(nil, "T0000001")
		k2, _ := appendTerminal(nil, "T0000002")
		return b.Put(k2, append([]byte(nil), b.Get(k1)...))
	})
	err := db.View(func(tx *Tx) error {
		_, _, err := tx.Session("T0000002")
		return err
	})
	require.ErrorIs(t, err, ErrSealed)
}

func TestBadStorageKey(t *testing.T) {
	_, err := Open(t.TempDir()+"/x.db", Options{StorageKey: []byte("short")})
	require.ErrorIs(t, err, ErrBadStorageKey)
}
