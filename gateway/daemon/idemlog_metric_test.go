package daemon_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// The gateway's idempotency-log gauge is the store's: each approval logs
// its stored answer, so after three purchases the logs hold three.
func TestIdemLogGaugeFollowsTheStore(t *testing.T) {
	g := startGateway(t, gwOptions{})
	require.Equal(t, 0.0, metric(g.scrape(), "ecardgw_store_idempotency_log_values"))
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	for range 3 {
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 1, nil), true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
	}
	logged := metric(g.scrape(), "ecardgw_store_idempotency_log_values")
	require.Equal(t, float64(g.d.DB.IdemLogged()), logged)
	require.GreaterOrEqual(t, logged, 3.0)
}
