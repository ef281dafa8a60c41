// Package alipay is the Alipay bar-code payment (当面付 › 条码支付)
// adapter, written on the standard library from Alipay's published open
// platform documentation (https://opendocs.alipay.com):
//
//   - alipay.trade.pay, scene bar_code (API 参考 › 当面付 › 统一收单交易支付接口,
//     https://opendocs.alipay.com/open/02cdx8)
//   - alipay.trade.query (统一收单交易查询), alipay.trade.cancel
//     (统一收单交易撤销接口) and alipay.trade.refund (统一收单交易退款接口),
//     in the same section
//   - 公共请求参数 / 公共响应参数 and 签名 › 自行实现签名 (RSA2 =
//     SHA256withRSA over the sorted parameters; an answer's sign covers the
//     raw JSON of its *_response member and is verified with the Alipay
//     public key, https://opendocs.alipay.com/common/02kf5q)
//   - 公共错误码 (https://opendocs.alipay.com/common/02km9f): 10000 success,
//     10003 waiting for the user (业务处理中), 20000 service unavailable
//     (result unknown), 40004 business failure with a sub_code
//   - 条码支付 › 接入指南 › 异常处理: on 10003 or 20000 query the trade
//     every few seconds; a trade still not paid after about 60 s (or still
//     unknown) is cancelled with alipay.trade.cancel, repeated while
//     retry_flag is Y
//   - 异步通知 (https://opendocs.alipay.com/open/270/105902): notify.go
//
// Client implements txn.Payments for the ALIPAY channel; the engine's poll
// (payments.poll_limit, payments.poll_interval) is the query loop.
package alipay

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"ecardgw/gateway/txn"
)

// DefaultURL is Alipay's open platform gateway.
const DefaultURL = "https://openapi.alipay.com/gateway.do"

// The methods used.
const (
	MethodPay    = "alipay.trade.pay"
	MethodQuery  = "alipay.trade.query"
	MethodCancel = "alipay.trade.cancel"
	MethodRefund = "alipay.trade.refund"
)

// The codes of 公共错误码.
const (
	CodeSuccess  = "10000"
	CodeWaiting  = "10003"
	CodeUnknown  = "20000"
	CodeBusiness = "40004"
)

// MaxBody bounds an answer read from the network.
const MaxBody = 64 << 10

// Options configure a Client.
type Options struct {
	URL        string // DefaultURL, or the emulator's
	AppID      string
	PrivateKey *rsa.PrivateKey // the application private key, from the key file
	AlipayKey  *rsa.PublicKey  // the Alipay public key, from the key file
	HTTP       *http.Client
	Now        func() time.Time
	Retry      time.Duration // pause before repeating a cancel or refund; default 1 s
}

// Client talks to Alipay (or the emulator).
type Client struct {
	o Options
}

// New checks the options.
func New(o Options) (*Client, error) {
	switch {
	case o.URL == "":
		return nil, fmt.Errorf("%w: no url", ErrOptions)
	case o.AppID == "":
		return nil, fmt.Errorf("%w: app_id is required", ErrOptions)
	case o.PrivateKey == nil || o.AlipayKey == nil:
		return nil, fmt.Errorf("%w: the application private key and the Alipay public key are required", ErrOptions)
	case o.HTTP == nil:
		return nil, fmt.Errorf("%w: no HTTP client", ErrOptions)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	return &Client{o: o}, nil
}

var _ txn.Payments = (*Client)(nil)

// answer is the verified *_response member.
type answer struct {
	Code         string `json:"code"`
	Msg          string `json:"msg"`
	SubCode      string `json:"sub_code"`
	SubMsg       string `json:"sub_msg"`
	TradeNo      string `json:"trade_no"`
	OutTradeNo   string `json:"out_trade_no"`
	BuyerUserID  string `json:"buyer_user_id"`
	BuyerOpenID  string `json:"buyer_open_id"`
	TotalAmount  string `json:"total_amount"`
	TradeStatus  string `json:"trade_status"`
	RetryFlag    string `json:"retry_flag"`
	FundChange   string `json:"fund_change"`
	RefundFee    string `json:"refund_fee"`
	OutRequestNo string `json:"out_request_no"`
}

func (a *answer) payer() string {
	if a.BuyerUserID != "" {
		return a.BuyerUserID
	}
	return a.BuyerOpenID
}

// unknown: the result is not known yet (20000, or a system error).
func (a *answer) unknown() bool {
	return a.Code == CodeUnknown || a.SubCode == "ACQ.SYSTEM_ERROR" || a.SubCode == "aop.ACQ.SYSTEM_ERROR"
}

// Pay submits the scanned code (alipay.trade.pay, scene bar_code). 10003
// is PayPaying; 20000 (unknown) is followed by a query, and while that
// does not know either the trade stays PayPaying so the engine keeps
// querying and cancels it at the poll limit.
func (c *Client) Pay(ctx context.Context, r txn.PayRequest) (txn.PayResult, error) {
	subject := r.Subject
	if subject == "" {
		subject = "campus payment"
	}
	biz := map[string]string{"out_trade_no": r.TradeNo, "scene": "bar_code", "auth_code": r.AuthCode,
		"subject": truncate(subject, 256), "total_amount": Yuan(r.Amount), "terminal_id": r.Terminal}
	a, err := c.call(ctx, MethodPay, biz)
	if err != nil {
		return txn.PayResult{}, err
	}
	switch {
	case a.Code == CodeSuccess:
		return c.paid(a, r.TradeNo, r.Amount)
	case a.Code == CodeWaiting:
		return txn.PayResult{Status: txn.PayPaying, Reason: CodeWaiting}, nil
	case a.unknown():
		q, qerr := c.Query(ctx, r.TradeNo)
		if qerr != nil || (q.Status == txn.PayDeclined && q.Reason == "ACQ.TRADE_NOT_EXIST") {
			return txn.PayResult{Status: txn.PayPaying, Reason: CodeUnknown}, nil
		}
		return q, nil
	case a.Code == CodeBusiness:
		return txn.PayResult{Status: txn.PayDeclined, Reason: a.SubCode}, nil
	}
	return txn.PayResult{}, fmt.Errorf("%w: %s answered %s %s", ErrRefused, MethodPay, a.Code, a.SubCode)
}

func (c *Client) paid(a *answer, tradeNo string, amount int64) (txn.PayResult, error) {
	if a.OutTradeNo != tradeNo || a.TradeNo == "" {
		return txn.PayResult{}, fmt.Errorf("%w: answer names trade %q", ErrMismatch, a.OutTradeNo)
	}
	if amount > 0 {
		if got, err := Fen(a.TotalAmount); err != nil || got != amount {
			return txn.PayResult{}, fmt.Errorf("%w: total_amount %q", ErrMismatch, a.TotalAmount)
		}
	}
	return txn.PayResult{Status: txn.PayPaid, ChannelTxn: a.TradeNo, Payer: a.payer()}, nil
}

// Query reads the trade (alipay.trade.query): WAIT_BUYER_PAY and an
// unknown answer are PayPaying, TRADE_SUCCESS and TRADE_FINISHED PayPaid,
// TRADE_CLOSED PayCancelled, ACQ.TRADE_NOT_EXIST PayDeclined.
func (c *Client) Query(ctx context.Context, tradeNo string) (txn.PayResult, error) {
	a, err := c.call(ctx, MethodQuery, map[string]string{"out_trade_no": tradeNo})
	if err != nil {
		return txn.PayResult{}, err
	}
	switch {
	case a.unknown():
		return txn.PayResult{Status: txn.PayPaying, Reason: CodeUnknown}, nil
	case a.Code == CodeBusiness:
		return txn.PayResult{Status: txn.PayDeclined, Reason: a.SubCode}, nil
	case a.Code != CodeSuccess:
		return txn.PayResult{}, fmt.Errorf("%w: %s answered %s %s", ErrRefused, MethodQuery, a.Code, a.SubCode)
	}
	switch a.TradeStatus {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		return c.paid(a, tradeNo, 0)
	case "WAIT_BUYER_PAY":
		return txn.PayResult{Status: txn.PayPaying, Reason: a.TradeStatus}, nil
	case "TRADE_CLOSED":
		return txn.PayResult{Status: txn.PayCancelled, ChannelTxn: a.TradeNo, Reason: a.TradeStatus}, nil
	}
	return txn.PayResult{}, fmt.Errorf("%w: trade_status %q", ErrMessage, a.TradeStatus)
}

// Cancel ends the trade (alipay.trade.cancel): Alipay closes an unpaid one
// and refunds a paid one. It repeats while Alipay answers retry_flag Y or
// an unknown result, until ctx ends. A trade Alipay does not know needs no
// cancelling.
func (c *Client) Cancel(ctx context.Context, tradeNo string) error {
	for {
		a, err := c.call(ctx, MethodCancel, map[string]string{"out_trade_no": tradeNo})
		if err != nil {
			return err
		}
		switch {
		case a.Code == CodeSuccess && a.RetryFlag != "Y":
			return nil
		case a.SubCode == "ACQ.TRADE_NOT_EXIST":
			return nil
		case a.RetryFlag != "Y" && !a.unknown():
			return fmt.Errorf("%w: cancel answered %s %s", ErrRefused, a.Code, a.SubCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: cancel still asked to be repeated: %v", txn.ErrPayUnreachable, ctx.Err())
		case <-time.After(c.o.Retry):
		}
	}
}

// Refund gives back amount (alipay.trade.refund), idempotent by refundNo
// (out_request_no). A refund beyond what is left is PayDeclined
// (ACQ.REFUND_AMT_NOT_EQUAL_TOTAL).
func (c *Client) Refund(ctx context.Context, tradeNo, refundNo string, amount int64) (txn.PayResult, error) {
	biz := map[string]string{"out_trade_no": tradeNo, "refund_amount": Yuan(amount), "out_request_no": refundNo}
	for {
		a, err := c.call(ctx, MethodRefund, biz)
		if err != nil {
			return txn.PayResult{}, err
		}
		switch {
		case a.Code == CodeSuccess:
			if a.OutTradeNo != tradeNo {
				return txn.PayResult{}, fmt.Errorf("%w: refund answer names trade %q", ErrMismatch, a.OutTradeNo)
			}
			return txn.PayResult{Status: txn.PayRefunded, ChannelTxn: a.TradeNo}, nil
		case !a.unknown() && a.Code == CodeBusiness:
			return txn.PayResult{Status: txn.PayDeclined, Reason: a.SubCode}, nil
		case !a.unknown():
			return txn.PayResult{}, fmt.Errorf("%w: %s answered %s %s", ErrRefused, MethodRefund, a.Code, a.SubCode)
		}
		select {
		case <-ctx.Done():
			return txn.PayResult{}, fmt.Errorf("%w: refund not confirmed: %v", txn.ErrPayUnreachable, ctx.Err())
		case <-time.After(c.o.Retry):
		}
	}
}

// ResponseKey is the member of an answer that holds method's result.
func ResponseKey(method string) string {
	return strings.ReplaceAll(method, ".", "_") + "_response"
}

// call signs and posts one request and returns the verified answer.
func (c *Client) call(ctx context.Context, method string, biz map[string]string) (*answer, error) {
	bc, err := json.Marshal(biz)
	if err != nil {
		return nil, err
	}
	p := url.Values{}
	p.Set("app_id", c.o.AppID)
	p.Set("method", method)
	p.Set("format", "JSON")
	p.Set("charset", "utf-8")
	p.Set("sign_type", "RSA2")
	p.Set("timestamp", c.o.Now().In(China).Format(TimeLayout))
	p.Set("version", "1.0")
	p.Set("biz_content", string(bc))
	sig, err := SignRSA2(SignContent(p, "sign"), c.o.PrivateKey)
	if err != nil {
		return nil, err
	}
	p.Set("sign", sig)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL, strings.NewReader(p.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", txn.ErrPayUnreachable, method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", txn.ErrPayUnreachable, method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", txn.ErrPayUnreachable, method, resp.StatusCode)
	}
	return ParseAnswer(body, method, c.o.AlipayKey)
}

// ParseAnswer verifies an answer body: the sign member must be the RSA2
// signature, by the Alipay key, of the exact bytes of the *_response
// member. An unsigned answer is trusted only as a refusal.
func ParseAnswer(body []byte, method string, key *rsa.PublicKey) (*answer, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMessage, MaxBody)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	raw, ok := top[ResponseKey(method)]
	if !ok {
		raw, ok = top["error_response"]
	}
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrMessage, ResponseKey(method))
	}
	a := &answer{}
	if err := json.Unmarshal(raw, a); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	var sig string
	if s, ok := top["sign"]; ok {
		if err := json.Unmarshal(s, &sig); err != nil {
			return nil, fmt.Errorf("%w: sign is not a string", ErrMessage)
		}
	}
	if sig == "" && a.Code != CodeSuccess && a.Code != CodeWaiting && a.Code != "" {
		return nil, fmt.Errorf("%w: %s: %s %s (unsigned)", ErrRefused, method, a.Code, truncate(a.SubCode, 64))
	}
	if err := VerifyRSA2(raw, sig, key); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return a, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
