package service

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/store"
)

const (
	wxApp = "wx2421b1c4370ec43b"
	wxMch = "10000100"
	wxKey = "8934e7d15453e97507ef794cf7b0519d"
	apApp = "2014072300007148"
)

var (
	apKeysOnce sync.Once
	apAppKey   *rsa.PrivateKey
	apAliKey   *rsa.PrivateKey
)

// notifyFixture serves the notification endpoints; emu signs as the
// channels do.
func notifyFixture(t *testing.T) (*fixture, *chanemu.Emulator) {
	apKeysOnce.Do(func() {
		var err error
		apAppKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err == nil {
			apAliKey, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			panic(err)
		}
	})
	f := newFixture(t, func(o *Options) {
		o.WeChatNotify = &WeChatNotify{AppID: wxApp, MchID: wxMch, APIKey: []byte(wxKey)}
		o.AlipayNotify = &AlipayNotify{AppID: apApp, Key: &apAliKey.PublicKey}
	})
	emu := chanemu.New(chanemu.Options{WeChatAppID: wxApp, WeChatMchID: wxMch, WeChatAPIKey: []byte(wxKey),
		AlipayAppID: apApp, AppPublicKey: &apAppKey.PublicKey, AlipayKey: apAliKey})
	return f, emu
}

func TestWeChatNotifyCreditsOnceByTradeNumber(t *testing.T) {
	f, emu := notifyFixture(t)
	ctx := context.Background()
	top := chanemu.TopUp{URL: f.base + PathNotifyWeChat, OutTradeNo: "W1", AmountFen: 2500, Attach: "account=1001"}
	for range 3 { // WeChat repeats a notification until it reads SUCCESS
		status, answer, err := emu.Notify(ctx, chanemu.WeChat, top)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, answer, "<return_code><![CDATA[SUCCESS]]></return_code>")
	}
	require.EqualValues(t, 10000+2500, f.account(1001).BalanceFen, "credited once")
	j := f.journal()
	require.Len(t, j, 1)
	require.Equal(t, store.ChannelWeChat, j[0].Channel)
	require.Equal(t, store.KindTopUp, j[0].Kind)
}

func TestAlipayNotifyByNameAndStaffNumber(t *testing.T) {
	f, emu := notifyFixture(t)
	ctx := context.Background()
	top := chanemu.TopUp{URL: f.base + PathNotifyAlipay, OutTradeNo: "A1", AmountFen: 99900, Attach: "name=Zhang+San&staff_no=2026001"}
	for range 2 {
		status, answer, err := emu.Notify(ctx, chanemu.Alipay, top)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "success", answer)
	}
	require.EqualValues(t, 10000+99900, f.account(1001).BalanceFen)
	require.Len(t, f.journal(), 1)
}

func TestNotifyWithBadSignatureIsRefused(t *testing.T) {
	f, emu := notifyFixture(t)
	ctx := context.Background()
	_, answer, err := emu.Notify(ctx, chanemu.WeChat, chanemu.TopUp{URL: f.base + PathNotifyWeChat, OutTradeNo: "W2",
		AmountFen: 100, Attach: "account=1001", BadSign: true})
	require.NoError(t, err)
	require.Contains(t, answer, "<return_code><![CDATA[FAIL]]></return_code>")
	_, answer, err = emu.Notify(ctx, chanemu.Alipay, chanemu.TopUp{URL: f.base + PathNotifyAlipay, OutTradeNo: "A2",
		AmountFen: 100, Attach: "account=1001", BadSign: true})
	require.NoError(t, err)
	require.Equal(t, "failure", answer)
	require.EqualValues(t, 10000, f.account(1001).BalanceFen)
	require.Empty(t, f.journal())
}

func TestNotifyOverTheLimitIsNotCredited(t *testing.T) {
	f, emu := notifyFixture(t)
	_, answer, err := emu.Notify(context.Background(), chanemu.Alipay, chanemu.TopUp{URL: f.base + PathNotifyAlipay,
		OutTradeNo: "A3", AmountFen: 99901, Attach: "account=1001"})
	require.NoError(t, err)
	require.Equal(t, "success", answer, "decided (refused): the channel stops retrying; finance refunds it")
	require.EqualValues(t, 10000, f.account(1001).BalanceFen)
	require.Contains(t, f.logs.String(), "refund it at the channel")
}

func TestNotifyFindsTheAccountByBinding(t *testing.T) {
	f, emu := notifyFixture(t)
	r := f.call(http.MethodPut, "/v1/accounts/1001/bindings/wechat", testToken, "application/json", []byte(`{"payer":"oBoundPayer1"}`))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	_, answer, err := emu.Notify(context.Background(), chanemu.WeChat, chanemu.TopUp{URL: f.base + PathNotifyWeChat,
		OutTradeNo: "W3", AmountFen: 700, Payer: "oBoundPayer1"})
	require.NoError(t, err)
	require.Contains(t, answer, "SUCCESS")
	require.EqualValues(t, 10700, f.account(1001).BalanceFen)
}

func TestNotifyNeedsNoTokenButOnlyWhenConfigured(t *testing.T) {
	f := newFixture(t)
	r := f.call(http.MethodPost, PathNotifyWeChat, "", "text/xml", []byte("<xml></xml>"))
	require.Equal(t, http.StatusUnauthorized, r.status, "not configured: an ordinary unknown path")
}

func TestBindingsAPI(t *testing.T) {
	f := newFixture(t)
	put := func(acct, ch, body string) resp {
		return f.call(http.MethodPut, "/v1/accounts/"+acct+"/bindings/"+ch, testToken, "application/json", []byte(body))
	}
	r := put("1001", "alipay", `{"payer":"2088000000000001"}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, true, r.json(t)["changed"])
	r = put("1001", "alipay", `{"payer":"2088000000000001"}`)
	require.Equal(t, false, r.json(t)["changed"])
	r = put("1002", "alipay", `{"payer":"2088000000000001"}`)
	require.Equal(t, http.StatusConflict, r.status)
	r = put("1001", "unionpay", `{"payer":"x"}`)
	require.Equal(t, http.StatusNotFound, r.status)
	r = put("1001", "wechat", `{"payer":"not valid!"}`)
	require.Equal(t, http.StatusBadRequest, r.status)
	r = put("9999", "wechat", `{"payer":"oX"}`)
	require.Equal(t, http.StatusNotFound, r.status)

	r = f.get("/v1/accounts/1001/bindings")
	require.Equal(t, http.StatusOK, r.status)
	b := r.json(t)["bindings"].([]any)
	require.Len(t, b, 1)
	require.Equal(t, "2088000000000001", b[0].(map[string]any)["payer"])

	r = f.call(http.MethodDelete, "/v1/accounts/1001/bindings/alipay", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, true, r.json(t)["changed"])
	r = f.get("/v1/accounts/1001/bindings")
	require.Empty(t, r.json(t)["bindings"])
	r = put("1002", "alipay", `{"payer":"2088000000000001"}`)
	require.Equal(t, http.StatusOK, r.status, "free again after unbinding")
}
