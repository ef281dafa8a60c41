package wechatpay

import (
	"fmt"
	"strconv"
)

// Notify is a verified payment notification (支付结果通知, chapter 9_7 of
// the JSAPI document): WeChat posts it to the merchant's notify_url after
// a payment, and repeats it until the answer is NotifyAnswer(true).
type Notify struct {
	TradeNo    string // out_trade_no, the merchant's
	ChannelTxn string // transaction_id
	OpenID     string
	AmountFen  int64  // total_fee
	Attach     string // attach, as the order set it
}

// ParseNotify decodes and verifies a notification body: signature with the
// API key, our appid and mch_id, return_code and result_code SUCCESS.
func ParseNotify(body []byte, appID, mchID string, apiKey []byte) (Notify, error) {
	p, err := Decode(body)
	if err != nil {
		return Notify{}, err
	}
	if p["return_code"] != "SUCCESS" {
		return Notify{}, fmt.Errorf("%w: return_code %q", ErrRefused, p["return_code"])
	}
	if err := Verify(p, apiKey); err != nil {
		return Notify{}, err
	}
	if p["appid"] != appID || p["mch_id"] != mchID {
		return Notify{}, fmt.Errorf("%w: notification for another merchant", ErrMismatch)
	}
	if p["result_code"] != "SUCCESS" {
		return Notify{}, fmt.Errorf("%w: result_code %q", ErrRefused, p["result_code"])
	}
	n := Notify{TradeNo: p["out_trade_no"], ChannelTxn: p["transaction_id"], OpenID: p["openid"], Attach: p["attach"]}
	fee, err := strconv.ParseInt(p["total_fee"], 10, 64)
	if err != nil || fee <= 0 || n.TradeNo == "" || n.ChannelTxn == "" {
		return Notify{}, fmt.Errorf("%w: total_fee, out_trade_no and transaction_id are required", ErrMessage)
	}
	n.AmountFen = fee
	return n, nil
}

// NotifyAnswer is the body WeChat expects back: SUCCESS stops its
// retries, FAIL makes it send the notification again later.
func NotifyAnswer(ok bool, msg string) []byte {
	code := "FAIL"
	if ok {
		code, msg = "SUCCESS", "OK"
	}
	return Encode(Params{"return_code": code, "return_msg": msg})
}
