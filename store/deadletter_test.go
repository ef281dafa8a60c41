package store

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeadLettersAndJournalRecord(t *testing.T) {
	db, _ := openTest(t, Options{})
	view(t, db, func(tx *Tx) error {
		n, err := tx.OutboxLen()
		require.NoError(t, err)
		require.Zero(t, n)
		return tx.DeadLetters(func(DeadLetter) error { t.Fatal("none yet"); return nil })
	})
	update(t, db, func(tx *Tx) error {
		for i := range 3 {
			r := sampleRecord(5, uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, db, func(tx *Tx) error {
		ct := onCommitter{t} // the checks run on the committer goroutine
		require.ErrorIs(ct, tx.PutDeadLetter(DeadLetter{Seq: 0, Sink: "centre"}), ErrBadKey)
		require.ErrorIs(ct, tx.PutDeadLetter(DeadLetter{Seq: 2}), ErrBadKey)
		if err := tx.PutDeadLetter(DeadLetter{Seq: 2, Sink: "centre", At: t0, Reason: strings.Repeat("x", 300)}); err != nil {
			return err
		}
		return tx.DeleteOutbox(2)
	})
	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		var got []DeadLetter
		require.NoError(t, tx.DeadLetters(func(d DeadLetter) error { got = append(got, d); return nil }))
		require.Equal(t, []DeadLetter{{Seq: 2, Sink: "centre", At: t0, Reason: strings.Repeat("x", MaxDeadLetterReason)}}, got)
		n, err := tx.OutboxLen()
		require.NoError(t, err)
		require.Equal(t, 2, n)
		r, ok, err := tx.JournalRecord(2)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint32(2), r.Key.STAN, "a dead letter's record stays in the journal")
		_, ok, err = tx.JournalRecord(9)
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
	update(t, db, func(tx *Tx) error {
		ct := onCommitter{t} // the checks run on the committer goroutine
		ok, err := tx.RequeueDeadLetter(2, "jetstream")
		require.NoError(ct, err)
		require.False(ct, ok, "no such dead letter for that sink")
		ok, err = tx.RequeueDeadLetter(2, "centre")
		require.NoError(ct, err)
		require.True(ct, ok)
		return nil
	})
	view(t, db, func(tx *Tx) error {
		var got []uint64
		require.NoError(t, tx.Outbox(0, 0, func(seq, acct uint64) error {
			require.Equal(t, uint64(5), acct)
			got = append(got, seq)
			return nil
		}))
		require.Equal(t, []uint64{1, 2, 3}, got)
		return tx.DeadLetters(func(DeadLetter) error { t.Fatal("requeued"); return nil })
	})
}
