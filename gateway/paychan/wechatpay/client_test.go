package wechatpay_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config/tlstest"
	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/gateway/txn"
)

const (
	appID  = "wx2421b1c4370ec43b"
	mchID  = "10000100"
	apiKey = "8934e7d15453e97507ef794cf7b0519d"
	code   = "134567890123456789"
)

type bench struct {
	emu    *chanemu.Emulator
	client *wechatpay.Client
	noCert *wechatpay.Client
}

// newBench starts the emulator over TLS, requiring the merchant
// certificate on /secapi/ as the real host does.
func newBench(t *testing.T) *bench {
	t.Helper()
	pki := tlstest.New(t)
	emu := chanemu.New(chanemu.Options{WeChatAppID: appID, WeChatMchID: mchID, WeChatAPIKey: []byte(apiKey),
		RequireClientCert: true})
	srv := httptest.NewUnstartedServer(emu.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Server}, ClientCAs: pki.CA,
		ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)
	cert, err := tls.LoadX509KeyPair(pki.Client.CertFile, pki.Client.KeyFile)
	require.NoError(t, err)
	plain := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CA}}}
	withCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pki.CA, Certificates: []tls.Certificate{cert}}}}
	mk := func(certClient *http.Client) *wechatpay.Client {
		c, err := wechatpay.New(wechatpay.Options{URL: srv.URL, AppID: appID, MchID: mchID, APIKey: []byte(apiKey),
			HTTP: plain, CertHTTP: certClient, Retry: 10 * time.Millisecond})
		require.NoError(t, err)
		return c
	}
	return &bench{emu: emu, client: mk(withCert), noCert: mk(plain)}
}

func pay(tradeNo string, fen int64) txn.PayRequest {
	return txn.PayRequest{TradeNo: tradeNo, AuthCode: code, Amount: fen, Subject: "campus purchase", Terminal: "POS00001"}
}

func TestPaidAtOnce(t *testing.T) {
	b := newBench(t)
	res, err := b.client.Pay(context.Background(), pay("T1", 1250))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	tr, ok := b.emu.Trade(chanemu.WeChat, "T1")
	require.True(t, ok)
	require.Equal(t, tr.ChannelTxn, res.ChannelTxn)
	require.Equal(t, b.emu.PayerOf(chanemu.WeChat, code), res.Payer)
	require.Equal(t, chanemu.StatePaid, tr.State)
}

func TestUserPayingThenPaid(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{UserPaying: 2})
	ctx := context.Background()
	res, err := b.client.Pay(ctx, pay("T2", 500))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = b.client.Query(ctx, "T2")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = b.client.Query(ctx, "T2")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
	require.NotEmpty(t, res.Payer)
}

func TestUserPayingThenReversedAtThePollLimit(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{UserPaying: -1})
	ctx := context.Background()
	res, err := b.client.Pay(ctx, pay("T3", 500))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	for range 3 { // the engine's polls until payments.poll_limit
		res, err = b.client.Query(ctx, "T3")
		require.NoError(t, err)
		require.Equal(t, txn.PayPaying, res.Status)
	}
	require.NoError(t, b.client.Cancel(ctx, "T3"))
	tr, _ := b.emu.Trade(chanemu.WeChat, "T3")
	require.Equal(t, chanemu.StateClosed, tr.State)
	res, err = b.client.Query(ctx, "T3")
	require.NoError(t, err)
	require.Equal(t, txn.PayCancelled, res.Status)
}

func TestReverseNeedsTheMerchantCertificate(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{UserPaying: -1})
	_, err := b.noCert.Pay(context.Background(), pay("T4", 500))
	require.NoError(t, err)
	err = b.noCert.Cancel(context.Background(), "T4")
	require.ErrorIs(t, err, wechatpay.ErrRefused)
	tr, _ := b.emu.Trade(chanemu.WeChat, "T4")
	require.Equal(t, chanemu.StatePaying, tr.State)
}

func TestSystemErrorThenQueryFindsItPaid(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{SystemError: true})
	res, err := b.client.Pay(context.Background(), pay("T5", 700))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status, "SYSTEMERROR is followed by a query, which finds it paid")
	require.Equal(t, 1, b.emu.Calls(wechatpay.PathOrderQuery))
}

func TestUnknownResultThenQuery(t *testing.T) {
	b := newBench(t)
	// The micropay call hangs: the caller gives up, not knowing.
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := b.client.Pay(ctx, pay("T6", 700))
	cancel()
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{})
	res, err := b.client.Query(context.Background(), "T6")
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status)
	require.Equal(t, "ORDERNOTEXIST", res.Reason)
	require.NoError(t, b.client.Cancel(context.Background(), "T6"), "nothing to reverse is not an error")

	// A SYSTEMERROR with the person still paying stays "paying" for the
	// engine's next query.
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{SystemError: true, UserPaying: 2})
	res, err = b.client.Pay(context.Background(), pay("T7", 700))
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	res, err = b.client.Query(context.Background(), "T7")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
}

func TestDeclinedCodes(t *testing.T) {
	b := newBench(t)
	for _, c := range []string{"AUTHCODEEXPIRE", "NOTENOUGH", "BANKERROR"} {
		b.emu.SetScript(chanemu.WeChat, chanemu.Script{Decline: c})
		res, err := b.client.Pay(context.Background(), pay("D"+c, 100))
		require.NoError(t, err, c)
		if c == "BANKERROR" {
			// Unknown result: queried, not found, kept "paying" to be
			// reversed at the limit.
			require.Equal(t, txn.PayPaying, res.Status, c)
			continue
		}
		require.Equal(t, txn.PayDeclined, res.Status, c)
		require.Equal(t, c, res.Reason)
	}
	req := pay("D2", 100)
	req.AuthCode = "994567890123456789"
	res, err := b.client.Pay(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "AUTH_CODE_INVALID", res.Reason)
}

func TestRefundPartialFullAndOver(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	_, err := b.client.Pay(ctx, pay("T8", 1000))
	require.NoError(t, err)
	res, err := b.client.Refund(ctx, "T8", "T8R1", 300)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, res.Status)
	again, err := b.client.Refund(ctx, "T8", "T8R1", 300)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, again.Status, "the same out_refund_no is the same refund")
	res, err = b.client.Refund(ctx, "T8", "T8R2", 800)
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status, "over-refund refused")
	res, err = b.client.Refund(ctx, "T8", "T8R3", 700)
	require.NoError(t, err)
	require.Equal(t, txn.PayRefunded, res.Status)
	tr, _ := b.emu.Trade(chanemu.WeChat, "T8")
	require.EqualValues(t, 1000, tr.RefundedFen)
	res, err = b.client.Refund(ctx, "T8", "T8R4", 1)
	require.NoError(t, err)
	require.Equal(t, txn.PayDeclined, res.Status)
}

func TestBadAnswerSignatureIsNotTrusted(t *testing.T) {
	b := newBench(t)
	b.emu.SetScript(chanemu.WeChat, chanemu.Script{BadSign: true})
	res, err := b.client.Pay(context.Background(), pay("T9", 1000))
	require.ErrorIs(t, err, wechatpay.ErrSignature)
	require.NotEqual(t, txn.PayPaid, res.Status)
	_, err = b.client.Query(context.Background(), "T9")
	require.ErrorIs(t, err, wechatpay.ErrSignature)
}

func TestEmulatorRefusesABadRequestSignature(t *testing.T) {
	emu := chanemu.New(chanemu.Options{WeChatAppID: appID, WeChatMchID: mchID, WeChatAPIKey: []byte("another-key-of-thirty-two-chars!")})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	c, err := wechatpay.New(wechatpay.Options{URL: srv.URL, AppID: appID, MchID: mchID, APIKey: []byte(apiKey),
		HTTP: srv.Client(), CertHTTP: srv.Client()})
	require.NoError(t, err)
	_, err = c.Pay(context.Background(), pay("T10", 100))
	require.ErrorIs(t, err, wechatpay.ErrRefused)
	require.ErrorContains(t, err, "SIGNERROR")
	require.Zero(t, emu.Calls(wechatpay.PathMicropay))
}
