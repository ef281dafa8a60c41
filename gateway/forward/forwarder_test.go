package forward

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/metrics"
	"ecardgw/store"
)

func fastOptions(db *store.DB, s Sink) Options {
	return Options{DB: db, Sink: s, Batch: 7, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond, Poll: 5 * time.Millisecond}
}

func TestDeliversEverythingInOrder(t *testing.T) {
	db := openDB(t, "")
	journal(t, db, 1, 50, 3)
	s := &fakeSink{retryOnce: map[uint64]bool{9: true, 30: true}}
	m := metrics.New(metrics.BuildInfo{})
	o := fastOptions(db, s)
	o.Metrics = m
	f := New(o)
	runUntil(t, f, func() bool { return pending(t, db) == 0 })
	require.Equal(t, seqs(1, 50), s.delivered(), "strictly in journal order, each once after a retry stop")
	require.Empty(t, deadLetters(t, db))

	// New records after a Kick.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f = New(Options{DB: db, Sink: s, Poll: time.Hour, Metrics: m})
	go func() { done <- f.Run(ctx) }()
	journal(t, db, 51, 5, 3)
	f.Kick()
	require.Eventually(t, func() bool { return pending(t, db) == 0 }, 10*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, seqs(1, 55), s.delivered())
	n, _, err := f.Pending()
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, metric(t, m, "ecardgw_outbox_records", ""))
	require.Equal(t, 55.0, metric(t, m, "ecardgw_forwarder_deliveries_total", "other"))
}

// metric returns the value of the series name{sink=sink} (sink "" for
// a series without labels).
func metric(t *testing.T, m *metrics.Metrics, name, sink string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mm := range mf.GetMetric() {
			if sink != "" && (len(mm.GetLabel()) != 1 || mm.GetLabel()[0].GetValue() != sink) {
				continue
			}
			return mm.GetGauge().GetValue() + mm.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s{sink=%q}", name, sink)
	return 0
}

func TestSinkDownThenBack(t *testing.T) {
	db := openDB(t, "")
	journal(t, db, 1, 20, 2)
	s := &fakeSink{failFirst: 6}
	m := metrics.New(metrics.BuildInfo{})
	o := fastOptions(db, s)
	o.Metrics = m
	runUntil(t, New(o), func() bool { return pending(t, db) == 0 })
	require.Equal(t, seqs(1, 20), s.delivered())
	require.Equal(t, 6.0, metric(t, m, "ecardgw_forwarder_retries_total", "other"))
}

func TestBackoffBoundedWithJitter(t *testing.T) {
	f := New(Options{BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second})
	for fails, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			d := f.backoff(fails)
			require.GreaterOrEqual(t, d, want/2)
			require.LessOrEqual(t, d, want)
		}
	}
}

func TestPermanentRejectionIsDeadLettered(t *testing.T) {
	db := openDB(t, "")
	journal(t, db, 1, 12, 2)
	s := &fakeSink{refuse: map[uint64]bool{3: true, 10: true}}
	m := metrics.New(metrics.BuildInfo{})
	o := fastOptions(db, s)
	o.Metrics = m
	runUntil(t, New(o), func() bool { return pending(t, db) == 0 })
	require.Equal(t, []uint64{1, 2, 4, 5, 6, 7, 8, 9, 11, 12}, s.delivered())
	dl := deadLetters(t, db)
	require.Len(t, dl, 2)
	require.Equal(t, uint64(3), dl[0].Seq)
	require.Equal(t, "fake", dl[0].Sink)
	require.Equal(t, "no such account", dl[0].Reason)
	require.Equal(t, 2.0, metric(t, m, "ecardgw_forwarder_dead_letters_total", "other"))
	require.NoError(t, db.View(func(tx *store.Tx) error {
		r, ok, err := tx.JournalRecord(3)
		require.True(t, ok)
		require.Equal(t, uint32(3), r.Key.STAN, "never dropped: the journal keeps it")
		return err
	}))
}

func TestBatchRefusedWholeIsIsolated(t *testing.T) {
	db := openDB(t, "")
	journal(t, db, 1, 10, 2)
	s := &fakeSink{refuse: map[uint64]bool{4: true}, batchErr: errors.Join(ErrPermanent, errors.New("400 bad record"))}
	runUntil(t, New(fastOptions(db, s)), func() bool { return pending(t, db) == 0 })
	require.Equal(t, []uint64{1, 2, 3, 5, 6, 7, 8, 9, 10}, s.delivered())
	dl := deadLetters(t, db)
	require.Len(t, dl, 1)
	require.Equal(t, uint64(4), dl[0].Seq)
	require.Contains(t, dl[0].Reason, "400 bad record")
}

func TestSecondSinkKeepsOwnPosition(t *testing.T) {
	db := openDB(t, "")
	journal(t, db, 1, 15, 2)
	second := &fakeSink{refuse: map[uint64]bool{5: true}}
	o := fastOptions(db, second)
	o.Position = "stream"
	f := New(o)
	require.NoError(t, f.Flush(context.Background()))
	require.Equal(t, 15, pending(t, db), "the outbox is the primary sink's")
	require.Len(t, second.delivered(), 14)
	n, _, err := f.Pending()
	require.NoError(t, err)
	require.Zero(t, n)
	journal(t, db, 16, 2, 2)
	n, oldest, err := f.Pending()
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, standIn(16, 2).Time, oldest)
	require.NoError(t, f.Flush(context.Background()))
	require.Equal(t, append(append(seqs(1, 4), seqs(6, 15)...), 16, 17), second.delivered())

	primary := &fakeSink{}
	require.NoError(t, New(fastOptions(db, primary)).Flush(context.Background()))
	require.Equal(t, seqs(1, 17), primary.delivered())
}

func TestRunNeedsOptions(t *testing.T) {
	require.ErrorIs(t, New(Options{}).Run(context.Background()), ErrBadOptions)
}
