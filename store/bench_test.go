package store

import (
	"context"
	"fmt"
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
			a := Account{No: uint64(i + 1), Name: "bench", BalanceFen: 500_000_000_000}
			if err := tx.PutAccount(&a); err != nil {
				return err
			}
		}
		return nil
	})
	return db
}

// approve is one approval's writes: the account debit, the journal record
// and the idempotency answer, as the transaction engine does them, all
// from one terminal.
func approve(db *DB, stan uint32, answer []byte) error {
	return approveAs(db, "T0000001", uint64(stan%benchAccounts)+1, stan, answer)
}

// approveMany is an approval from terminal n % benchAccounts, each with
// its own card.
func approveMany(db *DB, n uint32, answer []byte) error {
	i := n % benchAccounts
	return approveAs(db, benchTerms[i], uint64(i)+1, n/benchAccounts+1, answer)
}

func approveAs(db *DB, term string, acct uint64, stan uint32, answer []byte) error {
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
		r.Key.Terminal = term
		r.BalanceAfter = a.BalanceFen
		if _, err := tx.AppendJournal(&r); err != nil {
			return err
		}
		return tx.PutIdem(r.Key, answer)
	})
}

var benchTerms = func() []string {
	t := make([]string, benchAccounts)
	for i := range t {
		t[i] = fmt.Sprintf("T%07d", i+1)
	}
	return t
}()

var benchAnswer = make([]byte, 120) // about one 0210 answer frame

// BenchmarkJournalAppend: ~256 callers in flight (SetParallelism(128) on
// 2 cores), so each fsync carries a group of approvals.
func BenchmarkJournalAppend(b *testing.B) { benchAppend(b, approve) }

// BenchmarkJournalAppendTerminals is BenchmarkJournalAppend with each
// approval from one of 1,000 terminals (as at a canteen's peak) instead of
// one: idempotency keys are terminal first, so this is what the
// idempotency log (idemlog.go) is for.
func BenchmarkJournalAppendTerminals(b *testing.B) { benchAppend(b, approveMany) }

// benchAppend runs approvals from ~256 callers and reports the average
// group (fns/commit), the commit time (ms/commit) and the bbolt pages
// written per approval (pages/op).
func benchAppend(b *testing.B, approval func(*DB, uint32, []byte) error) {
	var stan atomic.Uint32
	var groups, calls, busy atomic.Int64
	db := benchDB(b, func(n int, d time.Duration, _ error) {
		groups.Add(1)
		calls.Add(int64(n))
		busy.Add(int64(d))
	})
	groups.Store(0) // not the setup's commit
	calls.Store(0)
	busy.Store(0)
	s0 := db.bolt.Stats()
	b.ReportAllocs()
	b.SetParallelism(128)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := approval(db, stan.Add(1), benchAnswer); err != nil {
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
