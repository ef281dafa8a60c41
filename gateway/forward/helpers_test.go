package forward

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/metrics"
	"ecardgw/store"
)

func openDB(t testing.TB, path string) *store.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "gw.db")
	}
	db, err := store.Open(path, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// standIn is record i of a test journal: a stand-in purchase of i fen by
// account 1 + i%accounts.
func standIn(i, accounts int) store.Record {
	return store.Record{Time: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Key:  store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200},
		Kind: store.KindPurchase, Account: uint64(1 + i%accounts), CardMasked: "1000******01", Channel: store.ChannelCampus,
		Amount: int64(i), Resp: "00", StandIn: true}
}

func journal(t testing.TB, db *store.DB, from, n, accounts int) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for i := from; i < from+n; i++ {
			r := standIn(i, accounts)
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	}))
}

func pending(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.View(func(tx *store.Tx) error {
		var err error
		n, err = tx.OutboxLen()
		return err
	}))
	return n
}

func deadLetters(t testing.TB, db *store.DB) []store.DeadLetter {
	t.Helper()
	var out []store.DeadLetter
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.DeadLetters(func(d store.DeadLetter) error { out = append(out, d); return nil })
	}))
	return out
}

// fakeSink records what it is given and fails as told.
type fakeSink struct {
	mu        sync.Mutex
	got       []uint64 // every seq delivered OK, in arrival order
	calls     int
	failFirst int             // fail this many calls with an error
	refuse    map[uint64]bool // refuse these for good
	retryOnce map[uint64]bool // answer "try again" once for these
	batchErr  error           // fail any batch with this error
}

func (s *fakeSink) Name() string         { return "fake" }
func (s *fakeSink) Metric() metrics.Sink { return metrics.SinkOther }

func (s *fakeSink) Deliver(_ context.Context, recs []store.Record) ([]Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failFirst {
		return nil, fmt.Errorf("sink down (call %d)", s.calls)
	}
	if s.batchErr != nil {
		for _, r := range recs {
			if s.refuse[r.Seq] || len(recs) > 1 {
				return nil, s.batchErr
			}
		}
	}
	res := make([]Result, len(recs))
	stopped := false
	for i, r := range recs {
		res[i].Seq = r.Seq
		switch {
		case stopped:
			res[i].Reason = "after a record to retry"
		case s.refuse[r.Seq] && s.batchErr == nil:
			res[i].Permanent, res[i].Reason = true, "no such account"
		case s.retryOnce[r.Seq]:
			delete(s.retryOnce, r.Seq)
			res[i].Reason = "busy"
			stopped = true
		default:
			res[i].OK = true
			s.got = append(s.got, r.Seq)
		}
	}
	return res, nil
}

func (s *fakeSink) delivered() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.got...)
}

func seqs(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// runUntil runs the forwarder until cond holds (bounded), then stops it.
func runUntil(t *testing.T, f *Forwarder, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	require.Eventually(t, cond, 20*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
