package daemon_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestSignOutStormOverTCP is the attack of the security issue end to end:
// a second connection that knows a live terminal's ids but not its keys
// sends sign-out after sign-out. Every one is refused, and the real
// terminal's next purchase, on its own connection, is approved; its own
// MACed sign-out then works.
func TestSignOutStormOverTCP(t *testing.T) {
	g := startGateway(t, gwOptions{terminals: 2})
	ctx := context.Background()
	real, _ := g.dial(1)
	_, err := real.SignIn(ctx, 1)
	require.NoError(t, err)

	attacker, _ := g.dial(1)
	attacker.Batch, attacker.STAN = 1, 5000
	for range 40 {
		resp, _, err := attacker.Send(ctx, attacker.SignOutMessage(), false)
		require.NoError(t, err)
		require.Equal(t, "A0", posclient.RC(resp))
	}

	resp, _, err := real.Send(ctx, real.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "the real terminal is still signed in")

	resp, err = real.SignOut(ctx)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	real.MAK = make([]byte, 8)
	resp, _, err = real.Send(ctx, real.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp), "signed out by its own sign-out")
}

// TestSessionConfiguration: session.key_lifetime, a terminal's mak and its
// legacy_signout reach the engine.
func TestSessionConfiguration(t *testing.T) {
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 3, extra: "session: {key_lifetime: 1m}\n"})
	cfg, err := os.ReadFile(path)
	require.NoError(t, err)
	for id, opt := range map[string]string{"T0000002": "mak: 3des", "T0000003": "legacy_signout: true"} {
		line := "{id: " + id + ", merchant: M00000000000001, type: pos"
		require.Contains(t, string(cfg), line+"}")
		cfg = bytes.Replace(cfg, []byte(line+"}"), []byte(line+", "+opt+"}"), 1)
	}
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	dbPath := filepath.Join(dir, "gw.db")
	importAccounts(t, dbPath, 8, 100000)

	// T0000001 signed in two minutes ago (its session sealed in the store
	// under the key file's storage key): past the configured lifetime.
	stale := &posclient.Terminal{ID: termOf(1), Merchant: "M00000000000001", TMK: tmk,
		MAK: []byte{0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE}, PIK: make([]byte, 16), Batch: 1}
	db, err := store.Open(dbPath, store.Options{StorageKey: bytes.Repeat([]byte{0xab}, 32)})
	require.NoError(t, err)
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutSession(&store.Session{Terminal: stale.ID, PIK: stale.PIK, MAK: stale.MAK, Batch: 1, BatchOpen: true,
			SignedIn: time.Now().Add(-2 * time.Minute).UTC()})
	}))
	require.NoError(t, db.Close())

	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()

	p1, c1 := g.dial(1)
	stale.T = c1
	resp, _, err := stale.Send(ctx, stale.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp), "expired after key_lifetime, not the default 24 h")
	_, err = p1.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err = p1.Send(ctx, p1.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "a fresh sign-in is good")
	resp, _, err = p1.Send(ctx, p1.SignOutMessage(), false)
	require.NoError(t, err)
	require.Equal(t, "A0", posclient.RC(resp), "T0000001 is not configured for a legacy sign-out")

	p2, _ := g.dial(2)
	p2.DoubleMAK = true
	resp, err = p2.SignIn(ctx, 1)
	require.NoError(t, err, "mak: 3des delivers a double-length MAK")
	require.Len(t, resp.Bytes(62), 40)
	resp, _, err = p2.Send(ctx, p2.CardPurchase(cardOf(2), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))

	p3, _ := g.dial(3)
	_, err = p3.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err = p3.Send(ctx, p3.SignOutMessage(), false)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "legacy_signout: true accepts a sign-out without a MAC")
	resp, _, err = p3.Send(ctx, p3.CardPurchase(cardOf(3), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp))
}
