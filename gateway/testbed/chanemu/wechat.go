package chanemu

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wxParams is a flat v2 message.
type wxParams map[string]string

// wxSign is the v2 signature (安全规范 › 签名算法, chapter 4_3) with
// sign_type MD5 or HMAC-SHA256.
func wxSign(p wxParams, key []byte, signType string) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	s := strings.Join(append(parts, "key="+string(key)), "&")
	if signType == "HMAC-SHA256" {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
	}
	sum := md5.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func wxDecode(r io.Reader) (wxParams, error) {
	var doc struct {
		XMLName xml.Name
		Items   []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
			Inner   []byte `xml:",innerxml"`
		} `xml:",any"`
	}
	if err := xml.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&doc); err != nil {
		return nil, err
	}
	if doc.XMLName.Local != "xml" {
		return nil, fmt.Errorf("root is %s", doc.XMLName.Local)
	}
	p := wxParams{}
	for _, it := range doc.Items {
		if _, dup := p[it.XMLName.Local]; dup {
			return nil, fmt.Errorf("%s twice", it.XMLName.Local)
		}
		if strings.Contains(strings.ReplaceAll(string(it.Inner), "<![CDATA[", ""), "<") {
			return nil, fmt.Errorf("%s is nested", it.XMLName.Local)
		}
		p[it.XMLName.Local] = it.Value
	}
	return p, nil
}

func wxEncode(p wxParams) []byte {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + "><![CDATA[" + p[k] + "]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}

func wxNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Field rules of the four APIs' request parameter tables.
var (
	reOutTradeNo = regexp.MustCompile(`^[A-Za-z0-9_|*-]{1,32}$`)
	reWxAuthCode = regexp.MustCompile(`^1[0-5][0-9]{16}$`)
	reNonce      = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	reFee        = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

var wxRequired = map[string][]string{
	"/pay/micropay":       {"appid", "mch_id", "nonce_str", "sign", "body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"},
	"/pay/orderquery":     {"appid", "mch_id", "nonce_str", "sign"},
	"/secapi/pay/reverse": {"appid", "mch_id", "nonce_str", "sign"},
	"/secapi/pay/refund":  {"appid", "mch_id", "nonce_str", "sign", "out_refund_no", "total_fee", "refund_fee"},
}

// wechat serves the four v2 APIs. A failed call (bad XML, field, merchant
// or signature) is return_code FAIL; a business failure is return_code
// SUCCESS with result_code FAIL and an err_code, signed.
func (e *Emulator) wechat(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	fail := func(msg string) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(wxEncode(wxParams{"return_code": "FAIL", "return_msg": msg}))
	}
	if r.Method != http.MethodPost {
		fail("REQUIRE_POST_METHOD")
		return
	}
	if strings.HasPrefix(path, "/secapi/") && e.o.RequireClientCert &&
		(r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		fail("证书错误: a merchant certificate is required")
		return
	}
	p, err := wxDecode(r.Body)
	if err != nil {
		fail("XML_FORMAT_ERROR")
		return
	}
	for _, f := range wxRequired[path] {
		if p[f] == "" {
			fail("PARAM_ERROR: " + f + " is required")
			return
		}
	}
	if p["appid"] != e.o.WeChatAppID {
		fail("APPID_NOT_EXIST")
		return
	}
	if p["mch_id"] != e.o.WeChatMchID {
		fail("MCHID_NOT_EXIST")
		return
	}
	st := p["sign_type"]
	if st == "" {
		st = "MD5"
	}
	if (st != "MD5" && st != "HMAC-SHA256") || !hmac.Equal([]byte(p["sign"]), []byte(wxSign(p, e.o.WeChatAPIKey, st))) {
		fail("SIGNERROR")
		return
	}
	if !reNonce.MatchString(p["nonce_str"]) {
		fail("PARAM_ERROR: nonce_str")
		return
	}
	if p["out_trade_no"] == "" && p["transaction_id"] == "" || p["out_trade_no"] != "" && !reOutTradeNo.MatchString(p["out_trade_no"]) {
		fail("PARAM_ERROR: out_trade_no")
		return
	}
	e.count(path)
	var a wxParams
	switch path {
	case "/pay/micropay":
		a = e.wxMicropay(p)
	case "/pay/orderquery":
		a = e.wxQuery(p)
	case "/secapi/pay/reverse":
		a = e.wxReverse(p)
	default:
		a = e.wxRefund(p)
	}
	if a == nil {
		fail("PARAM_ERROR")
		return
	}
	a["return_code"], a["return_msg"] = "SUCCESS", "OK"
	a["appid"], a["mch_id"], a["nonce_str"] = e.o.WeChatAppID, e.o.WeChatMchID, wxNonce()
	key := e.o.WeChatAPIKey
	if e.script(WeChat).BadSign {
		key = []byte("not-the-merchant-api-key-0123456")
	}
	a["sign"] = wxSign(a, key, st)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(wxEncode(a))
}

func wxErr(code, des string) wxParams {
	return wxParams{"result_code": "FAIL", "err_code": code, "err_code_des": des}
}

func (e *Emulator) wxFind(p wxParams) *Trade {
	if t, ok := e.trades[WeChat+"/"+p["out_trade_no"]]; ok {
		return t
	}
	if id := p["transaction_id"]; id != "" {
		for _, t := range e.trades {
			if t.Channel == WeChat && t.ChannelTxn == id {
				return t
			}
		}
	}
	return nil
}

// wxRevoke closes a trade WeChat would have revoked: a payment-code order
// not paid within 45 s (chapter 5_4).
func (e *Emulator) wxRevokeLocked(t *Trade) {
	if t.State == StatePaying && e.o.Now().Sub(t.created) > 45*time.Second {
		t.State = StateClosed
	}
}

func (e *Emulator) wxMicropay(p wxParams) wxParams {
	if !reWxAuthCode.MatchString(p["auth_code"]) {
		return wxErr("AUTH_CODE_INVALID", "付款码无效")
	}
	if !reFee.MatchString(p["total_fee"]) || len(p["body"]) > 128 {
		return nil
	}
	fee, _ := strconv.ParseInt(p["total_fee"], 10, 64)
	s := e.script(WeChat)
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.trades[WeChat+"/"+p["out_trade_no"]]; ok {
		if t.AuthCode != p["auth_code"] || t.TotalFen != fee {
			return wxErr("OUT_TRADE_NO_USED", "商户订单号重复")
		}
		switch t.State {
		case StatePaid:
			return wxErr("ORDERPAID", "订单已支付")
		case StatePaying:
			return wxErr("USERPAYING", "需要用户输入支付密码")
		default:
			return wxErr("ORDERREVERSED", "订单已撤销")
		}
	}
	if s.Decline != "" {
		return wxErr(s.Decline, "declined by the emulator's script")
	}
	t := e.newTradeLocked(WeChat, p["out_trade_no"], p["auth_code"], fee, s)
	if s.SystemError {
		return wxErr("SYSTEMERROR", "系统超时")
	}
	if t.State == StatePaying {
		return wxErr("USERPAYING", "需要用户输入支付密码")
	}
	return e.wxPaid(t, wxParams{"result_code": "SUCCESS"})
}

func (e *Emulator) wxPaid(t *Trade, a wxParams) wxParams {
	a["openid"], a["is_subscribe"], a["trade_type"], a["bank_type"] = t.Payer, "N", "MICROPAY", "OTHERS"
	a["total_fee"], a["fee_type"], a["cash_fee"] = strconv.FormatInt(t.TotalFen, 10), "CNY", strconv.FormatInt(t.TotalFen, 10)
	a["transaction_id"], a["out_trade_no"] = t.ChannelTxn, t.OutTradeNo
	a["time_end"] = t.created.In(china).Format("20060102150405")
	return a
}

func (e *Emulator) wxQuery(p wxParams) wxParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.wxFind(p)
	if t == nil {
		return wxErr("ORDERNOTEXIST", "此交易订单号不存在")
	}
	e.queriedLocked(t)
	e.wxRevokeLocked(t)
	a := wxParams{"result_code": "SUCCESS", "out_trade_no": t.OutTradeNo}
	switch t.State {
	case StatePaying:
		a["trade_state"] = "USERPAYING"
	case StatePaid:
		a = e.wxPaid(t, a)
		a["trade_state"] = "SUCCESS"
		if t.RefundedFen > 0 {
			a["trade_state"] = "REFUND"
		}
	case StateClosed:
		a["trade_state"] = "REVOKED"
	case StateReversed:
		a = e.wxPaid(t, a)
		a["trade_state"] = "REVOKED"
	}
	return a
}

func (e *Emulator) wxReverse(p wxParams) wxParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.wxFind(p)
	if t == nil {
		return wxErr("ORDERNOTEXIST", "此交易订单号不存在")
	}
	if e.o.Now().Sub(t.created) > 7*24*time.Hour {
		return wxErr("REVERSE_EXPIRE", "订单已超过7天")
	}
	if t.RefundedFen > 0 {
		return wxErr("TRADE_ERROR", "订单已发生退款，不能撤销")
	}
	switch t.State {
	case StatePaying:
		t.State = StateClosed
	case StatePaid:
		t.State = StateReversed
	}
	return wxParams{"result_code": "SUCCESS", "recall": "N"}
}

func (e *Emulator) wxRefund(p wxParams) wxParams {
	if !reFee.MatchString(p["total_fee"]) || !reFee.MatchString(p["refund_fee"]) || !reOutTradeNo.MatchString(p["out_refund_no"]) {
		return nil
	}
	total, _ := strconv.ParseInt(p["total_fee"], 10, 64)
	fee, _ := strconv.ParseInt(p["refund_fee"], 10, 64)
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.wxFind(p)
	if t == nil {
		return wxErr("INVALID_TRANSACTIONID", "无效transaction_id / 订单不存在")
	}
	if t.State != StatePaid {
		return wxErr("ERROR", "订单状态错误")
	}
	if total != t.TotalFen {
		return wxErr("PARAM_ERROR", "订单金额与total_fee不符")
	}
	if prev, ok := t.Refunds[p["out_refund_no"]]; ok {
		if prev != fee {
			return wxErr("PARAM_ERROR", "同一out_refund_no的退款金额不同")
		}
	} else {
		if fee > t.TotalFen-t.RefundedFen {
			return wxErr("ERROR", "退款金额大于订单可退金额")
		}
		t.Refunds[p["out_refund_no"]] = fee
		t.RefundedFen += fee
	}
	return wxParams{"result_code": "SUCCESS", "transaction_id": t.ChannelTxn, "out_trade_no": t.OutTradeNo,
		"out_refund_no": p["out_refund_no"], "refund_id": "50" + t.ChannelTxn[4:] + lastDigits(strconv.Itoa(len(t.Refunds)), 2),
		"refund_fee": strconv.FormatInt(fee, 10), "total_fee": strconv.FormatInt(t.TotalFen, 10),
		"cash_fee": strconv.FormatInt(t.TotalFen, 10)}
}
