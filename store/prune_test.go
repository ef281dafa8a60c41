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

// PruneIdem deletes the idempotency records of old requests, following
// the journal with its own cursor; the journal records stay, and a value
// still in the idempotency log (not merged yet) stops it there, to be
// pruned once merged.
func TestPruneIdem(t *testing.T) {
	for _, merged := range []bool{true, false} {
		o := Options{mergeAt: 1}
		if !merged {
			o = Options{} // every value stays in the log
		}
		db, _ := openTest(t, o)
		key := func(i int) IdemKey { return IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200} }
		for i := 1; i <= 10; i++ {
			update(t, db, func(tx *Tx) error {
				r := sampleRecord(0, uint32(i))
				if _, err := tx.AppendJournal(&r); err != nil {
					return err
				}
				return tx.PutIdemTxn(key(i), Fingerprint{}, []byte("answer"), &TxnState{Key: key(i), Amount: 1, Kind: "purchase", Time: t0})
			})
		}
		// More commits, so that merges carry the values into the bucket.
		for i := 0; i < 40; i++ {
			update(t, db, func(tx *Tx) error { return tx.PutMeta("x", []byte{byte(i)}) })
		}
		prune := func(to uint64, max int) (int, uint64) {
			var n int
			var last uint64
			update(t, db, func(tx *Tx) error {
				var err error
				n, last, err = tx.PruneIdem(to, max)
				return err
			})
			return n, last
		}
		n1, last := prune(6, 4)
		n2, last2 := prune(6, 0)
		if merged {
			require.Equal(t, uint64(4), last)
			require.Equal(t, uint64(6), last2)
			require.Equal(t, 6, n1+n2)
		} else {
			require.Zero(t, n1+n2, "values in the log are kept")
			require.Zero(t, last2, "and the cursor waits before them")
			// Merged on request, however few they are, they go.
			require.NoError(t, db.MergeIdemLogs(t.Context()))
			n, last := prune(6, 0)
			require.Equal(t, 6, n)
			require.Equal(t, uint64(6), last)
		}
		view(t, db, func(tx *Tx) error {
			for i := 1; i <= 10; i++ {
				_, ok, err := tx.Idem(key(i))
				require.NoError(t, err)
				require.Equal(t, i > 6, ok, "key %d", i)
				_, ok, err = tx.JournalRecord(uint64(i))
				require.NoError(t, err)
				require.True(t, ok, "the journal keeps record %d", i)
			}
			p, err := tx.IdemPruned()
			require.NoError(t, err)
			require.Equal(t, uint64(6), p)
			return nil
		})
		n, last := prune(3, 0)
		require.Zero(t, n, "behind the cursor: nothing")
		require.Equal(t, uint64(6), last)
	}
}

// PruneIdem also forgets which channel an old payment-code trade went to
// (KindPayTrade, written by the channel router before it pays): a refund
// or reversal of that request no longer finds its original, so nothing
// would route by it again. A trade a cancel or refund is still owed for
// (a pay job) keeps its record: the retry queue routes by it.
func TestPruneIdemForgetsOldTrades(t *testing.T) {
	db, _ := openTest(t, Options{mergeAt: 1})
	key := func(i int) IdemKey { return IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200} }
	channels := map[int]Channel{1: ChannelWeChat, 2: ChannelAlipay, 3: ChannelWeChat, 4: ChannelCampus}
	for i := 1; i <= 4; i++ {
		update(t, db, func(tx *Tx) error {
			r := sampleRecord(0, uint32(i))
			r.Channel = channels[i]
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
			if err := tx.PutServiceResult(KindPayTrade, key(i).TradeNo(), []byte(string(channels[i])+":purchase")); err != nil {
				return err
			}
			return tx.PutIdemTxn(key(i), Fingerprint{}, []byte("answer"), &TxnState{Key: key(i), Amount: 1, Kind: "purchase", Time: t0})
		})
	}
	// A refund of trade 3 is still owed.
	update(t, db, func(tx *Tx) error {
		return tx.PutPayJob(&PayJob{Op: PayJobRefund, Trade: key(3).TradeNo(), RefundNo: "R1", Amount: 1, Channel: ChannelWeChat, Created: t0})
	})
	for i := 0; i < 40; i++ {
		update(t, db, func(tx *Tx) error { return tx.PutMeta("x", []byte{byte(i)}) })
	}
	update(t, db, func(tx *Tx) error {
		n, last, err := tx.PruneIdem(4, 0)
		require.Equal(t, 4, n)
		require.Equal(t, uint64(4), last)
		return err
	})
	view(t, db, func(tx *Tx) error {
		for i, want := range map[int]bool{1: false, 2: false, 3: true, 4: true} {
			_, ok, err := tx.ServiceResult(KindPayTrade, key(i).TradeNo())
			require.NoError(t, err)
			require.Equal(t, want, ok, "trade %d", i)
		}
		return nil
	})
}

// The trade number is the one documented for the channels (terminal id,
// batch, STAN, MTI; operations.md, "Pending payments").
func TestIdemKeyTradeNo(t *testing.T) {
	k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: 14, MTI: 200}
	require.Equal(t, "T00000010000010000140200", k.TradeNo())
	k = IdemKey{Terminal: "T0000001", Batch: 1234567, STAN: 1000014, MTI: 200}
	require.Equal(t, "T00000012345670000140200", k.TradeNo())
}
