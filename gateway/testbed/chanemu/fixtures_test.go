package chanemu_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/paychan/alipay"
	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/gateway/testbed/chanemu"
)

// The documents' examples (testdata/channels) against the emulator and
// the adapters' parsers.

func fixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "channels", name))
	require.NoError(t, err)
	return b
}

const docKey = "192006250b4c09247ec02edce69f6a2d"

func TestWeChatDocumentExamples(t *testing.T) {
	emu := chanemu.New(chanemu.Options{WeChatAppID: "wx2421b1c4370ec43b", WeChatMchID: "10000100", WeChatAPIKey: []byte(docKey)})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	post := func(p wechatpay.Params) wechatpay.Params {
		resp, err := http.Post(srv.URL+wechatpay.PathMicropay, "text/xml", strings.NewReader(string(wechatpay.Encode(p))))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		a, err := wechatpay.Decode(b)
		require.NoError(t, err)
		return a
	}

	req, err := wechatpay.Decode(fixture(t, "wechat-micropay-request.xml"))
	require.NoError(t, err)
	// As printed (signed with the document's merchant key): refused.
	a := post(req)
	require.Equal(t, "FAIL", a["return_code"])
	require.Equal(t, "SIGNERROR", a["return_msg"])
	// Signed with this merchant's key (MD5, the example's sign_type): paid,
	// answering every field the document's answer shows.
	delete(req, "sign")
	req["sign"] = strings.ToUpper(md5Sign(wechatpay.SignContent(req, []byte(docKey))))
	a = post(req)
	require.Equal(t, "SUCCESS", a["result_code"], a)
	require.NoError(t, verifyMD5(a))
	doc, err := wechatpay.Decode(fixture(t, "wechat-micropay-answer.xml"))
	require.NoError(t, err)
	for k := range doc {
		switch k {
		case "device_info", "coupon_fee", "attach": // echoes and promotions the emulator has none of
			continue
		}
		require.Contains(t, a, k)
	}
	// The document's answer is not signed with our key: not trusted.
	require.ErrorIs(t, wechatpay.Verify(doc, []byte("8934e7d15453e97507ef794cf7b0519d")), wechatpay.ErrSignature)

	// The notification example parses once signed with our key, and not
	// before.
	n := fixture(t, "wechat-notify.xml")
	_, err = wechatpay.ParseNotify(n, "wx2421b1c4370ec43b", "10000100", []byte(docKey))
	require.ErrorIs(t, err, wechatpay.ErrSignature)
	np, err := wechatpay.Decode(n)
	require.NoError(t, err)
	np["sign_type"] = wechatpay.SignTypeHMAC
	np["sign"] = wechatpay.Sign(np, []byte(docKey))
	got, err := wechatpay.ParseNotify(wechatpay.Encode(np), "wx2421b1c4370ec43b", "10000100", []byte(docKey))
	require.NoError(t, err)
	require.Equal(t, wechatpay.Notify{TradeNo: "1409811653", ChannelTxn: "1004400740201409030005092168",
		OpenID: "oUpF8uMEb4qRXf22hE3X68TekukE", AmountFen: 1, Attach: "支付测试"}, got)
}

func TestAlipayDocumentExamples(t *testing.T) {
	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	aliKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	emu := chanemu.New(chanemu.Options{AlipayAppID: "2014072300007148", AppPublicKey: &appKey.PublicKey, AlipayKey: aliKey})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()

	form := url.Values{"app_id": {"2014072300007148"}, "method": {alipay.MethodPay}, "format": {"JSON"},
		"charset": {"utf-8"}, "sign_type": {"RSA2"}, "timestamp": {time.Now().In(alipay.China).Format(alipay.TimeLayout)},
		"version": {"1.0"}, "biz_content": {strings.TrimSpace(string(fixture(t, "alipay-trade-pay-biz.json")))}}
	sig, err := alipay.SignRSA2(alipay.SignContent(form, "sign"), appKey)
	require.NoError(t, err)
	form.Set("sign", sig)
	resp, err := http.PostForm(srv.URL+"/gateway.do", form)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	_, err = alipay.ParseAnswer(body, alipay.MethodPay, &aliKey.PublicKey)
	require.NoError(t, err, string(body))
	got := answerKeys(t, body)
	for _, k := range answerKeys(t, fixture(t, "alipay-trade-pay-answer.json")) {
		require.Contains(t, got, k)
	}
	// The document's answer, signed with its own key: not trusted.
	_, err = alipay.ParseAnswer(fixture(t, "alipay-trade-pay-answer.json"), alipay.MethodPay, &aliKey.PublicKey)
	require.ErrorIs(t, err, alipay.ErrSignature)

	// The notification example: refused as printed, parsed once signed.
	nf := url.Values{}
	for _, line := range strings.Split(strings.TrimSpace(string(fixture(t, "alipay-notify.txt"))), "\n") {
		k, v, _ := strings.Cut(line, "=")
		nf.Set(k, v)
	}
	_, err = alipay.ParseNotify(nf, "2014072300007148", &aliKey.PublicKey)
	require.ErrorIs(t, err, alipay.ErrSignature)
	s, err := alipay.SignRSA2(alipay.SignContent(nf, "sign", "sign_type"), aliKey)
	require.NoError(t, err)
	nf.Set("sign", s)
	n, err := alipay.ParseNotify(nf, "2014072300007148", &aliKey.PublicKey)
	require.NoError(t, err)
	require.Equal(t, alipay.Notify{TradeNo: "20150320010101001", ChannelTxn: "2013112011001004330000121536",
		BuyerID: "208827005434****", AmountFen: 8888, Status: "TRADE_SUCCESS"}, n)
}

// TestAlipayRequiredFieldsAreChecked: a signed request missing a common
// or business field is refused (40001/40002, unsigned) and nothing is paid.
func TestAlipayRequiredFieldsAreChecked(t *testing.T) {
	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	aliKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	emu := chanemu.New(chanemu.Options{AlipayAppID: "2014072300007148", AppPublicKey: &appKey.PublicKey, AlipayKey: aliKey})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	biz := map[string]string{"out_trade_no": "R1", "scene": "bar_code", "auth_code": "28763443825664394",
		"subject": "x", "total_amount": "1.00"}
	common := []string{"app_id", "method", "charset", "sign_type", "timestamp", "version"}
	drops := append(append([]string{}, common...), "out_trade_no", "scene", "auth_code", "subject", "total_amount")
	for _, drop := range drops {
		b := map[string]string{}
		for k, v := range biz {
			if k != drop {
				b[k] = v
			}
		}
		bc, _ := json.Marshal(b)
		form := url.Values{"app_id": {"2014072300007148"}, "method": {alipay.MethodPay}, "format": {"JSON"},
			"charset": {"utf-8"}, "sign_type": {"RSA2"}, "timestamp": {time.Now().In(alipay.China).Format(alipay.TimeLayout)},
			"version": {"1.0"}, "biz_content": {string(bc)}}
		form.Del(drop)
		sig, err := alipay.SignRSA2(alipay.SignContent(form, "sign"), appKey)
		require.NoError(t, err)
		form.Set("sign", sig)
		resp, err := http.PostForm(srv.URL+"/gateway.do", form)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_, err = alipay.ParseAnswer(body, alipay.MethodPay, &aliKey.PublicKey)
		require.ErrorIs(t, err, alipay.ErrRefused, drop)
	}
	require.Zero(t, emu.Calls(alipay.MethodPay))
	_, ok := emu.Trade(chanemu.Alipay, "R1")
	require.False(t, ok)
}
