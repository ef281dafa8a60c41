// Package wechatpay is the WeChat Pay payment-code (付款码支付) adapter,
// merchant API v2, written on the standard library from WeChat Pay's
// published documentation (https://pay.weixin.qq.com/wiki/doc/api/micropay.php):
//
//   - 提交付款码支付 (chapter 9_10, POST /pay/micropay)
//   - 查询订单 (chapter 9_2, POST /pay/orderquery)
//   - 撤销订单 (chapter 9_11, POST /secapi/pay/reverse, merchant certificate)
//   - 申请退款 (chapter 9_4, POST /secapi/pay/refund, merchant certificate)
//   - 安全规范 › 签名算法 (chapter 4_3): sign_type HMAC-SHA256
//   - 支付结果通知 (chapter 9_7 of the JSAPI document): notify.go
//   - 付款码支付 › 场景介绍 › 商户后台系统处理流程 (chapter 5_4): a
//     USERPAYING, SYSTEMERROR or BANKERROR answer is followed by order
//     queries; a trade still unpaid is reversed, and WeChat revokes an
//     unpaid payment-code order itself after about 45 s.
//
// Client implements txn.Payments for the WECHAT channel. The engine polls
// Query while Pay or Query answers PayPaying and calls Cancel (reverse) at
// payments.poll_limit, which the configuration keeps at or below 45 s when
// this adapter is used (docs/payments.md).
package wechatpay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ecardgw/gateway/txn"
)

// Paths under Options.URL.
const (
	PathMicropay   = "/pay/micropay"
	PathOrderQuery = "/pay/orderquery"
	PathReverse    = "/secapi/pay/reverse"
	PathRefund     = "/secapi/pay/refund"
)

// DefaultURL is WeChat Pay's API host.
const DefaultURL = "https://api.mch.weixin.qq.com"

// UserPayingLimit is how long WeChat leaves an unpaid payment-code order
// open (chapter 5_4): the gateway must have given up and reversed by then.
const UserPayingLimit = 45 * time.Second

// Options configure a Client.
type Options struct {
	URL    string // DefaultURL, or the emulator's
	AppID  string // appid
	MchID  string // mch_id
	APIKey []byte // the API v2 key (32 characters), from the key file
	// HTTP calls micropay and orderquery; CertHTTP presents the merchant
	// certificate (apiclient_cert) and is used for reverse and refund.
	HTTP, CertHTTP *http.Client
	// ClientIP is spbill_create_ip: the address of the machine calling.
	ClientIP string
	// Retry is the pause before repeating a reverse WeChat asked to repeat
	// (recall=Y) or a refund answered SYSTEMERROR. Default 1 s.
	Retry time.Duration
}

// Client talks to WeChat Pay (or the emulator).
type Client struct {
	o Options
}

// New checks the options.
func New(o Options) (*Client, error) {
	switch {
	case o.URL == "":
		return nil, fmt.Errorf("%w: no url", ErrOptions)
	case o.AppID == "" || o.MchID == "":
		return nil, fmt.Errorf("%w: app_id and mch_id are required", ErrOptions)
	case len(o.APIKey) == 0:
		return nil, fmt.Errorf("%w: no API key", ErrOptions)
	case o.HTTP == nil || o.CertHTTP == nil:
		return nil, fmt.Errorf("%w: no HTTP clients", ErrOptions)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.ClientIP == "" {
		o.ClientIP = "127.0.0.1"
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	return &Client{o: o}, nil
}

var _ txn.Payments = (*Client)(nil)

// Pay submits the scanned code (micropay). USERPAYING is PayPaying; a
// SYSTEMERROR or BANKERROR (result unknown) is followed at once by a
// query, and while that does not know either the trade stays PayPaying so
// the engine keeps querying and reverses it at the poll limit.
func (c *Client) Pay(ctx context.Context, r txn.PayRequest) (txn.PayResult, error) {
	subject := r.Subject
	if subject == "" {
		subject = "campus payment"
	}
	p := Params{
		"body":             truncate(subject, 128),
		"out_trade_no":     r.TradeNo,
		"total_fee":        strconv.FormatInt(r.Amount, 10),
		"spbill_create_ip": c.o.ClientIP,
		"auth_code":        r.AuthCode,
		"device_info":      r.Terminal,
	}
	a, err := c.call(ctx, PathMicropay, p, false)
	if err != nil {
		return txn.PayResult{}, err
	}
	if a["result_code"] == "SUCCESS" {
		return c.paid(a, r.TradeNo, r.Amount)
	}
	switch code := a["err_code"]; code {
	case "USERPAYING":
		return txn.PayResult{Status: txn.PayPaying, Reason: code}, nil
	case "SYSTEMERROR", "BANKERROR", "ORDERPAID":
		q, qerr := c.Query(ctx, r.TradeNo)
		if qerr != nil {
			return txn.PayResult{Status: txn.PayPaying, Reason: code}, nil
		}
		if q.Status == txn.PayDeclined && q.Reason == "ORDERNOTEXIST" {
			// Not known at WeChat: never taken. Keep asking until the
			// limit, then reverse, as chapter 5_4 says for an unknown
			// result.
			return txn.PayResult{Status: txn.PayPaying, Reason: code}, nil
		}
		return q, nil
	default:
		return txn.PayResult{Status: txn.PayDeclined, Reason: code}, nil
	}
}

// paid checks a paid answer names our trade and amount.
func (c *Client) paid(a Params, tradeNo string, amount int64) (txn.PayResult, error) {
	if a["out_trade_no"] != tradeNo {
		return txn.PayResult{}, fmt.Errorf("%w: answer names trade %q", ErrMismatch, a["out_trade_no"])
	}
	if amount > 0 && a["total_fee"] != strconv.FormatInt(amount, 10) {
		return txn.PayResult{}, fmt.Errorf("%w: total_fee %q", ErrMismatch, a["total_fee"])
	}
	if a["transaction_id"] == "" {
		return txn.PayResult{}, fmt.Errorf("%w: paid without transaction_id", ErrMismatch)
	}
	return txn.PayResult{Status: txn.PayPaid, ChannelTxn: a["transaction_id"], Payer: a["openid"]}, nil
}

// Query reads the trade's state (orderquery). USERPAYING and NOTPAY are
// PayPaying; a SYSTEMERROR answer is PayPaying too (not known yet: keep
// asking, reverse at the limit); ORDERNOTEXIST is PayDeclined.
func (c *Client) Query(ctx context.Context, tradeNo string) (txn.PayResult, error) {
	a, err := c.call(ctx, PathOrderQuery, Params{"out_trade_no": tradeNo}, false)
	if err != nil {
		return txn.PayResult{}, err
	}
	if a["result_code"] != "SUCCESS" {
		switch code := a["err_code"]; code {
		case "SYSTEMERROR", "BANKERROR":
			return txn.PayResult{Status: txn.PayPaying, Reason: code}, nil
		default:
			return txn.PayResult{Status: txn.PayDeclined, Reason: code}, nil
		}
	}
	switch st := a["trade_state"]; st {
	case "SUCCESS":
		return c.paid(a, tradeNo, 0)
	case "REFUND":
		return txn.PayResult{Status: txn.PayRefunded, ChannelTxn: a["transaction_id"], Payer: a["openid"], Reason: st}, nil
	case "USERPAYING", "NOTPAY":
		return txn.PayResult{Status: txn.PayPaying, Reason: st}, nil
	case "CLOSED", "REVOKED":
		return txn.PayResult{Status: txn.PayCancelled, Reason: st}, nil
	default: // PAYERROR
		return txn.PayResult{Status: txn.PayDeclined, Reason: st}, nil
	}
}

// Cancel reverses the trade (撤销订单): WeChat closes an unpaid one and
// gives a paid one back. It repeats the call while WeChat answers
// recall=Y or SYSTEMERROR, until ctx ends. A trade WeChat does not know
// needs no reversal.
func (c *Client) Cancel(ctx context.Context, tradeNo string) error {
	for {
		a, err := c.call(ctx, PathReverse, Params{"out_trade_no": tradeNo}, true)
		if err != nil {
			return err
		}
		if a["result_code"] == "SUCCESS" || a["err_code"] == "ORDERNOTEXIST" {
			return nil
		}
		if a["recall"] != "Y" && a["err_code"] != "SYSTEMERROR" {
			return fmt.Errorf("%w: reverse answered %s", ErrRefused, a["err_code"])
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: reverse still asked to be repeated: %v", txn.ErrPayUnreachable, ctx.Err())
		case <-time.After(c.o.Retry):
		}
	}
}

// Refund gives back amount (申请退款), idempotent by refundNo
// (out_refund_no). WeChat wants the order's total_fee, so the order is
// queried first. A refund beyond what is left is PayDeclined.
func (c *Client) Refund(ctx context.Context, tradeNo, refundNo string, amount int64) (txn.PayResult, error) {
	q, err := c.call(ctx, PathOrderQuery, Params{"out_trade_no": tradeNo}, false)
	if err != nil {
		return txn.PayResult{}, err
	}
	if q["result_code"] != "SUCCESS" {
		return txn.PayResult{Status: txn.PayDeclined, Reason: q["err_code"]}, nil
	}
	if st := q["trade_state"]; st != "SUCCESS" && st != "REFUND" {
		return txn.PayResult{Status: txn.PayDeclined, Reason: "trade is " + st}, nil
	}
	p := Params{"out_trade_no": tradeNo, "out_refund_no": refundNo,
		"total_fee": q["total_fee"], "refund_fee": strconv.FormatInt(amount, 10)}
	for {
		a, err := c.call(ctx, PathRefund, p, true)
		if err != nil {
			return txn.PayResult{}, err
		}
		if a["result_code"] == "SUCCESS" {
			if a["out_refund_no"] != refundNo || a["refund_fee"] != p["refund_fee"] {
				return txn.PayResult{}, fmt.Errorf("%w: refund answer names %q of %q", ErrMismatch, a["out_refund_no"], a["refund_fee"])
			}
			return txn.PayResult{Status: txn.PayRefunded, ChannelTxn: a["refund_id"]}, nil
		}
		if code := a["err_code"]; code != "SYSTEMERROR" && code != "BIZERR_NEED_RETRY" {
			return txn.PayResult{Status: txn.PayDeclined, Reason: code}, nil
		}
		select {
		case <-ctx.Done():
			return txn.PayResult{}, fmt.Errorf("%w: refund not confirmed: %v", txn.ErrPayUnreachable, ctx.Err())
		case <-time.After(c.o.Retry):
		}
	}
}

// call signs and posts p and returns the verified answer. An answer whose
// return_code is not SUCCESS is an error (the call itself failed); a
// SUCCESS answer must carry a valid signature and our appid and mch_id.
func (c *Client) call(ctx context.Context, path string, p Params, cert bool) (Params, error) {
	p["appid"], p["mch_id"] = c.o.AppID, c.o.MchID
	p["nonce_str"] = nonce()
	p["sign_type"] = SignTypeHMAC
	p["sign"] = Sign(p, c.o.APIKey)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL+path, bytes.NewReader(Encode(p)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hc := c.o.HTTP
	if cert {
		hc = c.o.CertHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", txn.ErrPayUnreachable, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", txn.ErrPayUnreachable, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", txn.ErrPayUnreachable, path, resp.StatusCode)
	}
	a, err := Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a["return_code"] != "SUCCESS" {
		return nil, fmt.Errorf("%w: %s: return_code %q: %s", ErrRefused, path, a["return_code"], truncate(a["return_msg"], 128))
	}
	if err := Verify(a, c.o.APIKey); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a["appid"] != c.o.AppID || a["mch_id"] != c.o.MchID {
		return nil, fmt.Errorf("%w: %s: answer for another merchant", ErrMismatch, path)
	}
	return a, nil
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
