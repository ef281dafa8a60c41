package chanemu_test

import (
	"context"
	"encoding/json"
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
