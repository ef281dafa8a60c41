package daemon_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// A commit whose fsync failed after bbolt wrote its meta page may or may
// not be on disk: the gateway answers nothing more (the terminal's
// connection is closed, it will retransmit), readiness goes off, and Run
// returns the error so that the process exits non-zero and the supervisor
// restarts it on what is on disk.
func TestUncertainCommitStopsTheGateway(t *testing.T) {
	var fail atomic.Bool
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1})
	importAccounts(t, dir+"/gw.db", 2, 100000)
	cfg, err := config.Load(path)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: path, ShutdownTimeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler),
		StoreFailAfterCommit: func() error {
			if fail.Load() {
				return errors.New("fsync: input/output error")
			}
			return nil
		}})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(context.Background()) }()
	require.Eventually(t, func() bool { return d.POSAddr() != nil }, 5*time.Second, 10*time.Millisecond)

	c, err := posclient.Dial(d.POSAddr().String(), 5*time.Second)
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	p := &posclient.Terminal{ID: termOf(1), Merchant: "M00000000000001", TMK: tmk, T: c}
	_, err = p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	resp, _, err := p.Send(context.Background(), p.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))

	fail.Store(true)
	_, _, err = p.Send(context.Background(), p.CardPurchase(cardOf(1), 200, nil), true)
	require.Error(t, err, "no answer: the connection is closed")
	select {
	case err := <-ran:
		require.ErrorIs(t, err, store.ErrCommitUncertain)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after an uncertain commit")
	}
}
