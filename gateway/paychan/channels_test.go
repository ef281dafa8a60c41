package paychan_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/inspect"
	"ecardgw/gateway/paychan"
	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

const (
	appID  = "wx2421b1c4370ec43b"
	mchID  = "10000100"
	apiKey = "8934e7d15453e97507ef794cf7b0519d"
	code   = "134567890123456789"
)

// fallback stands for the centre / payments.url.
type fallback struct{ pays, refunds int }

func (f *fallback) Pay(context.Context, txn.PayRequest) (txn.PayResult, error) {
	f.pays++
	return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "C1"}, nil
}
func (f *fallback) Query(context.Context, string) (txn.PayResult, error) {
	return txn.PayResult{Status: txn.PayPaid}, nil
}
func (f *fallback) Cancel(context.Context, string) error { return nil }
func (f *fallback) Refund(context.Context, string, string, int64) (txn.PayResult, error) {
	f.refunds++
	return txn.PayResult{Status: txn.PayRefunded}, nil
}

type rig struct {
	db  *store.DB
	emu *chanemu.Emulator
	ch  *paychan.Channels
	fb  *fallback
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		_, _, err := tx.ImportAccounts([]store.Account{{No: 1001, Name: "Li Lei", StaffNo: "2024001", CardNumber: "100000000001",
			CardSerial: "00000000100000000001", BalanceFen: 5000, Status: store.StatusActive}}, time.Now())
		return err
	}))
	emu := chanemu.New(chanemu.Options{WeChatAppID: appID, WeChatMchID: mchID, WeChatAPIKey: []byte(apiKey)})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)
	wx, err := wechatpay.New(wechatpay.Options{URL: srv.URL, AppID: appID, MchID: mchID, APIKey: []byte(apiKey),
		HTTP: srv.Client(), CertHTTP: srv.Client()})
	require.NoError(t, err)
	fb := &fallback{}
	return &rig{db: db, emu: emu, fb: fb,
		ch: paychan.New(db, map[store.Channel]txn.Payments{store.ChannelWeChat: wx}, fb, nil)}
}

func (r *rig) bind(t *testing.T, payer string, acct uint64) {
	require.NoError(t, r.db.Update(context.Background(), func(tx *store.Tx) error {
		return paychan.Bind(tx, store.ChannelWeChat, payer, acct, time.Now())
	}))
}

func TestUnboundPayerIsReversedAndNotBound(t *testing.T) {
	r := newRig(t)
	res, err := r.ch.Pay(context.Background(), txn.PayRequest{TradeNo: "P1", Channel: store.ChannelWeChat, AuthCode: code, Amount: 300})
	require.NoError(t, err)
	require.Equal(t, txn.PayNotBound, res.Status)
	tr, ok := r.emu.Trade(chanemu.WeChat, "P1")
	require.True(t, ok)
	require.Equal(t, chanemu.StateReversed, tr.State, "the payment is given back at the channel")
}

func TestBoundPayerGetsTheAccount(t *testing.T) {
	r := newRig(t)
	r.bind(t, r.emu.PayerOf(chanemu.WeChat, code), 1001)
	res, err := r.ch.Pay(context.Background(), txn.PayRequest{TradeNo: "P2", Channel: store.ChannelWeChat, AuthCode: code, Amount: 300})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	require.EqualValues(t, 1001, res.Account)
	// Refund goes to the trade's channel, not the fallback.
	rf, err := r.ch.Refund(context.Background(), "P2", "P2R", 300)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, rf.Status)
	require.Zero(t, r.fb.refunds)
	tr, _ := r.emu.Trade(chanemu.WeChat, "P2")
	require.EqualValues(t, 300, tr.RefundedFen)
}

func TestBindingFoundWhilePolling(t *testing.T) {
	r := newRig(t)
	r.emu.SetScript(chanemu.WeChat, chanemu.Script{UserPaying: 1})
	ctx := context.Background()
	res, err := r.ch.Pay(ctx, txn.PayRequest{TradeNo: "P3", Channel: store.ChannelWeChat, AuthCode: code, Amount: 300})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = r.ch.Query(ctx, "P3")
	require.NoError(t, err)
	require.Equal(t, txn.PayNotBound, res.Status)
	tr, _ := r.emu.Trade(chanemu.WeChat, "P3")
	require.Equal(t, chanemu.StateReversed, tr.State)
}

func TestTopUpByCodeNeedsNoBinding(t *testing.T) {
	r := newRig(t)
	res, err := r.ch.Pay(context.Background(), txn.PayRequest{TradeNo: "P4", Channel: store.ChannelWeChat, AuthCode: code, Amount: 300, Account: 1001})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	require.Zero(t, res.Account)
}

func TestOtherChannelsGoToTheFallback(t *testing.T) {
	r := newRig(t)
	res, err := r.ch.Pay(context.Background(), txn.PayRequest{TradeNo: "P5", Channel: store.ChannelUnionPay, AuthCode: "6212345678901234567", Amount: 300})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	require.Equal(t, 1, r.fb.pays)
	_, err = r.ch.Refund(context.Background(), "P5", "P5R", 300)
	require.NoError(t, err)
	require.Equal(t, 1, r.fb.refunds)
}

func TestBindingRules(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.bind(t, "oPayerA", 1001)
	r.bind(t, "oPayerA", 1001) // again: no-op
	err := r.db.Update(ctx, func(tx *store.Tx) error { return paychan.Bind(tx, store.ChannelWeChat, "oPayerA", 1002, time.Now()) })
	require.ErrorIs(t, err, paychan.ErrBoundElsewhere)
	r.bind(t, "oPayerB", 1001) // replaces A
	require.NoError(t, r.db.View(func(tx *store.Tx) error {
		_, ok, err := paychan.Lookup(tx, store.ChannelWeChat, "oPayerA")
		require.False(t, ok)
		b, ok, _ := paychan.BindingOf(tx, store.ChannelWeChat, 1001)
		require.True(t, ok)
		require.Equal(t, "oPayerB", b.Payer)
		return err
	}))
	require.NoError(t, r.db.Update(ctx, func(tx *store.Tx) error {
		ok, err := paychan.Unbind(tx, store.ChannelWeChat, 1001)
		require.True(t, ok)
		return err
	}))
	require.NoError(t, r.db.View(func(tx *store.Tx) error {
		_, ok, err := paychan.Lookup(tx, store.ChannelWeChat, "oPayerB")
		require.False(t, ok)
		return err
	}))
	err = r.db.Update(ctx, func(tx *store.Tx) error { return paychan.Bind(tx, store.ChannelWeChat, "bad id!", 1001, time.Now()) })
	require.ErrorIs(t, err, paychan.ErrBadPayer)
}

// The router's record of which channel a trade went to goes with the
// request's idempotency record at retention.idempotency (a refund or
// reversal of the request is then answered 25 before it reaches the
// router), so the store does not grow by one record per code payment for
// ever; the trade number it is kept by is the request key's.
func TestRetentionForgetsOldTrades(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	old := time.Now().UTC().Add(-72 * time.Hour)
	key := store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 14, MTI: 200}
	trade := key.TradeNo()
	res, err := r.ch.Pay(ctx, txn.PayRequest{TradeNo: trade, Channel: store.ChannelWeChat, AuthCode: code, Amount: 300, Account: 1001})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	// The engine's answer: journal record and idempotency record of the request.
	require.NoError(t, r.db.Update(ctx, func(tx *store.Tx) error {
		rec := store.Record{Time: old, Key: key, Kind: store.KindTopUp, Account: 1001, Channel: store.ChannelWeChat,
			Amount: 300, Resp: "00", RRN: "000000000001"}
		if _, err := tx.AppendJournal(&rec); err != nil {
			return err
		}
		return tx.PutIdemTxn(key, store.Fingerprint{}, []byte("answer"), &store.TxnState{Key: key, Account: 1001, Amount: 300, Kind: store.KindTopUp, Time: old})
	}))
	recorded := func() bool {
		var ok bool
		require.NoError(t, r.db.View(func(tx *store.Tx) error {
			var err error
			_, ok, err = tx.ServiceResult(store.KindPayTrade, trade)
			return err
		}))
		return ok
	}
	require.True(t, recorded(), "Pay records the trade's channel")

	p, err := inspect.Prune(ctx, r.db, inspect.Retention{Idempotency: 48 * time.Hour}, time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, p.Idem)
	require.False(t, recorded(), "pruned with the request")
}

// What the retry queue relies on when a cancel fails (txn, runJob): WeChat
// reverses only trades of the last 7 days; past that the reverse is
// refused, the trade still queries as paid, and a refund of the whole
// trade gives the money back.
func TestWeChatPaidTradePastItsReverseWindowIsRefunded(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	emu := chanemu.New(chanemu.Options{WeChatAppID: appID, WeChatMchID: mchID, WeChatAPIKey: []byte(apiKey), Now: now})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)
	wx, err := wechatpay.New(wechatpay.Options{URL: srv.URL, AppID: appID, MchID: mchID, APIKey: []byte(apiKey),
		HTTP: srv.Client(), CertHTTP: srv.Client(), Retry: time.Millisecond})
	require.NoError(t, err)

	const trade = "T00000010000010000140200"
	res, err := wx.Pay(ctx, txn.PayRequest{TradeNo: trade, Channel: store.ChannelWeChat, AuthCode: code, Amount: 300, Account: 1001})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)

	mu.Lock()
	clock = clock.Add(8 * 24 * time.Hour)
	mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	require.Error(t, wx.Cancel(cctx, trade), "past 7 days WeChat refuses the reverse")
	q, err := wx.Query(ctx, trade)
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, q.Status)
	r, err := wx.Refund(ctx, trade, trade+"R", 300)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, r.Status)
	tr, ok := emu.Trade("wechat", trade)
	require.True(t, ok)
	require.Equal(t, int64(300), tr.RefundedFen)
}
