package store

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// benchAccounts is how many accounts the journal benchmarks spread over.
const benchAccounts = 1000

func benchDB(b *testing.B, onCommit func(int, time.Duration, error)) *DB {
	db, _ := openTest(b, Options{SkipCheck: true, OnCommit: onCommit})
	update(b, db, func(tx *Tx) error {
		for i := range benchAccounts {
			a := Account{No: uint64(i + 1), Name: "bench", BalanceFen: 1 << 40}
			if err := tx.PutAccount(&a); err != nil {
				return err
			}
		}
		return nil
	})
	return db
}

// approve is one approval's writes: the account debit, the journal record
// and the idempotency answer, as the transaction engine does them.
func approve(db *DB, stan uint32, answer []byte) error {
	acct := uint64(stan%benchAccounts) + 1
	return db.Update(context.Background(), func(tx *Tx) error {
		a, _, err := tx.Account(acct)
		if err != nil {
			return err
		}
		a.BalanceFen -= 100
		if err := tx.PutAccount(&a); err != nil {
			return err
		}
		r := sampleRecord(acct, stan)
		r.BalanceAfter = a.BalanceFen
		if _, err := tx.AppendJournal(&r); err != nil {
			return err
		}
		return tx.PutIdem(r.Key, answer)
	})
}

var benchAnswer = make([]byte, 120) // about one 0210 answer frame

// BenchmarkJournalAppend: ~256 callers in flight (SetParallelism(128) on
// 2 cores), so each fsync carries a group of approvals.
func BenchmarkJournalAppend(b *testing.B) {
	var stan atomic.Uint32
	var groups, calls atomic.Int64
	db := benchDB(b, func(n int, _ time.Duration, _ error) {
		groups.Add(1)
		calls.Add(int64(n))
	})
	groups.Store(0) // not the setup's commit
	calls.Store(0)
	s0 := db.bolt.Stats()
	b.ReportAllocs()
	b.SetParallelism(128)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := approve(db, stan.Add(1), benchAnswer); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	s1 := db.bolt.Stats()
	st := s1.Sub(&s0)
	b.ReportMetric(float64(st.TxStats.GetWrite())/float64(b.N), "pages/op")
	if g := groups.Load(); g > 0 {
		b.ReportMetric(float64(calls.Load())/float64(g), "fns/commit")
	}
}

// BenchmarkJournalAppendSerial: one caller, so one fsync per approval.
func BenchmarkJournalAppendSerial(b *testing.B) {
	db := benchDB(b, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := approve(db, uint32(i+1), benchAnswer); err != nil {
			b.Fatal(err)
		}
	}
}
