package inspect

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// t0 is the journal time of record 1; record i is i seconds later.
var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func record(i int) *store.Record {
	r := &store.Record{
		Time: t0.Add(time.Duration(i-1) * time.Second),
		Key:  store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200},
		Kind: store.KindPurchase, ProcCode: 0, Account: uint64(i%3 + 1), CardMasked: "10******" + fmt.Sprintf("%04d", i%10000),
		Channel: "card", Amount: int64(100 + i), Resp: "00", RRN: fmt.Sprintf("%012d", i), Auth: "123456",
		BalanceAfter: 100000 - int64(i), Location: "Canteen 1",
	}
	return r
}

// newStore creates a store with n journal records and returns its path;
// the store is closed.
func newStore(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gw.db")
	db, err := store.Open(path, store.Options{})
	require.NoError(t, err)
	appendRecords(t, db, 1, n)
	require.NoError(t, db.Close())
	return path
}

func appendRecords(t *testing.T, db *store.DB, from, to int) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for i := from; i <= to; i++ {
			if _, err := tx.AppendJournal(record(i)); err != nil {
				return err
			}
		}
		return nil
	}))
}

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
