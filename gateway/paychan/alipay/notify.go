package alipay

import (
	"crypto/rsa"
	"fmt"
	"net/url"
)

// Notify is a verified asynchronous notification (异步通知,
// https://opendocs.alipay.com/open/270/105902): Alipay posts it as a form
// to the notify_url of the trade and repeats it (over about 25 hours)
// until the answer body is "success".
type Notify struct {
	TradeNo    string // out_trade_no, the merchant's
	ChannelTxn string // trade_no
	BuyerID    string // buyer_id (or buyer_open_id)
	AmountFen  int64  // total_amount
	Passback   string // passback_params, as the order set it
	Status     string // trade_status
}

// NotifySuccess and NotifyFailure are the answer bodies Alipay expects.
const (
	NotifySuccess = "success"
	NotifyFailure = "failure"
)

// ParseNotify verifies a notification's form: RSA2 with the Alipay public
// key over every parameter but sign and sign_type (异步通知验签), our
// app_id, and a paid trade_status (TRADE_SUCCESS or TRADE_FINISHED).
func ParseNotify(form url.Values, appID string, key *rsa.PublicKey) (Notify, error) {
	for k, v := range form {
		if len(v) != 1 {
			return Notify{}, fmt.Errorf("%w: %s appears %d times", ErrMessage, k, len(v))
		}
	}
	if t := form.Get("sign_type"); t != "RSA2" {
		return Notify{}, fmt.Errorf("%w: sign_type %q", ErrSignature, t)
	}
	if err := VerifyRSA2(SignContent(form, "sign", "sign_type"), form.Get("sign"), key); err != nil {
		return Notify{}, err
	}
	if form.Get("app_id") != appID {
		return Notify{}, fmt.Errorf("%w: notification for another app", ErrMismatch)
	}
	n := Notify{TradeNo: form.Get("out_trade_no"), ChannelTxn: form.Get("trade_no"), BuyerID: form.Get("buyer_id"),
		Passback: form.Get("passback_params"), Status: form.Get("trade_status")}
	if n.BuyerID == "" {
		n.BuyerID = form.Get("buyer_open_id")
	}
	if n.Status != "TRADE_SUCCESS" && n.Status != "TRADE_FINISHED" {
		return n, fmt.Errorf("%w: trade_status %q", ErrRefused, n.Status)
	}
	amt, err := Fen(form.Get("total_amount"))
	if err != nil || amt <= 0 || n.TradeNo == "" || n.ChannelTxn == "" {
		return Notify{}, fmt.Errorf("%w: total_amount, out_trade_no and trade_no are required", ErrMessage)
	}
	n.AmountFen = amt
	return n, nil
}
