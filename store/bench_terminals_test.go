package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

var benchTerms = func() []string {
	t := make([]string, benchAccounts)
	for i := range t {
		t[i] = fmt.Sprintf("T%07d", i+1)
	}
	return t
}()

// approveMany is approve from terminal n % benchAccounts.
func approveMany(db *DB, n uint32, answer []byte) error {
	i := n % benchAccounts
	acct := uint64(i) + 1
	return db.Update(context.Background(), func(tx *Tx) error {
		a, _, err := tx.Account(acct)
		if err != nil {
			return err
		}
		a.BalanceFen -= 100
		if err := tx.PutAccount(&a); err != nil {
			return err
		}
		r := sampleRecord(acct, n/benchAccounts+1)
		r.Key.Terminal = benchTerms[i]
		r.BalanceAfter = a.BalanceFen
		if _, err := tx.AppendJournal(&r); err != nil {
			return err
		}
		return tx.PutIdem(r.Key, answer)
	})
}

// BenchmarkJournalAppendTerminals is BenchmarkJournalAppend with each
// approval from one of 1,000 terminals (as at a canteen's peak) instead of
// one: idempotency keys are terminal first, so this is what the
// idempotency log (idemlog.go) is for. pages/op is bbolt pages written per
// approval.
func BenchmarkJournalAppendTerminals(b *testing.B) {
	var stan atomic.Uint32
	var groups, calls atomic.Int64
	var busy atomic.Int64
	db := benchDB(b, func(n int, d time.Duration, _ error) {
		groups.Add(1)
		calls.Add(int64(n))
		busy.Add(int64(d))
	})
	groups.Store(0)
	calls.Store(0)
	s0 := db.bolt.Stats()
	b.ReportAllocs()
	b.SetParallelism(128)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := approveMany(db, stan.Add(1), benchAnswer); err != nil {
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
		b.ReportMetric(float64(busy.Load())/float64(g)/1e6, "ms/commit")
	}
}
