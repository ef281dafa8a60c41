package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOutbox(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		for i, acct := range []uint64{5, 6, 5, 0} {
			r := sampleRecord(acct, uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	type entry struct{ seq, acct uint64 }
	list := func(after uint64, max int) []entry {
		var got []entry
		view(t, db, func(tx *Tx) error {
			return tx.Outbox(after, max, func(seq, acct uint64) error {
				got = append(got, entry{seq, acct})
				return nil
			})
		})
		return got
	}
	require.Equal(t, []entry{{1, 5}, {2, 6}, {3, 5}, {4, 0}}, list(0, 0))
	require.Equal(t, []entry{{2, 6}, {3, 5}}, list(1, 2))
	update(t, db, func(tx *Tx) error { return tx.DeleteOutbox(2) })
	update(t, db, func(tx *Tx) error { return tx.DeleteOutbox(99) })
	require.Equal(t, []entry{{1, 5}, {3, 5}, {4, 0}}, list(0, 0))
	view(t, db, func(tx *Tx) error {
		require.Equal(t, uint64(4), tx.JournalLen(), "the journal keeps delivered records")
		return nil
	})
}

// With NoOutbox the journal grows and the outbox does not; what was in
// it stays.
func TestNoOutbox(t *testing.T) {
	db, path := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		r := sampleRecord(5, 1)
		_, err := tx.AppendJournal(&r)
		return err
	})
	require.NoError(t, db.Close())
	db, err := Open(path, Options{NoOutbox: true})
	require.NoError(t, err)
	defer db.Close()
	update(t, db, func(tx *Tx) error {
		for i := range 3 {
			r := sampleRecord(5, uint32(i+2))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx *Tx) error {
		n, err := tx.OutboxLen()
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, uint64(4), tx.JournalLen())
		return nil
	})
}
