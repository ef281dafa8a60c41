package forward

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

// streamRecords reads the whole stream back: each message's Nats-Msg-Id
// and the record's sequence number.
func streamRecords(t *testing.T, url, stream string) (ids []string, seqs []uint64) {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		var w centre.WireRecord
		require.NoError(t, json.Unmarshal(m.Data, &w))
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
		seqs = append(seqs, w.Seq)
		require.Equal(t, centre.KeyString(w.Key.IdemKey()), m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids, seqs
}

func TestNATSSinkAcrossServerRestart(t *testing.T) {
	srv := startNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sink, err := NewNATSSink(ctx, NATSOptions{URL: srv.URL(), Stream: "ECARDGW", Subject: "ecardgw.records", ReconnectWait: 50 * time.Millisecond})
	require.NoError(t, err)
	defer sink.Close()

	db := openDB(t, "")
	journal(t, db, 1, 120, 4)
	f := New(Options{DB: db, Sink: sink, Batch: 10, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Poll: 5 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx) }()
	require.Eventually(t, func() bool { return pending(t, db) < 80 }, 20*time.Second, time.Millisecond)
	srv.Restart() // mid-stream
	journal(t, db, 121, 30, 4)
	f.Kick()
	require.Eventually(t, func() bool { return pending(t, db) == 0 }, 30*time.Second, 10*time.Millisecond)
	stop()
	require.NoError(t, <-done)

	// Publish part of it again, as a crash before the ack would: the
	// stream drops the duplicates by Nats-Msg-Id.
	var again []store.Record
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.JournalSince(100, func(r *store.Record) error { again = append(again, *r); return nil })
	}))
	res, err := sink.Deliver(ctx, again)
	require.NoError(t, err)
	for _, r := range res {
		require.True(t, r.OK)
	}

	ids, got := streamRecords(t, srv.URL(), "ECARDGW")
	require.Equal(t, seqs(1, 150), got, "every record once, in journal order")
	require.Equal(t, "T0000001:000001:000001:0200", ids[0])
}

func TestNATSSinkUsesExistingStreamAndNeedsOptions(t *testing.T) {
	_, err := NewNATSSink(context.Background(), NATSOptions{URL: "nats://127.0.0.1:1"})
	require.ErrorIs(t, err, ErrBadOptions)
	srv := startNATS(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "OPS", Subjects: []string{"campus.>"}})
	require.NoError(t, err)
	sink, err := NewNATSSink(ctx, NATSOptions{Conn: nc, Stream: "OPS", Subject: "campus.east.records"})
	require.NoError(t, err)
	defer sink.Close()
	db := openDB(t, "")
	journal(t, db, 1, 3, 1)
	require.NoError(t, New(Options{DB: db, Sink: sink}).Flush(ctx))
	_, got := streamRecords(t, srv.URL(), "OPS")
	require.Equal(t, seqs(1, 3), got)
	require.False(t, nc.IsClosed(), "a connection given in is not closed by the sink")
}

func TestSharedReplayAcrossGateways(t *testing.T) {
	srv := startNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	east, err := NewSharedReplay(ctx, NATSOptions{URL: srv.URL(), Name: "east"}, "ECARDGW_REPLAY", time.Hour)
	require.NoError(t, err)
	defer east.Close()
	west, err := NewSharedReplay(ctx, NATSOptions{URL: srv.URL(), Name: "west"}, "ECARDGW_REPLAY", time.Hour)
	require.NoError(t, err)
	defer west.Close()

	ok, err := east.Claim(ctx, 1001, 1795650000, 7)
	require.NoError(t, err)
	require.True(t, ok, "first use, at the east campus")
	ok, err = west.Claim(ctx, 1001, 1795650000, 7)
	require.NoError(t, err)
	require.False(t, ok, "the same code at the west campus is refused")
	ok, err = west.Claim(ctx, 1001, 1795650000, 8)
	require.NoError(t, err)
	require.True(t, ok, "the next code is fine")
	ok, err = east.Claim(ctx, 1001, 1795650000, 8)
	require.NoError(t, err)
	require.False(t, ok)

	// A race for one code: exactly one gateway wins.
	var wg sync.WaitGroup
	wins := make([]bool, 8)
	for i := range wins {
		g := east
		if i%2 == 1 {
			g = west
		}
		wg.Go(func() {
			ok, err := g.Claim(ctx, 2002, 1795650001, 1)
			assert.NoError(t, err) // require would stop the wrong goroutine
			wins[i] = ok
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	n := 0
	for _, w := range wins {
		if w {
			n++
		}
	}
	require.Equal(t, 1, n)

	srv.Stop()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	_, err = east.Claim(short, 3003, 1, 1)
	require.Error(t, err, "no server: the caller must decide")
	_, err = NewSharedReplay(ctx, NATSOptions{URL: srv.URL()}, "", 0)
	require.ErrorIs(t, err, ErrBadOptions)
}
