package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// Purchase 1.00, full refund, reversal of the purchase, reversal of the
// refund: the customer ends where they started, never at −1.00.
func TestReversalsAfterRefundCreateNoMoney(t *testing.T) {
	for _, order := range []string{"purchase first", "refund first"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(t)
			p := f.signedIn("T0000001", 1)
			buy := p.CardPurchase(cardOK, 100, nil)
			resp, _ := send(t, p, buy)
			require.Equal(t, "00", posclient.RC(resp))
			stan, _ := buy.STAN()
			ref := p.Refund(cardOK, 100, 1, stan, 1126)
			resp, _ = send(t, p, ref)
			require.Equal(t, "00", posclient.RC(resp))
			require.Equal(t, int64(10000), f.balance(1001))

			revs := []string{"purchase", "refund"}
			if order == "refund first" {
				revs = []string{"refund", "purchase"}
			}
			for _, r := range revs {
				m := buy
				if r == "refund" {
					m = ref
				}
				resp, _ = send(t, p, p.Reversal(m, "98"))
				require.Equal(t, "00", posclient.RC(resp), r)
			}
			require.Equal(t, int64(10000), f.balance(1001), "the purchase is undone, nothing more")
		})
	}
}

// A partial refund, then the refund reversed (refundable again), then a
// second refund and the purchase reversed: net zero, refunds never above
// the purchase.
func TestRefundReversedIsRefundableAgain(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	buy := p.CardPurchase(cardOK, 1000, nil)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := buy.STAN()
	ref := p.Refund(cardOK, 600, 1, stan, 1126)
	resp, _ = send(t, p, ref)
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, p, p.Refund(cardOK, 401, 1, stan, 1126))
	require.Equal(t, "13", posclient.RC(resp), "only 4.00 left to refund")
	resp, _ = send(t, p, p.Reversal(ref, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(9000), f.balance(1001))
	resp, _ = send(t, p, p.Refund(cardOK, 1000, 1, stan, 1126))
	require.Equal(t, "00", posclient.RC(resp), "the reversed refund is refundable again")
	require.Equal(t, int64(10000), f.balance(1001))
	resp, _ = send(t, p, p.Reversal(buy, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001), "fully refunded: the reversal gives back nothing more")
}
