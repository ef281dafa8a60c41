package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/paychan/alipay"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/gateway/txn"
)

const (
	appID = "2014072300007148"
	code  = "286648048691290423"
)

var (
	keysOnce       sync.Once
	appKey, aliKey *rsa.PrivateKey
	otherKey       *rsa.PrivateKey
)

func keys(t *testing.T) {
	keysOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&appKey, &aliKey, &otherKey} {
			*k, err = rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
		}
	})
}

type bench struct {
	emu    *chanemu.Emulator
	client *alipay.Client
	url    string
}

func newBench(t *testing.T) *bench {
	t.Helper()
	keys(t)
	emu := chanemu.New(chanemu.Options{AlipayAppID: appID, AppPublicKey: &appKey.PublicKey, AlipayKey: aliKey})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)
	c, err := alipay.New(alipay.Options{URL: srv.URL + "/gateway.do", AppID: appID, PrivateKey: appKey,
		AlipayKey: &aliKey.PublicKey, HTTP: srv.Client(), Retry: 10 * time.Millisecond})
	require.NoError(t, err)
	return &bench{emu: emu, client: c, url: srv.URL + "/gateway.do"}
}

func pay(tradeNo string, fen int64) txn.PayRequest {
	return txn.PayRequest{TradeNo: tradeNo, AuthCode: code, Amount: fen, Subject: "campus purchase", Terminal: "POS00001"}
}

func TestPaidAtOnce(t *testing.T) {
	b := newBench(t)
	res, err := b.client.Pay(context.Background(), pay("A1", 1234))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	tr, ok := b.emu.Trade(chanemu.Alipay, "A1")
	require.True(t, ok)
	require.Equal(t, tr.ChannelTxn, res.ChannelTxn)
	require.EqualValues(t, 1234, tr.TotalFen)
	require.Equal(t, b.emu.PayerOf(chanemu.Alipay, code), res.Payer)
}

func TestUserPayingThenPaid(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{UserPaying: 2})
	ctx := context.Background()
	res, err := b.client.Pay(ctx, pay("A2", 500))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	require.Equal(t, alipay.CodeWaiting, res.Reason)
	res, err = b.client.Query(ctx, "A2")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = b.client.Query(ctx, "A2")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
}

func TestUserPayingThenCancelledAtThePollLimit(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{UserPaying: -1})
	ctx := context.Background()
	res, err := b.client.Pay(ctx, pay("A3", 500))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	for range 3 {
		res, err = b.client.Query(ctx, "A3")
		require.NoError(t, err)
		require.Equal(t, txn.PayPaying, res.Status)
	}
	require.NoError(t, b.client.Cancel(ctx, "A3"))
	tr, _ := b.emu.Trade(chanemu.Alipay, "A3")
	require.Equal(t, chanemu.StateClosed, tr.State)
	res, err = b.client.Query(ctx, "A3")
	require.NoError(t, err)
	require.Equal(t, txn.PayCancelled, res.Status)
}

func TestServiceErrorThenQuery(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{SystemError: true})
	res, err := b.client.Pay(context.Background(), pay("A4", 900))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status, "20000 is followed by a query, which finds it paid")
	require.Equal(t, 1, b.emu.Calls(alipay.MethodQuery))
}

func TestUnknownResultThenQuery(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := b.client.Pay(ctx, pay("A5", 900))
	cancel()
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{})
	res, err := b.client.Query(context.Background(), "A5")
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status)
	require.Equal(t, "ACQ.TRADE_NOT_EXIST", res.Reason)
	require.NoError(t, b.client.Cancel(context.Background(), "A5"))

	b.emu.SetScript(chanemu.Alipay, chanemu.Script{SystemError: true, UserPaying: 2})
	res, err = b.client.Pay(context.Background(), pay("A6", 900))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = b.client.Query(context.Background(), "A6")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
}

func TestDeclined(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{Decline: "ACQ.BUYER_BALANCE_NOT_ENOUGH"})
	res, err := b.client.Pay(context.Background(), pay("A7", 900))
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status)
	require.Equal(t, "ACQ.BUYER_BALANCE_NOT_ENOUGH", res.Reason)
}

func TestRefundPartialFullAndOver(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	_, err := b.client.Pay(ctx, pay("A8", 1000))
	require.NoError(t, err)
	res, err := b.client.Refund(ctx, "A8", "A8R1", 250)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, res.Status)
	res, err = b.client.Refund(ctx, "A8", "A8R1", 250)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, res.Status, "the same out_request_no is the same refund")
	res, err = b.client.Refund(ctx, "A8", "A8R2", 751)
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status)
	require.Equal(t, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", res.Reason)
	res, err = b.client.Refund(ctx, "A8", "A8R3", 750)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, res.Status)
	tr, _ := b.emu.Trade(chanemu.Alipay, "A8")
	require.EqualValues(t, 1000, tr.RefundedFen)
}

func TestBadAnswerSignatureIsNotTrusted(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.Alipay, chanemu.Script{BadSign: true})
	res, err := b.client.Pay(context.Background(), pay("A9", 1000))
	require.ErrorIs(t, err, alipay.ErrSignature)
	require.NotEqual(t, txn.PayPaid, res.Status)

	// An answer signed by another key is no better.
	b2 := newBench(t)
	c, err := alipay.New(alipay.Options{URL: b2.url, AppID: appID, PrivateKey: appKey, AlipayKey: &otherKey.PublicKey,
		HTTP: &http.Client{Timeout: 5 * time.Second}})
	require.NoError(t, err)
	_, err = c.Pay(context.Background(), pay("A10", 1000))
	require.ErrorIs(t, err, alipay.ErrSignature)
}

func TestEmulatorRefusesABadRequestSignature(t *testing.T) {
	b := newBench(t)
	c, err := alipay.New(alipay.Options{URL: b.url, AppID: appID, PrivateKey: otherKey, AlipayKey: &aliKey.PublicKey,
		HTTP: &http.Client{Timeout: 5 * time.Second}})
	require.NoError(t, err)
	_, err = c.Pay(context.Background(), pay("A11", 100))
	require.ErrorIs(t, err, alipay.ErrRefused)
	require.ErrorContains(t, err, "isv.invalid-signature")
	require.Zero(t, b.emu.Calls(alipay.MethodPay))
}
