package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestOutboxWithoutSinkDoesNotGrow: a standalone gateway without a centre
// or stream journals every purchase but adds none to the outbox; status
// and store check report the same outbox, and both say it is not
// forwarded.
func TestOutboxWithoutSinkDoesNotGrow(t *testing.T) {
	cfg, db := writeOpsConfigAdmin(t, freeAddr(t))
	seedStore(t, db, 3) // left from a gateway that had a sink
	sdb, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	_, _, err = sdb.ImportAccounts(context.Background(), []store.Account{{No: 1, Name: "A", CardNumber: "100000000001",
		CardSerial: "00000000100000000001", BalanceFen: 10000, Status: store.StatusActive}})
	require.NoError(t, err)
	require.NoError(t, sdb.Close())

	d, _ := startLoggedDaemon(t, cfg)
	p, _ := dialTerminal(t, d, "T0000001", bytes.Repeat([]byte{0x11}, 16))
	ctx := context.Background()
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	for range 5 {
		resp, _, err := p.Send(ctx, p.CardPurchase("100000000001", 100, nil), true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
	}
	code, out, errOut := runCLI(t, "status", "--config", cfg, "--json")
	require.Equal(t, 0, code, errOut)
	var st admin.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Equal(t, 3, st.Outbox.Records, "the purchases were not added")
	require.False(t, st.Outbox.Forwarded)
	code, out, errOut = runCLI(t, "status", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "outbox             not forwarded (no centre or stream configured; the journal keeps every record); 3 records left in it")

	require.NoError(t, d.Stop())
	out = checkOut(t, "--config", cfg)
	require.Contains(t, out, "journal length  9 records") // 3 seeded, the sign-in, 5 purchases
	require.Contains(t, out, "outbox          3 records, oldest journaled 2026-11-25T08:00:00Z (not forwarded: no centre or stream is configured")
}
