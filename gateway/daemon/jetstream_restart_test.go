package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/forward/natstest"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestJetStreamRestart: the gateway keeps approving while the JetStream
// server is down (standalone: its own store is the ledger), the records
// wait in the outbox and retries are counted; after the server comes back
// the backlog drains and the stream holds every journal record exactly
// once, redeliveries deduplicated by the idempotency key.
func TestJetStreamRestart(t *testing.T) {
	ns := natstest.Start(t)
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1,
		extra: fmt.Sprintf("forward: {nats: {url: %q, stream: ECARDGW, subject: ecardgw.records}}\n", ns.URL())})
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 100000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	buy := func(n int) {
		for i := range n {
			resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1+i%2), int64(10+i), nil), true)
			require.NoError(t, err)
			require.Equal(t, "00", posclient.RC(resp))
		}
	}
	drained := func() bool {
		n, err := g.d.Backlog()
		return err == nil && n == 0
	}
	buy(5)
	require.Eventually(t, drained, 10*time.Second, 50*time.Millisecond)

	ns.Stop()
	buy(10)
	// A publish waits for its acknowledgement up to 2 s before it counts
	// as failed and is retried with backoff.
	require.Eventually(t, func() bool { return metric(g.scrape(), "ecardgw_forwarder_retries_total") > 0 },
		15*time.Second, 100*time.Millisecond, "failed deliveries are counted")
	require.False(t, drained(), "records cannot leave while the stream is down")

	ns.Restart()
	require.Eventually(t, drained, 30*time.Second, 100*time.Millisecond, "the backlog drains after the restart")

	var journal uint64
	require.NoError(t, g.d.DB.View(func(tx *store.Tx) error {
		journal = tx.JournalLen()
		return nil
	}))
	nc, err := nats.Connect(ns.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := js.Stream(ctx, "ECARDGW")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, journal, info.State.Msgs, "every journal record once in the stream")
}
