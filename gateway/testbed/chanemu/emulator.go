// Package chanemu is the payment channel emulator: WeChat Pay's
// payment-code API v2 (micropay, orderquery, reverse, refund; XML,
// HMAC-SHA256) and Alipay's bar-code API (alipay.trade.pay, query, cancel,
// refund; RSA2) as their documents describe them, for tests, demos
// (`make run` with the emulator as the channels) and vendors.
//
// It checks every signature and required field and refuses what the real
// channel refuses, keeps each trade's state (paying, paid, closed,
// reversed, refunded amounts), answers the documented error codes and can
// be told, per channel, to hang, to fail (SYSTEMERROR / 20000 after doing
// the work, so the result is unknown to the caller), to answer "user
// paying" until a number of queries, to decline with a given code, or to
// sign its answers wrongly (Script). It also sends the channels' payment
// notifications, signed as they are, to a notify URL (NotifyWeChat,
// NotifyAlipay).
//
// Who paid: a code's payer is what SetPayer said, else WeChat
// "oEmu" + the code's last 10 digits (an openid) and Alipay "2088" + the
// code's last 12 digits (a user id).
//
// It implements the documents, not the channels: no bills, no settlement,
// no limits per payer. Its own checks are written independently of the
// gateway's adapters (gateway/paychan) so that a shared mistake shows.
package chanemu

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Channel names used by the emulator's control interface.
const (
	WeChat = "wechat"
	Alipay = "alipay"
)

// Options configure an Emulator: the merchant each channel accepts.
type Options struct {
	WeChatAppID, WeChatMchID string
	WeChatAPIKey             []byte
	AlipayAppID              string
	AppPublicKey             *rsa.PublicKey  // verifies the application's requests
	AlipayKey                *rsa.PrivateKey // signs answers and notifications
	// RequireClientCert makes /secapi/ refuse a request that came without
	// a verified TLS client certificate (the real host does).
	RequireClientCert bool
	Now               func() time.Time
	// WeChatPayer and AlipayPayer, when set, pay every code not given to
	// SetPayer (demos: one payer, bound once, pays whatever code posim
	// makes up).
	WeChatPayer, AlipayPayer string
}

// Script tells a channel how to behave until changed.
type Script struct {
	// Hang holds every answer until the caller gives up.
	Hang bool `json:"hang,omitempty"`
	// SystemError answers a payment with SYSTEMERROR (WeChat) or 20000
	// (Alipay) after taking the money: the caller must query.
	SystemError bool `json:"system_error,omitempty"`
	// UserPaying > 0: a payment answers USERPAYING / 10003 and is paid at
	// that many-th query; < 0: it is never paid.
	UserPaying int `json:"user_paying,omitempty"`
	// Decline refuses a payment with this err_code (WeChat, e.g.
	// AUTHCODEEXPIRE) or sub_code (Alipay, e.g. ACQ.PAYMENT_AUTH_CODE_INVALID).
	Decline string `json:"decline,omitempty"`
	// BadSign signs every answer with the wrong key.
	BadSign bool `json:"bad_sign,omitempty"`
	// Down answers every request with HTTP 503.
	Down bool `json:"down,omitempty"`
}

// Trade is a trade's state as the emulator keeps it.
type Trade struct {
	Channel    string `json:"channel"`
	OutTradeNo string `json:"out_trade_no"`
	ChannelTxn string `json:"channel_txn"`
	AuthCode   string `json:"-"`
	Payer      string `json:"payer"`
	TotalFen   int64  `json:"total_fen"`
	// State is PAYING, PAID, CLOSED (closed unpaid) or REVERSED (paid and
	// given back by a reverse or cancel).
	State       string           `json:"state"`
	RefundedFen int64            `json:"refunded_fen"`
	Refunds     map[string]int64 `json:"refunds,omitempty"`
	Queries     int              `json:"queries"`
	payAfter    int
	created     time.Time
}

// The trade states.
const (
	StatePaying   = "PAYING"
	StatePaid     = "PAID"
	StateClosed   = "CLOSED"
	StateReversed = "REVERSED"
)

// Emulator is both channels.
type Emulator struct {
	o       Options
	mu      sync.Mutex
	trades  map[string]*Trade // channel + "/" + out_trade_no
	scripts map[string]Script
	payers  map[string]string // auth code -> payer id
	seq     int
	calls   map[string]int // path or method -> count
	release chan struct{}  // closed (and replaced) when the script changes
}

// New makes an emulator.
func New(o Options) *Emulator {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Emulator{o: o, trades: map[string]*Trade{}, scripts: map[string]Script{},
		payers: map[string]string{}, calls: map[string]int{}, release: make(chan struct{})}
}

// SetScript sets a channel's behaviour (Script{} is the normal one).
func (e *Emulator) SetScript(channel string, s Script) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scripts[channel] = s
	close(e.release) // hung answers end (with 503) when told otherwise
	e.release = make(chan struct{})
}

// Close ends every hung answer.
func (e *Emulator) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	close(e.release)
	e.release = make(chan struct{})
}

func (e *Emulator) script(channel string) Script {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scripts[channel]
}

// SetPayer says who pays with a code.
func (e *Emulator) SetPayer(authCode, payer string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.payers[authCode] = payer
}

// PayerOf is who pays with a code on channel.
func (e *Emulator) PayerOf(channel, authCode string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.payerLocked(channel, authCode)
}

func (e *Emulator) payerLocked(channel, code string) string {
	if p, ok := e.payers[code]; ok {
		return p
	}
	if channel == WeChat && e.o.WeChatPayer != "" {
		return e.o.WeChatPayer
	}
	if channel == Alipay && e.o.AlipayPayer != "" {
		return e.o.AlipayPayer
	}
	if channel == WeChat {
		return "oEmu" + lastDigits(code, 10)
	}
	return "2088" + lastDigits(code, 12)
}

func lastDigits(s string, n int) string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.Repeat("0", n-len(s)) + s
}

// Trade returns a copy of a trade's state.
func (e *Emulator) Trade(channel, outTradeNo string) (Trade, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.trades[channel+"/"+outTradeNo]
	if !ok {
		return Trade{}, false
	}
	c := *t
	c.Refunds = map[string]int64{}
	for k, v := range t.Refunds {
		c.Refunds[k] = v
	}
	return c, true
}

// Calls reports how often an operation (WeChat path or Alipay method) was
// called and accepted past its signature check.
func (e *Emulator) Calls(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[op]
}

func (e *Emulator) count(op string) {
	e.mu.Lock()
	e.calls[op]++
	e.mu.Unlock()
}

// Handler serves both channels and the control interface:
//
//	POST /pay/micropay, /pay/orderquery, /secapi/pay/reverse, /secapi/pay/refund  WeChat Pay
//	POST /gateway.do                                                               Alipay
//	PUT  /emulator/script/{wechat|alipay}        a Script as JSON
//	GET  /emulator/trades/{wechat|alipay}/{no}   a Trade as JSON
//	POST /emulator/notify/{wechat|alipay}        send a top-up notification (notify.go)
func (e *Emulator) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/pay/micropay", "/pay/orderquery", "/secapi/pay/reverse", "/secapi/pay/refund"} {
		mux.HandleFunc(p, e.guard(WeChat, e.wechat))
	}
	mux.HandleFunc("/gateway.do", e.guard(Alipay, e.alipay))
	mux.HandleFunc("PUT /emulator/script/{channel}", e.putScript)
	mux.HandleFunc("GET /emulator/trades/{channel}/{no}", e.getTrade)
	mux.HandleFunc("POST /emulator/notify/{channel}", e.postNotify)
	return mux
}

// guard applies Down and Hang.
func (e *Emulator) guard(channel string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := e.script(channel)
		if s.Down {
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		}
		if s.Hang {
			e.mu.Lock()
			rel := e.release
			e.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-rel:
				http.Error(w, "hung answer released", http.StatusServiceUnavailable)
			}
			return
		}
		h(w, r)
	}
}

func (e *Emulator) putScript(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("channel")
	if ch != WeChat && ch != Alipay {
		http.NotFound(w, r)
		return
	}
	var s Script
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.SetScript(ch, s)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) getTrade(w http.ResponseWriter, r *http.Request) {
	t, ok := e.Trade(r.PathValue("channel"), r.PathValue("no"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(t)
}

// newTrade records a payment attempt; the caller holds e.mu.
func (e *Emulator) newTradeLocked(channel, no, code string, fen int64, s Script) *Trade {
	e.seq++
	t := &Trade{Channel: channel, OutTradeNo: no, AuthCode: code, Payer: e.payerLocked(channel, code),
		TotalFen: fen, State: StatePaid, Refunds: map[string]int64{}, created: e.o.Now()}
	now := e.o.Now().In(china)
	if channel == WeChat {
		t.ChannelTxn = "4200" + now.Format("20060102") + lastDigits(strconv.Itoa(e.seq), 16)
	} else {
		t.ChannelTxn = now.Format("20060102") + "22001" + lastDigits(strconv.Itoa(e.seq), 15)
	}
	if s.UserPaying != 0 {
		t.State, t.payAfter = StatePaying, s.UserPaying
	}
	e.trades[channel+"/"+no] = t
	return t
}

// queried advances a paying trade at a query; the caller holds e.mu.
func (e *Emulator) queriedLocked(t *Trade) {
	t.Queries++
	if t.State == StatePaying && t.payAfter > 0 && t.Queries >= t.payAfter {
		t.State = StatePaid
	}
}

var china = time.FixedZone("CST", 8*3600)
