package txn_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// outcome is one Outcome report, copied (its byte slices alias the request).
type outcome struct {
	terminal, merchant, remote string
	mti                        uint16
	rc                         txn.RC
	note                       string
}

// outcomes is an OutcomeObserver.
type outcomes struct {
	recorder
	omu  sync.Mutex
	list []outcome
}

func (o *outcomes) Outcome(x *txn.Outcome) {
	o.omu.Lock()
	defer o.omu.Unlock()
	r := ""
	if x.Remote != nil {
		r = x.Remote.String()
	}
	o.list = append(o.list, outcome{string(x.Terminal), string(x.Merchant), r, x.MTI, x.RC, x.Note})
}

func (o *outcomes) last() outcome {
	o.omu.Lock()
	defer o.omu.Unlock()
	return o.list[len(o.list)-1]
}

// TestOutcomesSayWhy: every answer is reported with the terminal, the
// merchant, the peer's address and, for a decline, which check refused.
func TestOutcomesSayWhy(t *testing.T) {
	obs := &outcomes{}
	f := newFixture(t, func(c *txn.Config) {
		c.Observer = obs
		c.Limits.DailyFen = 1000
	})
	peer := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 40001}
	from := posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return f.eng.HandleFrom(ctx, peer, req), nil
	})
	p := f.pos("T0000001")
	p.T = from
	ctx := context.Background()

	_, _, err := p.Send(ctx, p.CardPurchase(cardOK, 100, nil), false)
	require.NoError(t, err)
	require.Equal(t, outcome{"T0000001", "M00000000000001", "10.1.2.3:40001", 200, txn.RCSignIn, "not signed in"}, obs.last())

	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, outcome{"T0000001", "M00000000000001", "10.1.2.3:40001", 800, txn.RCApproved, ""}, obs.last())

	resp, _, err := p.Send(ctx, p.CardPurchase(cardOK, 1500, nil), true)
	require.NoError(t, err)
	require.Equal(t, "61", posclient.RC(resp))
	require.Equal(t, "limits.daily_fen", obs.last().note)

	resp, _, err = p.Send(ctx, p.CardPurchase(cardOK, 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Empty(t, obs.last().note, "an approval after a decline carries no stale note")

	wrong := *p
	wrong.Merchant = "M00000000000009"
	resp, err = wrong.Echo(ctx)
	require.NoError(t, err)
	require.Equal(t, "03", posclient.RC(resp))
	require.Equal(t, outcome{"T0000001", "M00000000000009", "10.1.2.3:40001", 820, txn.RCUnknownTerm,
		"merchant id does not match the terminal's"}, obs.last())

	bad := *p
	bad.MAK = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	resp, _, err = bad.Send(ctx, bad.CardPurchase(cardOK, 100, nil), false)
	require.NoError(t, err)
	require.Equal(t, "A0", posclient.RC(resp))
	require.Equal(t, "bad MAC", obs.last().note)

	// Handle (no connection) reports no address.
	p.T = f.transport()
	resp, _, err = p.Send(ctx, p.CardPurchase(cardOK, 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, "", obs.last().remote)
}

// nopOutcomes is an OutcomeObserver that does nothing.
type nopOutcomes struct{ recorder }

func (*nopOutcomes) Outcome(*txn.Outcome) {}

// Reporting outcomes costs no allocation per request.
func TestOutcomesDoNotAllocate(t *testing.T) {
	allocs := func(obs txn.Observer) float64 {
		f := newFixture(t, func(c *txn.Config) { c.Observer = obs })
		p := f.signedIn("T0000001", 1)
		m := p.New(820, 0, 301) // echo
		req, err := iso8583.AppendFrame(nil, m, nil)
		require.NoError(t, err)
		peer := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 40001}
		ctx := context.Background()
		return testing.AllocsPerRun(200, func() { _ = f.eng.HandleFrom(ctx, peer, req) })
	}
	got, base := allocs(&recorder{}), allocs(&nopOutcomes{})
	if raceEnabled {
		// sync.Pool drops a share of the pooled work at random under the
		// race detector: the counts move by the work's own allocations.
		require.InDelta(t, base, got, 1.5)
		return
	}
	require.Equal(t, base, got)
}
