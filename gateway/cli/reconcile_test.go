package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/ledgercheck"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

func reconcileCard(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// reconcileWorld is a connected gateway (in-process) and the reference
// centre, both with accounts 1 and 2 at 100.00.
func reconcileWorld(t *testing.T) (cfgPath, dbPath string, c *refcentre.Centre) {
	t.Helper()
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	rows := make([]store.Account, 2)
	for i := range rows {
		rows[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1), CardNumber: reconcileCard(i + 1),
			CardSerial: "00000000" + reconcileCard(i+1), BalanceFen: 10000, Status: store.StatusActive}
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
	cfgPath, dbPath = writeOpsConfigWith(t, "127.0.0.1:0", "centre: {url: http://"+srv.Addr()+", timeout: 1s}\n",
		"admin_tokens: ["+opsAdminToken+"]\n")
	raw, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfgPath, bytes.Replace(raw, []byte("mode: standalone"), []byte("mode: connected"), 1), 0o600))
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	_, _, err = db.ImportAccounts(context.Background(), rows)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	return cfgPath, dbPath, c
}

// TestReconcile: after a clean run (online purchases, an offline advice,
// the outbox drained) reconcile finds no differences, reading the running
// gateway; an op only the centre has and a balance changed at the
// gateway are reported, with exit status 1.
func TestReconcile(t *testing.T) {
	cfgPath, dbPath, c := reconcileWorld(t)
	d, admin := startOpsDaemon(t, cfgPath)
	conn, err := posclient.Dial(d.POSAddr().String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	p := &posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001", TMK: bytes.Repeat([]byte{0x11}, 16), T: conn}
	ctx := context.Background()
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	for _, m := range []func() string{
		func() string {
			r, _, err := p.Send(ctx, p.CardPurchase(reconcileCard(1), 1500, nil), true)
			require.NoError(t, err)
			return posclient.RC(r)
		},
		func() string {
			r, _, err := p.Send(ctx, p.CardPurchase(reconcileCard(2), 700, nil), true)
			require.NoError(t, err)
			return posclient.RC(r)
		},
		func() string {
			m := p.New(220, 0, 0)
			posclient.SetCard(m, reconcileCard(1))
			posclient.SetAmount(m, 1200)
			r, _, err := p.Send(ctx, m, true)
			require.NoError(t, err)
			return posclient.RC(r)
		},
	} {
		require.Equal(t, "00", m())
	}
	require.Eventually(t, func() bool {
		n, err := d.Backlog()
		return err == nil && n == 0
	}, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		a, _, err := c.Account(1)
		return err == nil && a.BalanceFen == 10000-1500-1200
	}, 5*time.Second, 20*time.Millisecond)

	ledgercheck.RequireBalancesEqualAdmin(t, admin, opsAdminToken, c, 10*time.Second)
	code, out, errOut := runCLI(t, "reconcile", "--config", cfgPath, "--admin", admin)
	require.Equal(t, 0, code, "%s%s", out, errOut)
	require.Contains(t, out, "3 money records at the gateway, 3 at the centre, 2 accounts: no differences")

	// Diverge: a purchase only the centre knows, then (gateway stopped) a
	// balance changed behind the gateway's back.
	_, _, err = c.Authorize(&centre.WireAuthRequest{Key: centre.WireKey{Terminal: "T0000009", Batch: 1, STAN: 1, MTI: 200},
		Kind: centre.KindPurchase, Card: reconcileCard(2), Amount: 300, Time: time.Now().UTC()})
	require.NoError(t, err)
	require.NoError(t, d.Stop())
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Update(ctx, func(tx *store.Tx) error {
		a, _, err := tx.Account(1)
		if err != nil {
			return err
		}
		a.BalanceFen += 100
		return tx.PutAccount(&a)
	}))
	require.NoError(t, db.Close())

	code, out, errOut = runCLI(t, "reconcile", "--config", cfgPath)
	require.Equal(t, 1, code, out)
	require.Contains(t, errOut, "the gateway and the centre differ: 3 differences")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Equal(t, []string{
		"op       T0000009:000001:000001:0200 purchase account 2 3.00: applied at the centre, unknown at the gateway",
		"balance  account 1: gateway 74.00, centre 73.00, difference 1.00",
		"balance  account 2: gateway 93.00, centre 90.00, difference 3.00",
	}, lines[:len(lines)-1])
	require.Contains(t, lines[len(lines)-1], ": 3 differences")

	// A period without those transactions still compares the balances.
	code, out, _ = runCLI(t, "reconcile", "--config", cfgPath, "--since", "2020-01-01", "--until", "2020-01-02")
	require.Equal(t, 1, code)
	require.Contains(t, out, "0 money records at the gateway, 0 at the centre, 2 accounts: 2 differences")

	code, _, errOut = runCLI(t, "reconcile", "--config", cfgPath, "--since", "2020-01-02", "--until", "2020-01-01")
	require.Equal(t, 2, code, errOut)
}
