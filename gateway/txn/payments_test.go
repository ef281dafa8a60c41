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
)

// channel is a payment-channel double: the code's last digit picks the
// outcome (0–4 paid, 5 paying then paid, 6 paying until cancelled,
// 7 declined, 8 not bound, 9 unreachable). Each query moves the fixture's
// clock on by a second, as a real poll would.
type channel struct {
	f       *fixture
	mu      sync.Mutex
	pays    map[string]txn.PayRequest
	queries map[string]int
	cancels []string
	refunds []string
}

func newChannel(f *fixture) *channel {
	return &channel{f: f, pays: map[string]txn.PayRequest{}, queries: map[string]int{}}
}

func (ch *channel) outcome(tradeNo string) txn.PayResult {
	r := ch.pays[tradeNo]
	d := r.AuthCode[len(r.AuthCode)-1]
	switch {
	case d <= '4':
		return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH" + tradeNo}
	case d == '5':
		if ch.queries[tradeNo] >= 2 {
			return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH" + tradeNo}
		}
		return txn.PayResult{Status: txn.PayPaying}
	case d == '6':
		return txn.PayResult{Status: txn.PayPaying}
	case d == '7':
		return txn.PayResult{Status: txn.PayDeclined}
	}
	return txn.PayResult{Status: txn.PayNotBound}
}

func (ch *channel) Pay(_ context.Context, r txn.PayRequest) (txn.PayResult, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if r.AuthCode[len(r.AuthCode)-1] == '9' {
		return txn.PayResult{}, txn.ErrPayUnreachable
	}
	ch.pays[r.TradeNo] = r
	return ch.outcome(r.TradeNo), nil
}

func (ch *channel) Query(_ context.Context, tradeNo string) (txn.PayResult, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.queries[tradeNo]++
	ch.f.advance(time.Second)
	return ch.outcome(tradeNo), nil
}

func (ch *channel) Cancel(_ context.Context, tradeNo string) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.cancels = append(ch.cancels, tradeNo)
	return nil
}

func (ch *channel) Refund(_ context.Context, tradeNo, refundNo string, amount int64) (txn.PayResult, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.refunds = append(ch.refunds, tradeNo)
	return txn.PayResult{Status: txn.PayRefunded}, nil
}

func withChannel(f *fixture, ch *channel) func(*txn.Config) {
	return func(c *txn.Config) {
		c.Payments = ch
		c.Poll = txn.PollPolicy{Limit: 30 * time.Second, Interval: time.Millisecond}
	}
}

func TestThirdPartyPurchaseOutcomes(t *testing.T) {
	f := newFixture(t)
	ch := newChannel(f)
	f.restart(withChannel(f, ch))
	p := f.signedIn("T0000001", 1)
	cases := []struct {
		code, rc, channel string
	}{
		{"134567890123456780", "00", "WECHAT"},
		{"2812345678901234", "00", "ALIPAY"},
		{"6212345678901234560", "00", "UNIONPAY"},
		{"134567890123456785", "00", "WECHAT"}, // paying, then paid
		{"134567890123456786", "98", "WECHAT"}, // paying until the limit: cancelled
		{"134567890123456787", "P2", "WECHAT"},
		{"134567890123456788", "P1", "WECHAT"},
		{"134567890123456789", "91", "WECHAT"},
	}
	for _, tc := range cases {
		resp, _ := send(t, p, p.CodePurchase(tc.code, 1500))
		require.Equal(t, tc.rc, posclient.RC(resp), tc.code)
		require.Equal(t, tc.channel, string(resp.Bytes(44)), tc.code)
		require.False(t, resp.Has(54), "the campus account is not touched")
	}
	require.Eventually(t, func() bool { ch.mu.Lock(); defer ch.mu.Unlock(); return len(ch.cancels) == 2 },
		5*time.Second, time.Millisecond, "the unresolved payment and the one of unknown outcome were cancelled")
	require.Equal(t, int64(10000), f.balance(1001))
}

func TestThirdPartyRetransmissionPaysOnce(t *testing.T) {
	f := newFixture(t)
	ch := newChannel(f)
	f.restart(withChannel(f, ch))
	p := f.signedIn("T0000001", 1)
	m := p.CodePurchase("134567890123456781", 800)
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	_, first, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	_, again, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Len(t, ch.pays, 1)

	// Refund and reversal go back to the channel.
	stan, _ := m.STAN()
	resp, _ := send(t, p, p.Refund("", 300, 1, stan, 1126))
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, p, p.Refund("", 501, 1, stan, 1126))
	require.Equal(t, "13", posclient.RC(resp), "refunds never exceed the purchase")
	buy2 := p.CodePurchase("2812345678901234", 200)
	send(t, p, buy2)
	resp, _ = send(t, p, p.Reversal(buy2, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Eventually(t, func() bool { ch.mu.Lock(); defer ch.mu.Unlock(); return len(ch.refunds) == 2 },
		5*time.Second, time.Millisecond, "the reversal's refund is queued with its answer and run at once")
}

func TestTopUpCreditedAfterChannelConfirms(t *testing.T) {
	f := newFixture(t)
	ch := newChannel(f)
	f.restart(withChannel(f, ch))
	k := f.signedIn("K0000001", 1)
	resp, _ := send(t, k, topUp(k, cardOK, 5000, "134567890123456780"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(15000), f.balance(1001))
	require.Equal(t, int64(15000), balance54(t, resp)[0].Amount)

	resp, _ = send(t, k, topUp(k, cardOK, 5000, "134567890123456787"))
	require.Equal(t, "P2", posclient.RC(resp))
	require.Equal(t, int64(15000), f.balance(1001), "not credited when the channel declines")

	n := len(ch.pays)
	resp, _ = send(t, k, topUp(k, cardFrozen, 5000, "134567890123456780"))
	require.Equal(t, "62", posclient.RC(resp))
	require.Len(t, ch.pays, n, "a frozen account is refused before anyone is charged")
}
