package store

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendJournalSeqAndSince(t *testing.T) {
	db, _ := openTest(t, Options{})
	var seqs []uint64
	update(t, db, func(tx *Tx) error {
		seqs = seqs[:0]
		for i := range 5 {
			r := sampleRecord(uint64(1+i%2), uint32(i+1))
			seq, err := tx.AppendJournal(&r)
			if err != nil {
				return err
			}
			require.Equal(onCommitter{t}, seq, r.Seq)
			seqs = append(seqs, seq)
		}
		return nil
	})
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, seqs)

	view(t, db, func(tx *Tx) error {
		require.Equal(t, uint64(5), tx.JournalLen())
		var got []uint64
		require.NoError(t, tx.JournalSince(2, func(r *Record) error {
			got = append(got, r.Seq)
			want := sampleRecord(r.Account, uint32(r.Seq))
			want.Seq = r.Seq
			require.Equal(t, want, *r)
			return nil
		}))
		require.Equal(t, []uint64{3, 4, 5}, got)
		stop := errors.New("stop")
		require.ErrorIs(t, tx.JournalSince(0, func(*Record) error { return stop }), stop)
		require.NoError(t, tx.JournalSince(^uint64(0), func(*Record) error { return stop }))
		return nil
	})
}

func TestJournalSeqNeverReusedAcrossReopen(t *testing.T) {
	db, _ := openTest(t, Options{})
	r := sampleRecord(1, 1)
	update(t, db, func(tx *Tx) error { _, err := tx.AppendJournal(&r); return err })
	db = reopen(t, db, Options{})
	update(t, db, func(tx *Tx) error { _, err := tx.AppendJournal(&r); return err })
	require.Equal(t, uint64(2), r.Seq)
}

func TestLastJournalOrder(t *testing.T) {
	db, _ := openTest(t, Options{})
	// Accounts 7, 8 and the largest account number, interleaved.
	accts := []uint64{7, 8, ^uint64(0), 7, 8, 7}
	update(t, db, func(tx *Tx) error {
		for _, no := range []uint64{7, 8, ^uint64(0)} {
			if err := tx.PutAccount(&Account{No: no, Name: "chain"}); err != nil {
				return err
			}
		}
		for i, a := range accts {
			r := sampleRecord(a, uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	seqsOf := func(rs []Record) []uint64 {
		var s []uint64
		for _, r := range rs {
			s = append(s, r.Seq)
		}
		return s
	}
	view(t, db, func(tx *Tx) error {
		rs, err := tx.LastJournal(10, 7)
		require.NoError(t, err)
		require.Equal(t, []uint64{6, 4, 1}, seqsOf(rs))
		rs, err = tx.LastJournal(2, 7)
		require.NoError(t, err)
		require.Equal(t, []uint64{6, 4}, seqsOf(rs))
		rs, err = tx.LastJournal(10, 8)
		require.NoError(t, err)
		require.Equal(t, []uint64{5, 2}, seqsOf(rs))
		rs, err = tx.LastJournal(10, ^uint64(0))
		require.NoError(t, err)
		require.Equal(t, []uint64{3}, seqsOf(rs))
		rs, err = tx.LastJournal(10, 9)
		require.NoError(t, err)
		require.Empty(t, rs)
		rs, err = tx.LastJournal(3, 0)
		require.NoError(t, err)
		require.Equal(t, []uint64{6, 5, 4}, seqsOf(rs))
		rs, err = tx.LastJournal(0, 7)
		require.NoError(t, err)
		require.Empty(t, rs)
		return nil
	})
}

func TestRecordOrigAndFlagsRoundTrip(t *testing.T) {
	r := sampleRecord(3, 9)
	r.Seq = 42
	r.Orig = &IdemKey{Terminal: "T0000001", Batch: 1, STAN: 8, MTI: 200}
	r.Exception, r.StandIn = true, true
	b, err := appendRecord(nil, &r)
	require.NoError(t, err)
	var got Record
	require.NoError(t, decodeRecord(b, &got))
	require.Equal(t, r, got)
	for i := range len(b) {
		require.ErrorIs(t, decodeRecord(b[:i], &got), ErrCorruptValue, "truncated at %d", i)
	}
}

func TestAccountChainSurvivesStaleAccountCopy(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		return tx.PutAccount(&Account{No: 9, Name: "chain", BalanceFen: 100})
	})
	update(t, db, func(tx *Tx) error {
		// The engine's pattern: read the account, append the journal,
		// then write its (now stale) copy back.
		a, _, err := tx.Account(9)
		if err != nil {
			return err
		}
		for i := range 3 {
			r := sampleRecord(9, uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		a.BalanceFen = 40
		return tx.PutAccount(&a)
	})
	view(t, db, func(tx *Tx) error {
		a, _, err := tx.Account(9)
		require.NoError(t, err)
		require.Equal(t, uint64(3), a.LastSeq, "a stale copy does not move the history head back")
		require.Equal(t, int64(40), a.BalanceFen)
		rs, err := tx.LastJournal(10, 9)
		require.NoError(t, err)
		require.Len(t, rs, 3)
		require.Equal(t, []uint64{2, 1, 0}, []uint64{rs[0].PrevSeq, rs[1].PrevSeq, rs[2].PrevSeq})
		return nil
	})
}
