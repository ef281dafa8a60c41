package chanemu

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apSignContent is 自行实现签名's string: sorted non-empty parameters but
// those excluded, raw values, joined with "&".
func apSignContent(p url.Values, exclude ...string) string {
	var keys []string
	for k := range p {
		skip := p.Get(k) == ""
		for _, x := range exclude {
			skip = skip || k == x
		}
		if !skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p.Get(k)
	}
	return strings.Join(parts, "&")
}

func apVerify(content, sig string, key *rsa.PublicKey) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	h := sha256.Sum256([]byte(content))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], raw) == nil
}

func apSign(content []byte, key *rsa.PrivateKey) string {
	h := sha256.Sum256(content)
	s, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		panic(err) // a valid key always signs
	}
	return base64.StdEncoding.EncodeToString(s)
}

var (
	reApAuthCode = regexp.MustCompile(`^(2[5-9]|30)[0-9]{14,22}$`)
	reAmount     = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$`)
	reApNo       = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

func apFen(s string) (int64, bool) {
	if !reAmount.MatchString(s) {
		return 0, false
	}
	w, f, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(w, 10, 64)
	for len(f) < 2 {
		f += "0"
	}
	m, _ := strconv.ParseInt(f, 10, 64)
	v := n*100 + m
	return v, v > 0 && v <= 10000000000
}

func apYuan(fen int64) string {
	return strconv.FormatInt(fen/100, 10) + "." + lastDigits(strconv.FormatInt(fen%100, 10), 2)
}

// apAnswer is one *_response member, in a fixed field order.
type apAnswer map[string]string

var apMethods = map[string][]string{
	"alipay.trade.pay":    {"out_trade_no", "scene", "auth_code", "subject", "total_amount"},
	"alipay.trade.query":  {},
	"alipay.trade.cancel": {},
	"alipay.trade.refund": {"refund_amount"},
}

// alipay serves the open platform gateway for the four trade methods.
func (e *Emulator) alipay(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.apWrite(w, "error_response", apErr("40002", "isv.invalid-parameter", "表单无法解析"), false)
		return
	}
	p := r.Form
	method := p.Get("method")
	resp := "error_response"
	if _, ok := apMethods[method]; ok {
		resp = strings.ReplaceAll(method, ".", "_") + "_response"
	}
	for k, v := range p {
		if len(v) != 1 {
			e.apWrite(w, resp, apErr("40002", "isv.invalid-parameter", k+" repeated"), false)
			return
		}
	}
	for _, f := range []string{"app_id", "method", "charset", "sign_type", "sign", "timestamp", "version", "biz_content"} {
		if p.Get(f) == "" {
			e.apWrite(w, resp, apErr("40001", "isv.missing-"+strings.ReplaceAll(f, "_", "-"), "缺少必选参数 "+f), false)
			return
		}
	}
	switch {
	case resp == "error_response":
		e.apWrite(w, resp, apErr("40002", "isv.invalid-method", "不存在的方法名"), false)
		return
	case p.Get("app_id") != e.o.AlipayAppID:
		e.apWrite(w, resp, apErr("40002", "isv.invalid-app-id", "无效的AppID参数"), false)
		return
	case p.Get("sign_type") != "RSA2":
		e.apWrite(w, resp, apErr("40002", "isv.invalid-signature-type", "无效的签名类型"), false)
		return
	case strings.ToLower(p.Get("charset")) != "utf-8" || (p.Get("format") != "" && p.Get("format") != "JSON") || p.Get("version") != "1.0":
		e.apWrite(w, resp, apErr("40002", "isv.invalid-parameter", "charset, format or version"), false)
		return
	case !apVerify(apSignContent(p, "sign"), p.Get("sign"), e.o.AppPublicKey):
		e.apWrite(w, resp, apErr("40002", "isv.invalid-signature", "验签出错"), false)
		return
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", p.Get("timestamp"), china)
	if err != nil || ts.Sub(e.o.Now()).Abs() > 30*time.Minute {
		e.apWrite(w, resp, apErr("40002", "isv.invalid-timestamp", "非法的时间戳参数"), false)
		return
	}
	var biz map[string]any
	d := json.NewDecoder(strings.NewReader(p.Get("biz_content")))
	d.UseNumber()
	if err := d.Decode(&biz); err != nil {
		e.apWrite(w, resp, apErr("40002", "isv.invalid-parameter", "biz_content is not JSON"), false)
		return
	}
	b := map[string]string{}
	for k, v := range biz {
		s, ok := v.(string)
		if !ok {
			e.apWrite(w, resp, apErr("40002", "isv.invalid-parameter", k+" must be a string"), false)
			return
		}
		b[k] = s
	}
	for _, f := range apMethods[method] {
		if b[f] == "" {
			e.apWrite(w, resp, apErr("40002", "isv.missing-"+f, "缺少必选参数 "+f), false)
			return
		}
	}
	if !reApNo.MatchString(b["out_trade_no"]) && (method != "alipay.trade.query" || b["trade_no"] == "") {
		e.apWrite(w, resp, apErr("40002", "isv.invalid-parameter", "out_trade_no"), false)
		return
	}
	e.count(method)
	var a apAnswer
	switch method {
	case "alipay.trade.pay":
		a = e.apPay(b)
	case "alipay.trade.query":
		a = e.apQuery(b)
	case "alipay.trade.cancel":
		a = e.apCancel(b)
	default:
		a = e.apRefund(b)
	}
	e.apWrite(w, resp, a, true)
}

func apErr(code, sub, msg string) apAnswer {
	m := map[string]string{"40001": "Missing Required Arguments", "40002": "Invalid Arguments",
		"40004": "Business Failed", "20000": "Service Currently Unavailable"}[code]
	return apAnswer{"code": code, "msg": m, "sub_code": sub, "sub_msg": msg}
}

// apWrite writes {"<resp>":{...},"sign":"..."}; the sign covers exactly the
// bytes of the member. Gateway-level refusals are not signed.
func (e *Emulator) apWrite(w http.ResponseWriter, resp string, a apAnswer, sign bool) {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // code and msg first, as the documents show
		ri, rj := apRank(keys[i]), apRank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	var m bytes.Buffer
	m.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			m.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(a[k])
		m.Write(kb)
		m.WriteByte(':')
		m.Write(vb)
	}
	m.WriteByte('}')
	var out bytes.Buffer
	out.WriteString(`{"` + resp + `":`)
	out.Write(m.Bytes())
	if sign {
		key := e.o.AlipayKey
		content := m.Bytes()
		if e.script(Alipay).BadSign {
			content = append(bytes.Clone(content), ' ')
		}
		out.WriteString(`,"sign":"` + apSign(content, key) + `"`)
	}
	out.WriteByte('}')
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = w.Write(out.Bytes())
}

func apRank(k string) int {
	switch k {
	case "code":
		return 0
	case "msg":
		return 1
	case "sub_code":
		return 2
	case "sub_msg":
		return 3
	}
	return 4
}

func (e *Emulator) apPay(b map[string]string) apAnswer {
	if b["scene"] != "bar_code" {
		return apErr("40004", "ACQ.INVALID_PARAMETER", "scene must be bar_code here")
	}
	fen, ok := apFen(b["total_amount"])
	if !ok {
		return apErr("40002", "isv.invalid-parameter", "total_amount")
	}
	if len(b["subject"]) > 256 {
		return apErr("40002", "isv.invalid-parameter", "subject")
	}
	if !reApAuthCode.MatchString(b["auth_code"]) {
		return apErr("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
	}
	s := e.script(Alipay)
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.trades[Alipay+"/"+b["out_trade_no"]]; ok {
		if t.AuthCode != b["auth_code"] || t.TotalFen != fen {
			return apErr("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
		}
		switch t.State {
		case StatePaid:
			return apErr("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
		case StatePaying:
			return e.apTrade(t, apAnswer{"code": "10003", "msg": " order success pay inprocess"})
		default:
			return apErr("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
		}
	}
	if s.Decline != "" {
		return apErr("40004", s.Decline, "declined by the emulator's script")
	}
	t := e.newTradeLocked(Alipay, b["out_trade_no"], b["auth_code"], fen, s)
	if s.SystemError {
		return apErr("20000", "ACQ.SYSTEM_ERROR", "系统异常")
	}
	if t.State == StatePaying {
		return e.apTrade(t, apAnswer{"code": "10003", "msg": " order success pay inprocess"})
	}
	a := e.apTrade(t, apAnswer{"code": "10000", "msg": "Success"})
	a["gmt_payment"] = t.created.In(china).Format("2006-01-02 15:04:05")
	a["receipt_amount"] = apYuan(fen)
	return a
}

func (e *Emulator) apTrade(t *Trade, a apAnswer) apAnswer {
	a["trade_no"], a["out_trade_no"], a["total_amount"] = t.ChannelTxn, t.OutTradeNo, apYuan(t.TotalFen)
	a["buyer_user_id"], a["buyer_logon_id"] = t.Payer, "emu***@example.com"
	return a
}

func (e *Emulator) apFind(b map[string]string) *Trade {
	if t, ok := e.trades[Alipay+"/"+b["out_trade_no"]]; ok {
		return t
	}
	if id := b["trade_no"]; id != "" {
		for _, t := range e.trades {
			if t.Channel == Alipay && t.ChannelTxn == id {
				return t
			}
		}
	}
	return nil
}

func (e *Emulator) apQuery(b map[string]string) apAnswer {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.apFind(b)
	if t == nil {
		return apErr("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	e.queriedLocked(t)
	a := e.apTrade(t, apAnswer{"code": "10000", "msg": "Success"})
	switch {
	case t.State == StatePaying:
		a["trade_status"] = "WAIT_BUYER_PAY"
	case t.State == StatePaid && t.RefundedFen < t.TotalFen:
		a["trade_status"] = "TRADE_SUCCESS"
	default:
		a["trade_status"] = "TRADE_CLOSED"
	}
	return a
}

func (e *Emulator) apCancel(b map[string]string) apAnswer {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.apFind(b)
	if t == nil {
		return apErr("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	a := apAnswer{"code": "10000", "msg": "Success", "trade_no": t.ChannelTxn, "out_trade_no": t.OutTradeNo, "retry_flag": "N"}
	switch t.State {
	case StatePaying:
		t.State, a["action"] = StateClosed, "close"
	case StatePaid:
		if t.RefundedFen > 0 {
			return apErr("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
		}
		t.State, a["action"] = StateReversed, "refund"
	default:
		a["action"] = "close"
	}
	return a
}

func (e *Emulator) apRefund(b map[string]string) apAnswer {
	fen, ok := apFen(b["refund_amount"])
	if !ok {
		return apErr("40002", "isv.invalid-parameter", "refund_amount")
	}
	reqNo := b["out_request_no"]
	if reqNo == "" {
		reqNo = b["out_trade_no"] // the documents: defaults to the trade (one full refund)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.apFind(b)
	if t == nil {
		return apErr("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	if t.State != StatePaid {
		return apErr("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	}
	change := "N"
	if prev, ok := t.Refunds[reqNo]; ok {
		if prev != fen {
			return apErr("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与同一退款请求号的金额不符")
		}
	} else {
		if fen > t.TotalFen-t.RefundedFen {
			return apErr("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
		}
		t.Refunds[reqNo] = fen
		t.RefundedFen += fen
		change = "Y"
	}
	return apAnswer{"code": "10000", "msg": "Success", "trade_no": t.ChannelTxn, "out_trade_no": t.OutTradeNo,
		"buyer_user_id": t.Payer, "fund_change": change, "refund_fee": apYuan(t.RefundedFen),
		"gmt_refund_pay": e.o.Now().In(china).Format("2006-01-02 15:04:05")}
}
