package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBatch(t *testing.T) {
	db, _ := openTest(t, Options{})
	b := BatchTotals{Terminal: "T0000001", Batch: 7, DebitFen: 12000, DebitCount: 4, CreditFen: 300, CreditCount: 1, Closed: true}
	update(t, db, func(tx *Tx) error { return tx.PutBatch(&b) })
	view(t, db, func(tx *Tx) error {
		got, ok, err := tx.Batch("T0000001", 7)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, b, got)
		_, ok, err = tx.Batch("T0000001", 8)
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
	bad := BatchTotals{Terminal: "T0000001", Batch: 1, DebitCount: -1}
	require.ErrorIs(t, db.Update(t.Context(), func(tx *Tx) error { return tx.PutBatch(&bad) }), ErrBadValue)
}

func TestNextRRNMonotonicAcrossReopen(t *testing.T) {
	db, _ := openTest(t, Options{})
	var got []uint64
	update(t, db, func(tx *Tx) error {
		got = got[:0]
		for range 3 {
			n, err := tx.NextRRN()
			if err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	})
	require.Equal(t, []uint64{1, 2, 3}, got)
	db = reopen(t, db, Options{})
	update(t, db, func(tx *Tx) error {
		n, err := tx.NextRRN()
		got = append(got, n)
		return err
	})
	require.Equal(t, []uint64{1, 2, 3, 4}, got)
}

func TestMeta(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error { return tx.PutMeta("blacklist.version", []byte{0, 0, 0, 9}) })
	view(t, db, func(tx *Tx) error {
		v, err := tx.Meta("blacklist.version")
		require.NoError(t, err)
		require.Equal(t, []byte{0, 0, 0, 9}, v)
		v, err = tx.Meta("missing")
		require.NoError(t, err)
		require.Nil(t, v)
		return nil
	})
	update(t, db, func(tx *Tx) error { return tx.PutMeta("blacklist.version", nil) })
	view(t, db, func(tx *Tx) error {
		v, err := tx.Meta("blacklist.version")
		require.NoError(t, err)
		require.Nil(t, v)
		return nil
	})
	require.ErrorIs(t, db.Update(t.Context(), func(tx *Tx) error { return tx.PutMeta("", []byte{1}) }), ErrBadKey)
}

func TestReplaySeenAndPurge(t *testing.T) {
	db, _ := openTest(t, Options{})
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	update(t, db, func(tx *Tx) error {
		for i := range 5 {
			// Entry i expires at base + i minutes.
			if err := tx.PutReplay(42, 1700000000, uint16(i), base.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		// Refresh entry 0 to expire late: the purge must not take it.
		return tx.PutReplay(42, 1700000000, 0, base.Add(time.Hour))
	})
	view(t, db, func(tx *Tx) error {
		for i := range 5 {
			seen, err := tx.ReplaySeen(42, 1700000000, uint16(i))
			require.NoError(t, err)
			require.True(t, seen)
		}
		seen, err := tx.ReplaySeen(42, 1700000000, 5)
		require.NoError(t, err)
		require.False(t, seen)
		seen, err = tx.ReplaySeen(43, 1700000000, 1)
		require.NoError(t, err)
		require.False(t, seen)
		return nil
	})
	n, err := db.PurgeReplay(base.Add(3 * time.Minute)) // takes 1 and 2
	require.NoError(t, err)
	require.Equal(t, 2, n)
	view(t, db, func(tx *Tx) error {
		for i, want := range []bool{true, false, false, true, true} {
			seen, err := tx.ReplaySeen(42, 1700000000, uint16(i))
			require.NoError(t, err)
			require.Equal(t, want, seen, "counter %d", i)
		}
		return nil
	})
	n, err = db.PurgeReplay(base.Add(2 * time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = db.PurgeReplay(base.Add(2 * time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestPurgeReplayBounded(t *testing.T) {
	db, _ := openTest(t, Options{})
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	update(t, db, func(tx *Tx) error {
		for i := range purgeLimit + 5 {
			if err := tx.PutReplay(uint64(i), 1, 1, base); err != nil {
				return err
			}
		}
		return nil
	})
	n, err := db.PurgeReplay(base.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, purgeLimit, n)
	n, err = db.PurgeReplay(base.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, 5, n)
}

// Put values are copied: a caller reusing its buffer inside the same
// group must not change what is committed.
func TestPutCopiesCallerBuffers(t *testing.T) {
	db, _ := openTest(t, Options{})
	k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: 1, MTI: 200}
	update(t, db, func(tx *Tx) error {
		buf := []byte("answer-1")
		if err := tx.PutIdem(k, buf); err != nil {
			return err
		}
		if err := tx.PutMeta("m", buf); err != nil {
			return err
		}
		copy(buf, "XXXXXXXX")
		return nil
	})
	view(t, db, func(tx *Tx) error {
		v, _, err := tx.Idem(k)
		require.NoError(t, err)
		require.Equal(t, "answer-1", string(v))
		m, err := tx.Meta("m")
		require.NoError(t, err)
		require.Equal(t, "answer-1", string(m))
		return nil
	})
}
