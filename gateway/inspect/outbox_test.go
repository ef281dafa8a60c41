package inspect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func TestOutbox(t *testing.T) {
	db := openStore(t, newStore(t, 6))
	outbox := func() (int, time.Time) {
		var n int
		var oldest time.Time
		require.NoError(t, db.View(func(tx *store.Tx) error {
			var err error
			n, oldest, err = Outbox(tx)
			return err
		}))
		return n, oldest
	}
	n, oldest := outbox()
	require.Equal(t, 6, n)
	require.Equal(t, t0, oldest)

	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for seq := uint64(1); seq <= 3; seq++ {
			if err := tx.DeleteOutbox(seq); err != nil {
				return err
			}
		}
		return nil
	}))
	n, oldest = outbox()
	require.Equal(t, 3, n)
	require.Equal(t, t0.Add(3*time.Second), oldest, "record 4 is the oldest waiting")

	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for seq := uint64(4); seq <= 6; seq++ {
			if err := tx.DeleteOutbox(seq); err != nil {
				return err
			}
		}
		return nil
	}))
	n, oldest = outbox()
	require.Zero(t, n)
	require.True(t, oldest.IsZero())
}
