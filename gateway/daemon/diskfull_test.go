package daemon_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
)

// TestDiskFull: with the store capped (the disk fills), purchases are
// answered 96 and change no balance (nothing approved without its journal
// record), balance inquiries are still answered, store_up drops to 0 and
// the log says so once; when space returns the gateway serves again by
// itself and says so.
func TestDiskFull(t *testing.T) {
	// Room for the sign-in and a few hundred purchases, not more.
	capBytes := 1 << 20
	g, logs := startLogged(t, gwOptions{maxSize: capBytes}, nil)
	info, err := os.Stat(filepath.Join(g.dir, "gw.db"))
	require.NoError(t, err)
	require.Less(t, info.Size(), int64(capBytes), "the imported store must start below the cap")
	require.Equal(t, 1.0, metric(g.scrape(), "ecardgw_store_up"))

	ctx := context.Background()
	p, _ := g.dial(1)
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)

	var approved int64
	full := false
	for n := 0; n < 20000 && !full; n++ {
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 1, nil), true)
		require.NoError(t, err)
		switch rc := posclient.RC(resp); rc {
		case "00":
			approved++
		case "96":
			full = true
		default:
			t.Fatalf("purchase answered %s", rc)
		}
	}
	require.True(t, full, "the capped store never filled")
	require.Positive(t, approved)
	require.Equal(t, 100000-approved, g.balance(1), "a purchase answered 96 changed the balance")

	// Still full: more purchases are refused, inquiries answered.
	for range 3 {
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(2), 500, nil), true)
		require.NoError(t, err)
		require.Equal(t, "96", posclient.RC(resp))
	}
	require.Equal(t, int64(100000), g.balance(2))
	m := g.scrape()
	require.Equal(t, 0.0, metric(m, "ecardgw_store_up"))
	require.Positive(t, metric(m, "ecardgw_pos_requests_total", `mti="0200"`, `code="96"`))
	require.Equal(t, 1, countLines(logs.String(), "the store cannot write"), "the failure is logged once, not per commit")
	require.Equal(t, http.StatusServiceUnavailable, readyz(t, g), "not ready while nothing can be approved")

	// An inquiry is answered: journaled when its small record still fits,
	// otherwise from a read transaction (TestInquiryWithoutJournal in
	// gateway/txn forces that path).
	resp, _, err := p.Send(ctx, p.CardInquiry(cardOf(1)), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "a balance inquiry needs no journal space")
	bals, err := iso8583.ParseBalances(resp.Bytes(54), nil)
	require.NoError(t, err)
	require.Equal(t, 100000-approved, bals[0].Amount)

	// Space returns.
	require.NoError(t, g.d.DB.SetMaxSize(0))
	require.Eventually(t, func() bool { return metric(g.scrape(), "ecardgw_store_up") == 1 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusOK, readyz(t, g))
	resp, _, err = p.Send(ctx, p.CardPurchase(cardOf(2), 500, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(100000-500), g.balance(2))
	require.Contains(t, logs.String(), "store writable again")
}

func readyz(t *testing.T, g *gateway) int {
	t.Helper()
	res, err := http.Get("http://" + g.d.Admin.Addr() + "/readyz")
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}
