package store

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testKey = bytes.Repeat([]byte{0x5a}, 32)

func openTest(t testing.TB, opt Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ecardgw.db")
	if opt.StorageKey == nil {
		opt.StorageKey = testKey
	}
	db, err := Open(path, opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func reopen(t testing.TB, db *DB, opt Options) *DB {
	t.Helper()
	require.NoError(t, db.Close())
	if opt.StorageKey == nil {
		opt.StorageKey = testKey
	}
	db2, err := Open(db.Path(), opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	return db2
}

func update(t testing.TB, db *DB, fn func(*Tx) error) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), fn))
}

func view(t testing.TB, db *DB, fn func(*Tx) error) {
	t.Helper()
	require.NoError(t, db.View(fn))
}

var t0 = time.Date(2026, 11, 26, 8, 30, 0, 123456789, time.UTC)

func sampleAccount(no uint64, card string) Account {
	return Account{
		No: no, Name: "张三", StaffNo: "S2023001",
		CardNumber: card, CardSerial: "12345678" + card,
		CardUID: []byte{1, 2, 3, 4}, BalanceFen: 12345, Status: StatusActive,
		ECardActive: true,
		Wallet:      Wallet{Balance: 800, Counter: 7, LastLoadBalance: 1000, Loaded: true, LastLoadAt: t0},
		DayFen:      500, Day: "20261126", Updated: t0,
	}
}

func sampleRecord(account uint64, stan uint32) Record {
	return Record{
		Time: t0, Key: IdemKey{Terminal: "T0000001", Batch: 1, STAN: stan, MTI: 200},
		Kind: "purchase", ProcCode: 0, Account: account, CardMasked: "6200******1234",
		Channel: "CAMPUS", Amount: 350, Resp: "00", RRN: "000000000001", Auth: "A00001",
		BalanceAfter: 11995, Location: "canteen-1", Note: "",
	}
}
