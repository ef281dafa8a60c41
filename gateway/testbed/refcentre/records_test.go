package refcentre

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func rec(seq uint64, stan uint32, kind store.Kind, acct uint64, amount int64, standIn bool) store.Record {
	return store.Record{Seq: seq, Time: time.Now().UTC(), Key: key(stan), Kind: kind, ProcCode: 0,
		Account: acct, CardMasked: "1000******01", Channel: store.ChannelCampus, Amount: amount, Resp: "00", StandIn: standIn}
}

func TestDeliverDedupesAndAppliesStandIn(t *testing.T) {
	f := newFixture(t, 2, Options{})
	c := ctx(t)
	// Authorized online first: its record is only acknowledged.
	_, err := f.cl.Authorize(c, purchase(1, cardOf(1), 1000))
	require.NoError(t, err)

	batch := []store.Record{
		rec(1, 1, store.KindPurchase, 1, 1000, false),
		rec(2, 2, store.KindPurchase, 1, 400, true),   // stand-in: debited now
		rec(3, 3, store.KindPurchase, 2, 20000, true), // stand-in beyond the balance: still taken
		rec(4, 4, store.KindSignIn, 0, 0, false),
		rec(5, 5, store.KindPurchase, 77, 100, true), // unknown account: refused for good
	}
	res, err := f.cl.Deliver(c, batch)
	require.NoError(t, err)
	require.Equal(t, []centre.DeliveryResult{
		{Seq: 1, OK: true}, {Seq: 2, OK: true}, {Seq: 3, OK: true}, {Seq: 4, OK: true},
		{Seq: 5, Permanent: true, Reason: "stand-in purchase for an unknown account"},
	}, res)
	require.Equal(t, int64(8600), f.balance(t, 1))
	require.Equal(t, int64(-10000), f.balance(t, 2))

	// The same batch again (a crash before the ack): nothing applied twice.
	res, err = f.cl.Deliver(c, batch)
	require.NoError(t, err)
	require.True(t, res[0].OK && res[1].OK && res[2].OK && res[3].OK)
	require.Equal(t, int64(8600), f.balance(t, 1))
	require.Equal(t, int64(-10000), f.balance(t, 2))
	st := f.c.Stats()
	require.Equal(t, uint64(2), st.RecordsApplied)
	require.Equal(t, uint64(5), st.RecordsDuplicate, "1 authorized online + 4 redelivered")
	require.Equal(t, uint64(2), st.RecordsRejected)

	// A reversal approved in stand-in undoes its original when delivered,
	// once; an online refund of a stand-in purchase finds it.
	orig := key(2)
	rv := rec(6, 2, store.KindReversal, 1, 400, true)
	rv.Key.MTI, rv.Orig = 400, &orig
	_, err = f.cl.Deliver(c, []store.Record{rv, rv})
	require.NoError(t, err)
	require.Equal(t, int64(9000), f.balance(t, 1))
	o3 := key(3)
	r, err := f.cl.Authorize(c, centre.AuthRequest{Key: key(7), Kind: centre.KindRefund, Amount: 5000, Orig: &o3})
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	require.Equal(t, int64(-5000), r.BalanceFen)
}

func TestDeliverReversalBeforeOriginal(t *testing.T) {
	f := newFixture(t, 1, Options{})
	orig := key(2)
	rv := rec(1, 2, store.KindReversal, 1, 400, true)
	rv.Key.MTI, rv.Orig = 400, &orig
	_, err := f.cl.Deliver(ctx(t), []store.Record{rv, rec(2, 2, store.KindPurchase, 1, 400, true)})
	require.NoError(t, err)
	require.Equal(t, int64(10000), f.balance(t, 1))
}

func TestDeliverLimits(t *testing.T) {
	f := newFixture(t, 1, Options{})
	res, err := f.cl.Deliver(ctx(t), nil)
	require.NoError(t, err)
	require.Empty(t, res)
	_, err = f.cl.Deliver(ctx(t), make([]store.Record, centre.MaxDelivery+1))
	require.ErrorIs(t, err, centre.ErrRejected)
	bad := rec(1, 1, store.KindPurchase, 1, 1, true)
	bad.Key.Terminal = ""
	res, err = f.cl.Deliver(ctx(t), []store.Record{bad})
	require.NoError(t, err)
	require.True(t, res[0].Permanent)
}
