package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func TestJournalBackward(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for i := 1; i <= 5; i++ {
			if _, err := tx.AppendJournal(&store.Record{Time: time.Unix(int64(i), 0).UTC(),
				Key: store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200}, Kind: store.KindPurchase, Resp: "00"}); err != nil {
				return err
			}
		}
		return nil
	}))
	walk := func(before uint64, stopAt int) []uint64 {
		var seqs []uint64
		require.NoError(t, db.View(func(tx *store.Tx) error {
			return tx.JournalBackward(before, func(r *store.Record) (bool, error) {
				seqs = append(seqs, r.Seq)
				return len(seqs) < stopAt, nil
			})
		}))
		return seqs
	}
	require.Equal(t, []uint64{5, 4, 3, 2, 1}, walk(0, 10))
	require.Equal(t, []uint64{3, 2, 1}, walk(4, 10))
	require.Equal(t, []uint64{5, 4}, walk(99, 2))
	require.Empty(t, walk(1, 10))
}
