package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

type blEntry struct {
	ver  uint32
	card string
	add  bool
}

func blacklistSince(t *testing.T, db *DB, from uint32, max int) ([]blEntry, bool) {
	t.Helper()
	var got []blEntry
	var more bool
	view(t, db, func(tx *Tx) error {
		var err error
		more, err = tx.BlacklistSince(from, max, func(ver uint32, card string, add bool) error {
			got = append(got, blEntry{ver, card, add})
			return nil
		})
		return err
	})
	return got, more
}

func TestBlacklist(t *testing.T) {
	db, _ := openTest(t, Options{})
	view(t, db, func(tx *Tx) error {
		v, err := tx.BlacklistVersion()
		require.NoError(t, err)
		require.Zero(t, v)
		return nil
	})
	got, more := blacklistSince(t, db, 0, 10)
	require.Empty(t, got)
	require.False(t, more)

	var vers []uint32
	update(t, db, func(tx *Tx) error {
		vers = vers[:0]
		for _, e := range []blEntry{{0, "100000000001", true}, {0, "100000000002", true}, {0, "100000000001", false}} {
			v, err := tx.BlacklistAdd(e.card, e.add, t0)
			if err != nil {
				return err
			}
			vers = append(vers, v)
		}
		return nil
	})
	require.Equal(t, []uint32{1, 2, 3}, vers)
	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		v, err := tx.BlacklistVersion()
		require.NoError(t, err)
		require.Equal(t, uint32(3), v)
		return nil
	})

	got, more = blacklistSince(t, db, 0, 2)
	require.Equal(t, []blEntry{{1, "100000000001", true}, {2, "100000000002", true}}, got)
	require.True(t, more)
	got, more = blacklistSince(t, db, 2, 2)
	require.Equal(t, []blEntry{{3, "100000000001", false}}, got)
	require.False(t, more)
	got, more = blacklistSince(t, db, 3, 2)
	require.Empty(t, got)
	require.False(t, more)

	err := db.Update(t.Context(), func(tx *Tx) error {
		_, err := tx.BlacklistAdd("", true, t0)
		return err
	})
	require.ErrorIs(t, err, ErrBadKey)
}

func TestBlacklistCorruptEntry(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		_, err := tx.BlacklistAdd("100000000001", true, t0)
		return err
	})
	update(t, db, func(tx *Tx) error {
		return tx.btx.Bucket(bktBlacklist).Put([]byte{0, 0, 0, 1}, []byte{7})
	})
	err := db.View(func(tx *Tx) error {
		_, err := tx.BlacklistSince(0, 10, func(uint32, string, bool) error { return nil })
		return err
	})
	require.ErrorIs(t, err, ErrCorruptValue)
}
