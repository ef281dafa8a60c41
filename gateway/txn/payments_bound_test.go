package txn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// boundChannel names the campus account of the payer of every paid trade,
// as gateway/paychan does for a bound WeChat or Alipay payer.
type boundChannel struct {
	*channel
	account uint64
}

func (b boundChannel) Pay(ctx context.Context, r txn.PayRequest) (txn.PayResult, error) {
	res, err := b.channel.Pay(ctx, r)
	if res.Status == txn.PayPaid {
		res.Account = b.account
	}
	return res, err
}

func (b boundChannel) Query(ctx context.Context, no string) (txn.PayResult, error) {
	res, err := b.channel.Query(ctx, no)
	if res.Status == txn.PayPaid {
		res.Account = b.account
	}
	return res, err
}

// TestBoundPayerPurchaseIsInTheirHistory: a code purchase paid by a bound
// payer, and its refund, are journalled on the payer's account (so they
// show in the history) without touching the campus balance.
func TestBoundPayerPurchaseIsInTheirHistory(t *testing.T) {
	f := newFixture(t)
	ch := newChannel(f)
	f.restart(func(c *txn.Config) {
		withChannel(f, ch)(c)
		c.Payments = boundChannel{channel: ch, account: 1001}
	})
	p := f.signedIn("T0000001", 1)
	buy := p.CodePurchase("134567890123456780", 1500)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := buy.STAN()
	resp, _ = send(t, p, p.Refund("", 500, 1, stan, 1126))
	require.Equal(t, "00", posclient.RC(resp))
	require.EqualValues(t, 10000, f.balance(1001), "the campus balance is not touched")

	var got []string
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		recs, err := tx.LastJournal(10, 1001)
		for _, r := range recs {
			got = append(got, string(r.Kind)+"/"+string(r.Channel))
			require.EqualValues(t, 10000, r.BalanceAfter)
		}
		return err
	}))
	require.ElementsMatch(t, []string{"purchase/WECHAT", "refund/WECHAT"}, got)
}
