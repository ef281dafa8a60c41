package daemon_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// TestRetransmissionCountedUnderItsAnswersCode: a request sent again gets
// the answer stored for it (promise 2). The request counter counts it
// under that answer's response code, approved or declined, never as
// "other"; the retransmission counter counts it once more by MTI.
func TestRetransmissionCountedUnderItsAnswersCode(t *testing.T) {
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	for _, card := range []string{cardOf(1), "999999999999"} {
		m := p.CardPurchase(card, 100, nil)
		req, err := iso8583AppendFrame(m, p.MAK)
		require.NoError(t, err)
		_, first, err := p.SendRaw(ctx, req, m, true)
		require.NoError(t, err)
		resp, again, err := p.SendRaw(ctx, req, m, true)
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.NotEqual(t, "", posclient.RC(resp))
	}
	s := g.scrape()
	require.Equal(t, 2.0, metric(s, "ecardgw_pos_requests_total", `mti="0200"`, `code="00"`))
	require.Equal(t, 2.0, metric(s, "ecardgw_pos_requests_total", `mti="0200"`, `code="14"`))
	require.Equal(t, 0.0, metric(s, "ecardgw_pos_requests_total", `code="other"`))
	require.Equal(t, 2.0, metric(s, "ecardgw_pos_retransmissions_total", `mti="0200"`))
	require.Equal(t, 2.0, metric(s, "ecardgw_pos_retransmissions_total"))
}
