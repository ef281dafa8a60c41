package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// PruneJournal deletes from the journal's start only, never a record
// still in the outbox or among the dead letters.
func TestPruneJournal(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		for i := range 10 {
			r := sampleRecord(0, uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		for seq := uint64(1); seq <= 6; seq++ {
			if err := tx.DeleteOutbox(seq); err != nil {
				return err
			}
		}
		return nil
	})
	prune := func(from, to uint64, max int) (int, uint64, error) {
		var n int
		var last uint64
		err := db.Update(t.Context(), func(tx *Tx) error {
			var err error
			n, last, err = tx.PruneJournal(from, to, max)
			return err
		})
		return n, last, err
	}
	_, _, err := prune(1, 7, 0)
	require.ErrorIs(t, err, ErrBadKey, "7 is in the outbox")
	_, _, err = prune(2, 3, 0)
	require.ErrorIs(t, err, ErrBadKey, "not from the start")
	n, last, err := prune(1, 4, 3)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, uint64(3), last)
	n, last, err = prune(4, 4, 3)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, uint64(4), last)
	update(t, db, func(tx *Tx) error { return tx.PutDeadLetter(DeadLetter{Seq: 6, Sink: "centre", Reason: "x"}) })
	_, _, err = prune(5, 6, 0)
	require.ErrorIs(t, err, ErrBadKey, "6 is a dead letter")
	view(t, db, func(tx *Tx) error {
		start, err := tx.JournalStart()
		require.NoError(t, err)
		require.Equal(t, uint64(5), start)
		_, ok, err := tx.JournalRecord(4)
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = tx.JournalRecord(5)
		require.NoError(t, err)
		require.True(t, ok)
		return nil
	})
}
