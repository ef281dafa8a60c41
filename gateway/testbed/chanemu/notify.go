package chanemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// TopUp is a payment made outside the till (the WeChat campus app, Alipay
// 校园派) whose notification the emulator sends.
type TopUp struct {
	URL        string `json:"url"` // the merchant's notify_url
	OutTradeNo string `json:"out_trade_no"`
	AmountFen  int64  `json:"amount_fen"`
	Payer      string `json:"payer,omitempty"` // openid / buyer_id; default: an emulator id
	// Attach (WeChat attach, Alipay passback_params) names the campus
	// account the way the order did: account=…, card=…, or
	// name=…&staff_no=… (URL query form).
	Attach string `json:"attach,omitempty"`
	// BadSign signs the notification with the wrong key.
	BadSign bool `json:"bad_sign,omitempty"`
}

// Notify records the top-up as a paid trade of channel and posts the
// channel's notification; it returns the HTTP status and the answer body.
// Sending the same TopUp again is the channel's retry.
func (e *Emulator) Notify(ctx context.Context, channel string, t TopUp) (int, string, error) {
	if t.AmountFen <= 0 || t.OutTradeNo == "" || t.URL == "" {
		return 0, "", fmt.Errorf("chanemu: url, out_trade_no and a positive amount_fen are required")
	}
	e.mu.Lock()
	tr, ok := e.trades[channel+"/"+t.OutTradeNo]
	if !ok {
		tr = e.newTradeLocked(channel, t.OutTradeNo, "", t.AmountFen, Script{})
		if t.Payer != "" {
			tr.Payer = t.Payer
		} else if channel == WeChat {
			tr.Payer = "oEmuTopUp" + lastDigits(strconv.Itoa(e.seq), 6)
		} else {
			tr.Payer = "2088" + lastDigits(strconv.Itoa(e.seq), 12)
		}
	}
	trade := *tr
	e.mu.Unlock()
	var body io.Reader
	var ctype string
	switch channel {
	case WeChat:
		p := wxParams{"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": e.o.WeChatAppID, "mch_id": e.o.WeChatMchID,
			"nonce_str": wxNonce(), "openid": trade.Payer, "is_subscribe": "N", "trade_type": "JSAPI", "bank_type": "OTHERS",
			"total_fee": strconv.FormatInt(trade.TotalFen, 10), "cash_fee": strconv.FormatInt(trade.TotalFen, 10),
			"fee_type": "CNY", "transaction_id": trade.ChannelTxn, "out_trade_no": trade.OutTradeNo, "attach": t.Attach,
			"time_end": trade.created.In(china).Format("20060102150405"), "sign_type": "HMAC-SHA256"}
		key := e.o.WeChatAPIKey
		if t.BadSign {
			key = []byte("not-the-merchant-api-key-0123456")
		}
		p["sign"] = wxSign(p, key, "HMAC-SHA256")
		body, ctype = strings.NewReader(string(wxEncode(p))), "text/xml"
	case Alipay:
		f := url.Values{}
		now := e.o.Now().In(china).Format("2006-01-02 15:04:05")
		for k, v := range map[string]string{"notify_time": now, "notify_type": "trade_status_sync", "notify_id": "emu" + trade.ChannelTxn,
			"app_id": e.o.AlipayAppID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2", "trade_no": trade.ChannelTxn,
			"out_trade_no": trade.OutTradeNo, "buyer_id": trade.Payer, "trade_status": "TRADE_SUCCESS",
			"total_amount": apYuan(trade.TotalFen), "receipt_amount": apYuan(trade.TotalFen), "subject": "校园卡充值",
			"gmt_create": now, "gmt_payment": now, "passback_params": t.Attach} {
			if v != "" {
				f.Set(k, v)
			}
		}
		content := apSignContent(f, "sign", "sign_type")
		if t.BadSign {
			content += "&tampered=1"
		}
		f.Set("sign", apSign([]byte(content), e.o.AlipayKey))
		body, ctype = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded; charset=utf-8"
	default:
		return 0, "", fmt.Errorf("chanemu: no channel %q", channel)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), err
}

// postNotify: POST /emulator/notify/{channel} with a TopUp as JSON.
func (e *Emulator) postNotify(w http.ResponseWriter, r *http.Request) {
	var t TopUp
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8192))
	d.DisallowUnknownFields()
	if err := d.Decode(&t); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	status, answer, err := e.Notify(r.Context(), r.PathValue("channel"), t)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "answer": answer})
}
