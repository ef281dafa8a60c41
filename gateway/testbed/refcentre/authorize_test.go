package refcentre

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func TestAuthorizeIdempotentByKey(t *testing.T) {
	f := newFixture(t, 2, Options{})
	first, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 1500))
	require.NoError(t, err)
	a, _, err := f.c.Account(1)
	require.NoError(t, err)
	require.Equal(t, centre.AuthResult{RC: "00", Account: 1, BalanceFen: 8500, Status: "active", Version: a.Version}, first,
		"the answer carries the account's version after the debit")

	// Retries, some concurrent, get the same answer and never debit again.
	var wg sync.WaitGroup
	results := make([]centre.AuthResult, 8)
	for i := range results {
		wg.Go(func() {
			r, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 1500))
			assert.NoError(t, err) // require would stop the wrong goroutine
			results[i] = r
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, r := range results {
		require.Equal(t, first, r)
	}
	require.Equal(t, int64(8500), f.balance(t, 1))
	require.Equal(t, uint64(8), f.c.Stats().AuthReplays)

	// Concurrent first attempts of one new key: exactly one debit.
	for range 8 {
		wg.Go(func() {
			_, err := f.cl.Authorize(ctx(t), purchase(2, cardOf(2), 700))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	require.Equal(t, int64(9300), f.balance(t, 2))
}

func TestAuthorizeRules(t *testing.T) {
	f := newFixture(t, 6, Options{})
	_, err := f.c.SetStatus(3, "frozen")
	require.NoError(t, err)
	_, err = f.c.ReportLoss(cardOf(4), true)
	require.NoError(t, err)

	code := func(r centre.AuthRequest) centre.AuthRequest { r.CampusCode, r.Card, r.Account = true, "", 5; return r }
	cases := []struct {
		name string
		req  centre.AuthRequest
		rc   txn.RC
		bal  int64
	}{
		{"unknown card", purchase(10, "999999999999", 100), txn.RCUnknownCard, 0},
		{"frozen", purchase(11, cardOf(3), 100), txn.RCFrozen, 10000},
		{"lost", purchase(12, cardOf(4), 100), txn.RCLost, 10000},
		{"insufficient", purchase(13, cardOf(1), 10001), txn.RCInsufficient, 10000},
		{"zero amount", purchase(14, cardOf(1), 0), txn.RCBadAmount, 10000},
		{"campus code before sync", code(purchase(15, "", 100)), txn.RCInactive, 10000},
		{"sync activates", centre.AuthRequest{Key: key(16), Kind: centre.KindSync, Card: cardOf(5),
			Extra: map[string]string{"wallet_fen": "350"}}, txn.RCApproved, 10000},
		{"campus code after sync", code(purchase(17, "", 100)), txn.RCApproved, 9900},
		{"inquiry", centre.AuthRequest{Key: key(18), Kind: centre.KindInquiry, Account: 5}, txn.RCApproved, 9900},
		{"top-up over 999.00", centre.AuthRequest{Key: key(19), Kind: centre.KindTopUp, Account: 6, Amount: MaxTopUp + 1}, txn.RCBadAmount, 10000},
		{"top-up", centre.AuthRequest{Key: key(20), Kind: centre.KindTopUp, Account: 6, Amount: MaxTopUp}, txn.RCApproved, 109900},
		{"load moves money to the wallet", centre.AuthRequest{Key: key(21), Kind: centre.KindLoad, Account: 6, Amount: 1000}, txn.RCApproved, 108900},
		{"advice over balance is taken", centre.AuthRequest{Key: key(22), Kind: centre.KindAdvice, Account: 2, Amount: 12000}, txn.RCApproved, -2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.cl.Authorize(ctx(t), tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.rc, res.RC)
			require.Equal(t, tc.bal, res.BalanceFen)
		})
	}
	a, _, err := f.c.Account(5)
	require.NoError(t, err)
	require.True(t, a.ECardActive)
	a, _, err = f.c.Account(6)
	require.NoError(t, err)
	require.Equal(t, int64(1000), a.WalletFen)
}

func TestAuthorizeRefundAndReversal(t *testing.T) {
	f := newFixture(t, 1, Options{})
	c := ctx(t)
	_, err := f.cl.Authorize(c, purchase(1, cardOf(1), 3000))
	require.NoError(t, err)
	orig := key(1)
	refund := func(stan uint32, amt int64) centre.AuthResult {
		r, err := f.cl.Authorize(c, centre.AuthRequest{Key: key(stan), Kind: centre.KindRefund, Amount: amt, Orig: &orig})
		require.NoError(t, err)
		return r
	}
	require.Equal(t, txn.RCApproved, refund(2, 1000).RC)
	require.Equal(t, txn.RCBadAmount, refund(3, 2001).RC, "refunds never exceed the purchase")
	require.Equal(t, int64(8000), f.balance(t, 1))

	// The reversal gives back what the refund did not.
	rev := store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 1, MTI: 400}
	r, err := f.cl.Authorize(c, centre.AuthRequest{Key: rev, Kind: centre.KindReversal, Orig: &orig})
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	require.Equal(t, int64(10000), r.BalanceFen)
	r, err = f.cl.Authorize(c, centre.AuthRequest{Key: key(4), Kind: centre.KindReversal, Orig: &orig})
	require.NoError(t, err)
	require.Equal(t, int64(10000), r.BalanceFen, "a second reversal undoes nothing")

	// A reversal before its original: approved, and the late original is 25.
	late := key(9)
	r, err = f.cl.Authorize(c, centre.AuthRequest{Key: store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 9, MTI: 400},
		Kind: centre.KindReversal, Orig: &late})
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	r, err = f.cl.Authorize(c, purchase(9, cardOf(1), 500))
	require.NoError(t, err)
	require.Equal(t, txn.RCNoOriginal, r.RC)
	require.Equal(t, int64(10000), f.balance(t, 1))
}

func TestAuthorizeBadRequestIsRejected(t *testing.T) {
	f := newFixture(t, 1, Options{})
	_, err := f.cl.Authorize(ctx(t), centre.AuthRequest{Key: key(1), Kind: "teleport", Account: 1})
	require.ErrorIs(t, err, centre.ErrRejected)
	require.NotErrorIs(t, err, centre.ErrUnreachable)
	_, err = f.cl.Authorize(ctx(t), centre.AuthRequest{Key: key(1), Kind: centre.KindRefund, Account: 1, Amount: 1})
	require.ErrorIs(t, err, centre.ErrRejected, "a refund without its original")
}

// Purchase, full refund, reversal of the purchase, reversal of the refund:
// the customer ends where they started (the gateway's rule), not at −1.00.
func TestReversedRefundAfterReversedPurchaseMovesNothing(t *testing.T) {
	f := newFixture(t, 1, Options{})
	c := ctx(t)
	_, err := f.cl.Authorize(c, purchase(1, cardOf(1), 100))
	require.NoError(t, err)
	orig := key(1)
	_, err = f.cl.Authorize(c, centre.AuthRequest{Key: key(2), Kind: centre.KindRefund, Amount: 100, Orig: &orig})
	require.NoError(t, err)
	for _, o := range []store.IdemKey{key(1), key(2)} {
		o := o
		rev := store.IdemKey{Terminal: o.Terminal, Batch: o.Batch, STAN: o.STAN, MTI: 400}
		r, err := f.cl.Authorize(c, centre.AuthRequest{Key: rev, Kind: centre.KindReversal, Orig: &o})
		require.NoError(t, err)
		require.Equal(t, txn.RCApproved, r.RC)
	}
	require.Equal(t, int64(10000), f.balance(t, 1))
}
