package txn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// observed is one Request report.
type observed struct {
	mti     uint16
	rc      txn.RC
	retrans bool
}

// recorder is an Observer that keeps the Request reports.
type recorder struct {
	mu       sync.Mutex
	requests []observed
	payments []store.Channel
}

func (r *recorder) Request(mti uint16, rc txn.RC, retrans bool, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, observed{mti, rc, retrans})
}

func (r *recorder) Payment(ch store.Channel, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payments = append(r.payments, ch)
}

func (*recorder) FrameError(string) {}
func (*recorder) SignIn()           {}
func (*recorder) MACFailure()       {}
func (*recorder) CampusCode(string) {}
func (*recorder) StandIn()          {}

func (r *recorder) since(n int) []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observed(nil), r.requests[n:]...)
}

func observedBy(r *recorder) func(*txn.Config) {
	return func(c *txn.Config) { c.Observer = r }
}

// sendTwice sends m, then the same frame again (the terminal did not get
// the answer), and checks both answers are the same bytes.
func sendTwice(t *testing.T, p *posclient.Terminal, m *iso8583.Message) {
	t.Helper()
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	_, first, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	_, again, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	require.Equal(t, first, again)
}

// A retransmission is reported with the response code of the stored
// answer it gets, and as a retransmission: whether it is answered from
// the store transaction's idempotency check or before it (a payment
// code's request is never paid twice).
func TestRetransmissionReportsTheStoredAnswersCode(t *testing.T) {
	obs := &recorder{}
	f := newFixture(t, observedBy(obs))
	ch := newChannel(f)
	f.restart(observedBy(obs), withChannel(f, ch))
	p := f.signedIn("T0000001", 1)

	n := len(obs.since(0))
	sendTwice(t, p, p.CardPurchase(cardOK, 100, nil))
	sendTwice(t, p, p.CardPurchase(cardPoor, 500, nil))
	sendTwice(t, p, p.CodePurchase("134567890123456780", 800))
	sendTwice(t, p, p.CodePurchase("134567890123456787", 800))
	require.Equal(t, []observed{
		{200, txn.RCApproved, false}, {200, txn.RCApproved, true},
		{200, txn.RCInsufficient, false}, {200, txn.RCInsufficient, true},
		{200, txn.RCApproved, false}, {200, txn.RCApproved, true},
		{200, txn.RCChannelDecline, false}, {200, txn.RCChannelDecline, true},
	}, obs.since(n))
	require.Equal(t, []store.Channel{store.ChannelWeChat, store.ChannelWeChat}, obs.payments,
		"each payment code was paid once")
}
