package cli

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/forward/natstest"
	"ecardgw/store"
)

// deadLetter journals records 1..n and moves record seq out of the outbox
// into the dead letters of sink, as the forwarder does when a receiver
// refuses it for good.
func deadLetter(t *testing.T, dbPath string, n int, seq uint64, sink string) {
	t.Helper()
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	appendOps(t, db, 1, n)
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.DeleteOutbox(seq); err != nil {
			return err
		}
		return tx.PutDeadLetter(store.DeadLetter{Seq: seq, Sink: sink, At: opsT0.Add(time.Hour), Reason: "subject not allowed"})
	}))
	require.NoError(t, db.Close())
}

// streamMsgs counts the messages in the JetStream stream ECARDGW.
func streamMsgs(t *testing.T, url string) uint64 {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := js.Stream(context.Background(), "ECARDGW")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// TestDeadLettersRequeueDelivers: a dead letter is listed and shown
// through the running gateway; requeue puts it back and the forwarder
// delivers it to a real JetStream server.
func TestDeadLettersRequeueDelivers(t *testing.T) {
	ns := natstest.Start(t)
	cfg, db := writeOpsConfigWith(t, freeAddr(t), fmt.Sprintf("forward: {nats: {url: %q, stream: ECARDGW, subject: ecardgw.records}}\n", ns.URL()),
		"admin_tokens: ["+opsAdminToken+"]\n")
	deadLetter(t, db, 3, 2, "jetstream")
	d, _ := startLoggedDaemon(t, cfg)
	require.Eventually(t, func() bool { n, err := d.Backlog(); return err == nil && n == 0 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, uint64(2), streamMsgs(t, ns.URL()), "records 1 and 3")

	code, out, errOut := runCLI(t, "--config", cfg, "deadletters", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^2 +jetstream +2026-11-25T09:00:00Z +T0000001 +purchase +2 +subject not allowed$`, out)
	code, out, errOut = runCLI(t, "--config", cfg, "deadletters", "show", "2")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "reason     subject not allowed\n")
	require.Contains(t, out, "card 10******0042")
	requireClean(t, out)

	code, out, errOut = runCLI(t, "--config", cfg, "deadletters", "requeue", "2")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "requeued 1 dead letters [2]")
	require.Eventually(t, func() bool { return streamMsgs(t, ns.URL()) == 3 }, 10*time.Second, 20*time.Millisecond,
		"the requeued record is delivered")
	code, out, _ = runCLI(t, "--config", cfg, "deadletters", "list")
	require.Equal(t, 0, code)
	require.Equal(t, "no dead letters\n", out)

	code, _, errOut = runCLI(t, "--config", cfg, "deadletters", "requeue", "2")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no such dead letter")
}

// Offline, with the gateway stopped: the same commands read and write the
// store file; a dead letter of a sink that does not consume the outbox
// is not requeued.
func TestDeadLettersOffline(t *testing.T) {
	cfg, db := writeOpsConfigWith(t, freeAddr(t), "forward: {nats: {url: \"nats://127.0.0.1:1\", stream: ECARDGW, subject: ecardgw.records}}\n", "")
	deadLetter(t, db, 4, 3, "jetstream")
	sdb, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	require.NoError(t, sdb.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutDeadLetter(store.DeadLetter{Seq: 4, Sink: "centre", At: opsT0, Reason: "bad record"})
	}))
	require.NoError(t, sdb.Close())

	code, out, errOut := runCLI(t, "--config", cfg, "deadletters", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^3 +jetstream `, out)
	require.Regexp(t, `(?m)^4 +centre `, out)
	code, _, errOut = runCLI(t, "--config", cfg, "deadletters", "requeue", "4")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "only the dead letters of the first sink")
	code, out, errOut = runCLI(t, "--config", cfg, "deadletters", "requeue", "--all")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "requeued 1 dead letters [3]")

	sdb, err = store.Open(db, store.Options{ReadOnly: true})
	require.NoError(t, err)
	defer sdb.Close()
	var outbox []uint64
	require.NoError(t, sdb.View(func(tx *store.Tx) error {
		return tx.Outbox(0, 0, func(seq, _ uint64) error { outbox = append(outbox, seq); return nil })
	}))
	require.Equal(t, []uint64{1, 2, 3, 4}, outbox, "3 is back in the outbox, in order")

	for _, bad := range [][]string{{"requeue"}, {"requeue", "x"}, {"requeue", "3", "--all"}, {"show", "0"}} {
		code, _, _ := runCLI(t, append([]string{"--config", cfg, "deadletters"}, bad...)...)
		require.Equal(t, 2, code, "%v", bad)
	}
}
