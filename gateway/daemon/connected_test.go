package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// startCentre runs the reference centre on loopback with n accounts.
func startCentre(t *testing.T, n int, balance int64) (*refcentre.Centre, string) {
	t.Helper()
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	rows := make([]store.Account, n)
	for i := range rows {
		card := cardOf(i + 1)
		rows[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1), CardNumber: card,
			CardSerial: "00000000" + card, BalanceFen: balance, Status: store.StatusActive}
	}
	_, _, err = c.Import(rows)
	require.NoError(t, err)
	srv, err := c.Listen("127.0.0.1:0", nil)
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = c.Close()
	})
	return c, srv.Addr()
}

func centreBalance(t *testing.T, c *refcentre.Centre, no uint64) int64 {
	a, ok, err := c.Account(no)
	require.NoError(t, err)
	require.True(t, ok)
	return a.BalanceFen
}

// TestConnectedModeWithReferenceCentre: online purchases are the centre's;
// with the centre down the gateway stands in within its limits; when it
// returns the backlog drains and the centre's balances equal the journal's;
// a loss reported at the centre stops the card at the gateway.
func TestConnectedModeWithReferenceCentre(t *testing.T) {
	c, addr := startCentre(t, 8, 100000)
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 2, mode: "connected", extra: "centre: {url: http://" + addr + ", timeout: 300ms}\n"})
	importAccounts(t, filepath.Join(dir, "gw.db"), 8, 100000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)

	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 1500, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(100000-1500), centreBalance(t, c, 1), "the centre is the ledger")

	c.SetFaults(refcentre.Faults{Down: true})
	standIn := int64(0)
	for _, amt := range []int64{5000, 4000, 5001} {
		resp, _, err = p.Send(ctx, p.CardPurchase(cardOf(2), amt, nil), true)
		require.NoError(t, err)
		if amt > 5000 {
			require.Equal(t, "61", posclient.RC(resp), "over the stand-in limit")
			continue
		}
		require.Equal(t, "00", posclient.RC(resp), "stand-in")
		standIn += amt
	}
	require.Equal(t, int64(100000), centreBalance(t, c, 2), "not applied at the centre yet")

	c.SetFaults(refcentre.Faults{})
	require.Eventually(t, func() bool {
		n, err := g.d.Backlog()
		return err == nil && n == 0
	}, 20*time.Second, 50*time.Millisecond, "the backlog drains when the centre returns")
	require.Equal(t, int64(100000-standIn), centreBalance(t, c, 2), "stand-in purchases applied once")
	require.Equal(t, int64(100000-1500), centreBalance(t, c, 1), "online purchases not applied twice")

	// A loss reported at the centre reaches the gateway's replica.
	_, err = c.ReportLoss(cardOf(3), true)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var lost bool
		_ = g.d.DB.View(func(tx *store.Tx) error {
			a, _, err := tx.Account(3)
			lost = a.Status == store.StatusLost
			return err
		})
		return lost
	}, 5*time.Second, 20*time.Millisecond)
	c.SetFaults(refcentre.Faults{Down: true})
	resp, _, err = p.Send(ctx, p.CardPurchase(cardOf(3), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "41", posclient.RC(resp), "never stand in for a lost card")
}

// TestPaymentCodesThroughReferenceCentre: a standalone gateway with
// payments.url pays WeChat and Alipay codes through the reference centre's
// channel simulator, whose last digit picks the outcome.
func TestPaymentCodesThroughReferenceCentre(t *testing.T) {
	_, addr := startCentre(t, 2, 1000)
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1,
		extra: "payments: {url: http://" + addr + ", poll_limit: 1s, poll_interval: 100ms}\n"})
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 1000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	cases := []struct{ code, rc, ch string }{
		{"134567890123456780", "00", "WECHAT"},
		{"281234567890123455", "00", "ALIPAY"},
		{"134567890123456786", "98", "WECHAT"},
		{"134567890123456787", "P2", "WECHAT"},
		{"134567890123456788", "P1", "WECHAT"},
	}
	for _, tc := range cases {
		resp, _, err := p.Send(ctx, p.CodePurchase(tc.code, 990), true)
		require.NoError(t, err)
		require.Equal(t, tc.rc, posclient.RC(resp), tc.code)
		require.Equal(t, tc.ch, string(resp.Bytes(44)))
	}
	require.Equal(t, int64(1000), g.balance(1), "payment codes never touch the campus account")
}
