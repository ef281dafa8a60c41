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
		{Seq: 1, OK: true}, {Seq: 2, OK: true, Applied: true}, {Seq: 3, OK: true, Applied: true}, {Seq: 4, OK: true},
		{Seq: 5, Permanent: true, Reason: "purchase record for an unknown account"},
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

// TestDeliverAppliesEveryKindOnce: the records of what the gateway
// decided on its own — a top-up paid by WeChat, an offline advice, a
// fee, a small-wallet load and its water — are applied once each; a
// third-party payment and a declined record move nothing.
func TestDeliverAppliesEveryKindOnce(t *testing.T) {
	f := newFixture(t, 2, Options{})
	c := ctx(t)
	topup := rec(1, 1, store.KindTopUp, 1, 2500, false)
	topup.Channel = store.ChannelWeChat
	advice := rec(2, 2, store.KindAdvice, 1, 12000, false) // beyond the balance: still taken
	advice.Key.MTI = 220
	fee := rec(3, 3, store.KindFee, 2, 300, false)
	load := rec(4, 4, store.KindLoad, 2, 1000, false)
	water := rec(5, 4, store.KindWater, 2, 150, false)
	water.Key.MTI = 9200
	wechat := rec(6, 6, store.KindPurchase, 2, 990, false)
	wechat.Channel = store.ChannelWeChat
	declined := rec(7, 7, store.KindTopUp, 2, 500, false)
	declined.Resp = "P2"
	unknown := rec(8, 8, store.KindTopUp, 77, 500, false)
	batch := []store.Record{topup, advice, fee, load, water, wechat, declined, unknown}
	res, err := f.cl.Deliver(c, batch)
	require.NoError(t, err)
	require.Equal(t, []centre.DeliveryResult{
		{Seq: 1, OK: true, Applied: true}, {Seq: 2, OK: true, Applied: true}, {Seq: 3, OK: true, Applied: true},
		{Seq: 4, OK: true, Applied: true}, {Seq: 5, OK: true, Applied: true}, {Seq: 6, OK: true}, {Seq: 7, OK: true},
		{Seq: 8, Permanent: true, Reason: "topup record for an unknown account"},
	}, res)
	want := func() {
		t.Helper()
		require.Equal(t, int64(10000+2500-12000), f.balance(t, 1))
		require.Equal(t, int64(10000-300-1000), f.balance(t, 2))
		a, _, err := f.c.Account(2)
		require.NoError(t, err)
		require.Equal(t, int64(1000-150), a.WalletFen)
	}
	want()
	res, err = f.cl.Deliver(c, batch) // redelivered after a lost ack
	require.NoError(t, err)
	for _, r := range res[:7] {
		require.True(t, r.OK && !r.Applied, "seq %d", r.Seq)
	}
	want()

	// A reversal of a delivered top-up, authorized online, takes it back.
	orig := topup.Key
	r, err := f.cl.Authorize(c, centre.AuthRequest{Key: store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 1, MTI: 400},
		Kind: centre.KindReversal, Amount: 2500, Orig: &orig})
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	require.Equal(t, int64(10000-12000), f.balance(t, 1))
}

// TestOpsForReconciliation: GET /v1/ops lists the ops of a period by key,
// page by page; a delivered record's op has the transaction's time.
func TestOpsForReconciliation(t *testing.T) {
	f := newFixture(t, 1, Options{})
	c := ctx(t)
	_, err := f.cl.Authorize(c, purchase(1, cardOf(1), 100))
	require.NoError(t, err)
	old := rec(2, 2, store.KindAdvice, 1, 200, false)
	old.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err = f.cl.Deliver(c, []store.Record{old, rec(3, 3, store.KindAdvice, 1, 300, false)})
	require.NoError(t, err)

	now := time.Now().UTC()
	page, err := f.c.Ops(now.Add(-time.Hour), now.Add(time.Hour), "", 1)
	require.NoError(t, err)
	require.True(t, page.More)
	require.Equal(t, []centre.WireOp{{Key: centre.KeyString(key(1)), Kind: store.KindPurchase, Account: 1, Amount: 100,
		RC: txn.RCApproved, Delta: -100, Source: srcAuth, Time: page.Ops[0].Time}}, page.Ops)
	page, err = f.c.Ops(now.Add(-time.Hour), now.Add(time.Hour), page.Ops[0].Key, 1)
	require.NoError(t, err)
	require.False(t, page.More)
	require.Len(t, page.Ops, 1)
	require.Equal(t, centre.KeyString(key(3)), page.Ops[0].Key)
	require.Equal(t, int64(-300), page.Ops[0].Delta)

	var keys []string
	require.NoError(t, f.cl.Ops(c, old.Time, old.Time.Add(time.Second), func(o centre.WireOp) error {
		keys = append(keys, o.Key)
		require.Equal(t, old.Time, o.Time)
		require.Equal(t, srcRecord, o.Source)
		return nil
	}))
	require.Equal(t, []string{centre.KeyString(key(2))}, keys)

	err = f.cl.Ops(c, now, now.Add(-time.Second), func(centre.WireOp) error { return nil })
	require.ErrorIs(t, err, centre.ErrRejected, "from after to is a 400")
}

// TestDeliverSettlesLostAnswers: when the answer to an online
// authorization was lost the gateway decided alone, and its record is the
// final word: a fee the centre approved but the gateway declined 91 is
// undone; a purchase the centre declined but the gateway approved in
// stand-in is applied; a 94 record (another request reusing the key)
// settles nothing; each once.
func TestDeliverSettlesLostAnswers(t *testing.T) {
	f := newFixture(t, 2, Options{})
	c := ctx(t)
	fee := purchase(1, cardOf(1), 700)
	fee.Kind = centre.KindFee
	r, err := f.cl.Authorize(c, fee)
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	_, err = f.cl.Authorize(c, purchase(2, cardOf(2), 20000))
	require.NoError(t, err) // 51 at the centre
	_, err = f.cl.Authorize(c, purchase(3, cardOf(1), 100))
	require.NoError(t, err)
	require.Equal(t, int64(10000-700-100), f.balance(t, 1))

	declinedFee := rec(1, 1, store.KindFee, 1, 700, false)
	declinedFee.Resp = "91"
	standIn := rec(2, 2, store.KindPurchase, 2, 20000, true)
	dup := rec(3, 3, store.KindPurchase, 1, 100, false)
	dup.Resp = "94"
	batch := []store.Record{declinedFee, standIn, dup}
	for range 2 {
		res, err := f.cl.Deliver(c, batch)
		require.NoError(t, err)
		require.True(t, res[0].OK && res[1].OK && res[2].OK)
		require.Equal(t, int64(10000-100), f.balance(t, 1), "the fee undone, the purchase kept")
		require.Equal(t, int64(10000-20000), f.balance(t, 2), "the stand-in purchase taken")
	}

	// A purchase reversed before it reached the centre (25 there) is not
	// applied by its stand-in record either.
	o4 := key(4)
	_, err = f.cl.Authorize(c, centre.AuthRequest{Key: store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 4, MTI: 400},
		Kind: centre.KindReversal, Amount: 300, Orig: &o4})
	require.NoError(t, err)
	r, err = f.cl.Authorize(c, purchase(4, cardOf(1), 300))
	require.NoError(t, err)
	require.Equal(t, txn.RCNoOriginal, r.RC)
	_, err = f.cl.Deliver(c, []store.Record{rec(4, 4, store.KindPurchase, 1, 300, true)})
	require.NoError(t, err)
	require.Equal(t, int64(10000-100), f.balance(t, 1))
}
