package service

import (
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"ecardgw/gateway/paychan"
	"ecardgw/gateway/paychan/alipay"
	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/store"
)

// Channel top-ups: WeChat Pay and Alipay post a payment notification to the
// notify_url of a top-up order (the WeChat campus app's order, Alipay
// 校园派's). These two endpoints take no bearer token (the channels cannot
// send one); the channel's signature is the authentication. A verified
// notification credits the campus account through applyTopUp, once by the
// channel's trade number, and is answered in the channel's format so it
// stops retrying.
//
// The account is named by the order's attach (WeChat) or passback_params
// (Alipay), in URL query form: account=…, card=…, or name=…&staff_no=…
// (校园派 asks the payer for name and student/staff number). Without them
// the payer's binding names it.

// WeChatNotify is what verifies WeChat Pay notifications.
type WeChatNotify struct {
	AppID, MchID string
	APIKey       []byte
}

// AlipayNotify is what verifies Alipay notifications.
type AlipayNotify struct {
	AppID string
	Key   *rsa.PublicKey // the Alipay public key
}

// Notification paths (no bearer token; see ServeHTTP).
const (
	PathNotifyWeChat = "/notify/wechat"
	PathNotifyAlipay = "/notify/alipay"
)

// notify serves the two notification paths; ok reports whether r was one.
func (s *Server) notify(w http.ResponseWriter, r *http.Request) (ok bool) {
	switch r.URL.Path {
	case PathNotifyWeChat:
		if s.opts.WeChatNotify == nil {
			return false
		}
		s.notifyWeChat(w, r)
	case PathNotifyAlipay:
		if s.opts.AlipayNotify == nil {
			return false
		}
		s.notifyAlipay(w, r)
	default:
		return false
	}
	return true
}

func (s *Server) readNotify(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost || s.opts.ReadOnly {
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	return b, err == nil
}

func (s *Server) notifyWeChat(w http.ResponseWriter, r *http.Request) {
	answer := func(ok bool, msg string) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(wechatpay.NotifyAnswer(ok, msg))
	}
	body, ok := s.readNotify(w, r)
	if !ok {
		answer(false, "not accepted")
		return
	}
	o := s.opts.WeChatNotify
	n, err := wechatpay.ParseNotify(body, o.AppID, o.MchID, o.APIKey)
	if err != nil {
		s.log.Warn("WeChat notification refused", "err", err)
		answer(false, "signature or content refused")
		return
	}
	ok, msg := s.creditNotified(r, store.ChannelWeChat, "wechat", n.ChannelTxn, n.OpenID, n.AmountFen, n.Attach)
	answer(ok, msg)
}

func (s *Server) notifyAlipay(w http.ResponseWriter, r *http.Request) {
	answer := func(ok bool) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok {
			_, _ = io.WriteString(w, alipay.NotifySuccess)
			return
		}
		_, _ = io.WriteString(w, alipay.NotifyFailure)
	}
	body, ok := s.readNotify(w, r)
	if !ok {
		answer(false)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		answer(false)
		return
	}
	o := s.opts.AlipayNotify
	n, err := alipay.ParseNotify(form, o.AppID, o.Key)
	if errors.Is(err, alipay.ErrRefused) && n.Status != "" {
		// A verified notification of an unpaid or closed trade: nothing to
		// credit, and Alipay must stop sending it.
		s.log.Info("Alipay notification of an unpaid trade", "trade_suffix", suffix(n.ChannelTxn), "status", n.Status)
		answer(true)
		return
	}
	if err != nil {
		s.log.Warn("Alipay notification refused", "err", err)
		answer(false)
		return
	}
	ok, _ = s.creditNotified(r, store.ChannelAlipay, "alipay", n.ChannelTxn, n.BuyerID, n.AmountFen, n.Passback)
	answer(ok)
}

// creditNotified credits a verified notification. It answers true (stop
// retrying) once the outcome is decided and stored, credited or refused;
// false only when nothing could be decided (the store failed), so the
// channel sends it again.
func (s *Server) creditNotified(r *http.Request, ch store.Channel, name, tradeNo, payer string, fen int64, attach string) (bool, string) {
	q := topUpRequest{TradeNo: tradeNo, Channel: name, AmountFen: fen}
	v, _ := url.ParseQuery(attach)
	q.Account, q.CardNumber, q.Name, q.StaffNo = v.Get("account"), v.Get("card"), v.Get("name"), v.Get("staff_no")
	if q.Account == "" && q.CardNumber == "" && q.Name == "" && q.StaffNo == "" {
		var acct uint64
		var found bool
		err := s.db.View(func(tx *store.Tx) error {
			var e error
			acct, found, e = paychan.Lookup(tx, ch, payer)
			return e
		})
		if err != nil {
			s.log.Error("channel top-up: binding lookup failed", "channel", name, "trade_suffix", suffix(tradeNo), "err", err)
			return false, "try again"
		}
		if found {
			q.Account = strconv.FormatUint(acct, 10)
		}
	}
	rep, err := s.applyTopUp(r.Context(), &q)
	var ae *apiError
	switch {
	case err == nil:
		s.log.Info("channel top-up notified", "channel", name, "trade_suffix", suffix(tradeNo), "amount_fen", fen, "replayed", rep.replayed)
		return true, "OK"
	case errors.As(err, &ae):
		// Decided: refused (no account, frozen, over the limit, the trade
		// number reused). The payment is at the channel: finance refunds it
		// from the bill (docs/payments.md).
		s.log.Error("channel top-up paid but not credited: refund it at the channel", "channel", name, "trade_suffix", suffix(tradeNo),
			"amount_fen", fen, "reason", strings.TrimSpace(ae.Message))
		return true, "OK"
	default:
		s.log.Error("channel top-up not credited yet; the channel will retry", "channel", name, "trade_suffix", suffix(tradeNo), "err", err)
		return false, "try again"
	}
}

// suffix is the end of a channel trade number for logs: the whole number
// is as long as a card number, and logs never hold card-like numbers. The
// channel's bill and the journal record (its note) have the whole number.
func suffix(tradeNo string) string {
	if len(tradeNo) > 8 {
		return "…" + tradeNo[len(tradeNo)-8:]
	}
	return tradeNo
}
