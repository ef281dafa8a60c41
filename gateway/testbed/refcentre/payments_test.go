package refcentre

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func payCode(last int) string { return fmt.Sprintf("28%015d%d", 123456789, last) }

func pay(trade string, last int, amount int64) txn.PayRequest {
	return txn.PayRequest{TradeNo: trade, Channel: store.ChannelAlipay, AuthCode: payCode(last), Amount: amount, Terminal: "T0000001"}
}

func TestPaymentChannelOutcomes(t *testing.T) {
	f := newFixture(t, 1, Options{PayDelay: 300 * time.Millisecond})
	c := ctx(t)
	for last := 0; last <= 4; last++ {
		r, err := f.cl.Pay(c, pay(fmt.Sprintf("paid-%d", last), last, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayPaid, r.Status, "digit %d", last)
		require.NotEmpty(t, r.ChannelTxn)
	}

	t.Run("5 paying then paid at the second query", func(t *testing.T) {
		r, err := f.cl.Pay(c, pay("poll", 5, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayPaying, r.Status)
		r, err = f.cl.Query(c, "poll")
		require.NoError(t, err)
		require.Equal(t, txn.PayPaying, r.Status)
		r, err = f.cl.Query(c, "poll")
		require.NoError(t, err)
		require.Equal(t, txn.PayPaid, r.Status)
	})
	t.Run("6 paying until cancelled", func(t *testing.T) {
		r, err := f.cl.Pay(c, pay("stuck", 6, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayPaying, r.Status)
		for range 5 {
			r, err = f.cl.Query(c, "stuck")
			require.NoError(t, err)
			require.Equal(t, txn.PayPaying, r.Status)
		}
		require.NoError(t, f.cl.Cancel(c, "stuck"))
		require.NoError(t, f.cl.Cancel(c, "stuck"), "cancelling twice is harmless")
		r, err = f.cl.Query(c, "stuck")
		require.NoError(t, err)
		require.Equal(t, txn.PayCancelled, r.Status)
	})
	t.Run("7 declined, 8 not bound, bad code declined", func(t *testing.T) {
		r, err := f.cl.Pay(c, pay("dec", 7, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayDeclined, r.Status)
		r, err = f.cl.Pay(c, pay("nb", 8, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayNotBound, r.Status)
		r, err = f.cl.Pay(c, txn.PayRequest{TradeNo: "bad", AuthCode: "12ab", Amount: 100})
		require.NoError(t, err)
		require.Equal(t, txn.PayDeclined, r.Status)
	})
	t.Run("9 paid after the delay", func(t *testing.T) {
		start := time.Now()
		r, err := f.cl.Pay(c, pay("slow", 9, 100))
		require.NoError(t, err)
		require.Equal(t, txn.PayPaid, r.Status)
		require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	})
}

func TestPaymentIdempotentByTradeNumber(t *testing.T) {
	f := newFixture(t, 1, Options{})
	c := ctx(t)
	first, err := f.cl.Pay(c, pay("T1", 1, 500))
	require.NoError(t, err)
	again, err := f.cl.Pay(c, pay("T1", 1, 500))
	require.NoError(t, err)
	require.Equal(t, first, again)
	_, err = f.cl.Pay(c, pay("T1", 2, 500))
	require.ErrorIs(t, err, centre.ErrRejected, "a trade number reused for another code")
	_, err = f.cl.Query(c, "never")
	require.ErrorIs(t, err, centre.ErrRejected)

	r, err := f.cl.Refund(c, "T1", "R1", 200)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, r.Status)
	r, err = f.cl.Refund(c, "T1", "R1", 200)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, r.Status, "the same refund again")
	r, err = f.cl.Refund(c, "T1", "R2", 301)
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, r.Status, "beyond what is left")
	r, err = f.cl.Refund(c, "T1", "R3", 300)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, r.Status)
	q, err := f.cl.Query(c, "T1")
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, q.Status)

	// Cancel before the pay arrives: the late pay is refused.
	require.NoError(t, f.cl.Cancel(c, "T2"))
	r, err = f.cl.Pay(c, pay("T2", 0, 100))
	require.NoError(t, err)
	require.Equal(t, txn.PayCancelled, r.Status)
	require.Equal(t, uint64(3), f.c.Stats().Payments, "the refused reuse is not counted")
}
