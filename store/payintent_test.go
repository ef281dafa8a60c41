package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPayIntentsAndJobsSurviveReopen(t *testing.T) {
	path := t.TempDir() + "/s.db"
	db, err := Open(path, Options{})
	require.NoError(t, err)
	k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: 7, MTI: 200}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	require.NoError(t, db.View(func(tx *Tx) error {
		_, ok, err := tx.PayIntent(k)
		require.False(t, ok, "no bucket yet: nothing")
		return err
	}))
	require.NoError(t, db.Update(context.Background(), func(tx *Tx) error {
		if err := tx.PutPayIntent(&PayIntent{Key: k, Kind: KindPurchase, Trade: "T1", Channel: "WECHAT", Amount: 500, Created: now}); err != nil {
			return err
		}
		return tx.PutPayJob(&PayJob{Op: PayJobCancel, Trade: "T0", Reason: "test", NextAt: now, Created: now})
	}))
	require.NoError(t, db.Close())
	db, err = Open(path, Options{})
	require.NoError(t, err)
	defer db.Close()
	var intents []PayIntent
	var jobs []PayJob
	require.NoError(t, db.View(func(tx *Tx) error {
		if err := tx.PayIntents(func(p PayIntent) error { intents = append(intents, p); return nil }); err != nil {
			return err
		}
		return tx.PayJobs(func(j PayJob) error { jobs = append(jobs, j); return nil })
	}))
	require.Len(t, intents, 1)
	require.Equal(t, k, intents[0].Key)
	require.EqualValues(t, 500, intents[0].Amount)
	require.Len(t, jobs, 1)
	require.Equal(t, "cancel:T0:", jobs[0].ID())
	require.NoError(t, db.Update(context.Background(), func(tx *Tx) error {
		if err := tx.DeletePayIntent(k); err != nil {
			return err
		}
		return tx.DeletePayJob(jobs[0].ID())
	}))
	require.NoError(t, db.View(func(tx *Tx) error {
		_, ok, err := tx.PayIntent(k)
		require.False(t, ok)
		n := 0
		require.NoError(t, tx.PayJobs(func(PayJob) error { n++; return nil }))
		require.Zero(t, n)
		return err
	}))
}
