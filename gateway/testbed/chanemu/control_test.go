package chanemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/gateway/txn"
)

// TestControlEndpoints: a script set over HTTP changes the answers, the
// trade is readable, and a down channel answers 503.
func TestControlEndpoints(t *testing.T) {
	const key = "8934e7d15453e97507ef794cf7b0519d"
	emu := chanemu.New(chanemu.Options{WeChatAppID: "wx2421b1c4370ec43b", WeChatMchID: "10000100", WeChatAPIKey: []byte(key)})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)
	put := func(body string) int {
		req, err := http.NewRequest(http.MethodPut, srv.URL+"/emulator/script/wechat", strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	c, err := wechatpay.New(wechatpay.Options{URL: srv.URL, AppID: "wx2421b1c4370ec43b", MchID: "10000100",
		APIKey: []byte(key), HTTP: srv.Client(), CertHTTP: srv.Client()})
	require.NoError(t, err)
	ctx := context.Background()

	require.Equal(t, http.StatusNoContent, put(`{"user_paying":-1}`))
	res, err := c.Pay(ctx, txn.PayRequest{TradeNo: "C1", AuthCode: "134567890123456789", Amount: 10})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaying, res.Status)
	resp, err := http.Get(srv.URL + "/emulator/trades/wechat/C1")
	require.NoError(t, err)
	var tr chanemu.Trade
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	resp.Body.Close()
	require.Equal(t, chanemu.StatePaying, tr.State)

	require.Equal(t, http.StatusBadRequest, put(`{"no_such":true}`))
	require.Equal(t, http.StatusNoContent, put(`{"down":true}`))
	_, err = c.Query(ctx, "C1")
	require.ErrorIs(t, err, txn.ErrPayUnreachable)

	// WeChat revokes a payment-code order still unpaid after 45 s.
	var skew atomic.Int64
	late := chanemu.New(chanemu.Options{WeChatAppID: "wx2421b1c4370ec43b", WeChatMchID: "10000100", WeChatAPIKey: []byte(key),
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	lsrv := httptest.NewServer(late.Handler())
	t.Cleanup(lsrv.Close)
	lc, err := wechatpay.New(wechatpay.Options{URL: lsrv.URL, AppID: "wx2421b1c4370ec43b", MchID: "10000100",
		APIKey: []byte(key), HTTP: lsrv.Client(), CertHTTP: lsrv.Client()})
	require.NoError(t, err)
	late.SetScript(chanemu.WeChat, chanemu.Script{UserPaying: -1})
	_, err = lc.Pay(ctx, txn.PayRequest{TradeNo: "C2", AuthCode: "134567890123456789", Amount: 10})
	require.NoError(t, err)
	skew.Store(int64(46 * time.Second))
	res, err = lc.Query(ctx, "C2")
	require.NoError(t, err)
	require.Equal(t, txn.PayCancelled, res.Status)
}

// TestRequiredFieldsAreChecked: a request missing a documented required
// field is refused before anything happens, even when correctly signed.
func TestRequiredFieldsAreChecked(t *testing.T) {
	const key = "8934e7d15453e97507ef794cf7b0519d"
	emu := chanemu.New(chanemu.Options{WeChatAppID: "wx2421b1c4370ec43b", WeChatMchID: "10000100", WeChatAPIKey: []byte(key)})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	full := wechatpay.Params{"appid": "wx2421b1c4370ec43b", "mch_id": "10000100", "nonce_str": "abc123", "body": "x",
		"out_trade_no": "R1", "total_fee": "1", "spbill_create_ip": "127.0.0.1", "auth_code": "134567890123456789",
		"sign_type": wechatpay.SignTypeHMAC}
	for _, drop := range []string{"appid", "mch_id", "nonce_str", "body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"} {
		p := wechatpay.Params{}
		for k, v := range full {
			if k != drop {
				p[k] = v
			}
		}
		p["sign"] = wechatpay.Sign(p, []byte(key))
		resp, err := http.Post(srv.URL+wechatpay.PathMicropay, "text/xml", strings.NewReader(string(wechatpay.Encode(p))))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a, err := wechatpay.Decode(b)
		require.NoError(t, err)
		require.Equal(t, "FAIL", a["return_code"], drop)
	}
	require.Zero(t, emu.Calls(wechatpay.PathMicropay))
	_, ok := emu.Trade(chanemu.WeChat, "R1")
	require.False(t, ok)
}
