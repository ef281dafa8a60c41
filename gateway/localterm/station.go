package localterm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/desk"
	"ecardgw/cardio/pboc"
	"ecardgw/cardio/reader"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/posclient"
)

// Terminal is a configured terminal a reader works as.
type Terminal struct {
	ID       string
	Merchant string
	TMK      []byte
}

// Options configure a Station.
type Options struct {
	// Handle is the transaction engine (txn.Engine.Handle).
	Handle      func(ctx context.Context, frame []byte) []byte
	Terminals   []Terminal
	WalletLimit int64          // default 1000 fen
	Zone        *time.Location // local time given to cards (default UTC+8)
	Now         func() time.Time
	Logger      *slog.Logger
	// OnResult is told the outcome of every card (tests, `cards watch`).
	OnResult func(Result)
}

// Result is what happened to one card.
type Result struct {
	Reader     string
	Terminal   string
	Role       reader.Role
	CardMasked string
	RC         string // the engine's answer to the sync or load
	Balance    int64  // campus account after the operation, fen
	Wallet     int64  // small wallet after the operation, fen
	Loaded     int64  // fen loaded onto the wallet (settlement)
	Reversed   bool   // the load was reversed (card pulled away)
	Err        error
}

// Station runs cards through the engine.
type Station struct {
	o     Options
	mu    sync.Mutex
	terms map[string]*posclient.Terminal
	batch uint32
}

// ErrNoTerminal means a reader is bound to a terminal id the station does
// not know.
var ErrNoTerminal = errors.New("localterm: reader bound to an unknown terminal")

// New builds a station.
func New(o Options) (*Station, error) {
	if o.Handle == nil {
		return nil, errors.New("localterm: no engine")
	}
	if o.WalletLimit <= 0 {
		o.WalletLimit = 1000
	}
	if o.Zone == nil {
		o.Zone = time.FixedZone("CST", 8*3600)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Station{o: o, terms: map[string]*posclient.Terminal{}, batch: uint32(o.Now().Unix() % 900000)}
	tr := posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return o.Handle(ctx, req), nil
	})
	for _, t := range o.Terminals {
		s.terms[t.ID] = &posclient.Terminal{ID: t.ID, Merchant: t.Merchant, TMK: t.TMK, T: tr,
			Now: func() time.Time { return o.Now().In(o.Zone) }}
	}
	return s, nil
}

// OnCard is the reader manager's callback.
func (s *Station) OnCard(ctx context.Context, r reader.ReaderInfo, card apdu.Transmitter) {
	res := Result{Reader: r.Name, Terminal: r.Terminal, Role: r.Role}
	// One card at a time per terminal: STANs and the session are shared.
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.terms[r.Terminal]
	if !ok {
		res.Err = fmt.Errorf("%w: %s", ErrNoTerminal, r.Terminal)
	} else if r.Role == reader.RoleSettlement {
		s.load(ctx, t, card, &res)
	} else {
		s.sync(ctx, t, card, &res)
	}
	if res.Err != nil {
		s.o.Logger.Warn("card at local reader", "reader", r.Name, "terminal", r.Terminal, "card", res.CardMasked, "err", res.Err)
	} else {
		s.o.Logger.Info("card at local reader", "reader", r.Name, "terminal", r.Terminal, "role", string(r.Role),
			"card", res.CardMasked, "rc", res.RC, "wallet_fen", res.Wallet, "loaded_fen", res.Loaded, "reversed", res.Reversed)
	}
	if s.o.OnResult != nil {
		s.o.OnResult(res)
	}
}

// send signs the terminal in when it has no session (or the engine asks it
// to) and sends m with a MAC.
func (s *Station) send(ctx context.Context, t *posclient.Terminal, build func() *iso8583.Message) (*iso8583.Message, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if t.MAK == nil {
			s.batch++
			if _, err := t.SignIn(ctx, s.batch); err != nil {
				return nil, err
			}
		}
		resp, _, err := t.Send(ctx, build(), true)
		if err != nil {
			return resp, err
		}
		if posclient.RC(resp) == "77" {
			t.MAK = nil
			continue
		}
		return resp, nil
	}
	return nil, errors.New("localterm: the engine keeps asking for sign-in")
}

func balances(resp *iso8583.Message, res *Result) {
	bs, err := iso8583.ParseBalances(resp.Bytes(54), nil)
	if err != nil {
		return
	}
	for _, b := range bs {
		switch string(b.Account[:]) {
		case "10":
			res.Balance = b.Amount
		case "20":
			res.Wallet = b.Amount
		}
	}
}

// sync reads the card and sends the first-tap card data sync.
func (s *Station) sync(ctx context.Context, t *posclient.Terminal, card apdu.Transmitter, res *Result) {
	d, err := desk.ReadCard(card)
	if err != nil {
		res.Err = err
		return
	}
	cardNo := d.Info.CardNumber()
	res.CardMasked = logging.MaskPAN(cardNo)
	f55 := make([]byte, 0, 40)
	if len(d.UID) > 0 && len(d.UID) <= 10 {
		f55 = tlv.Append(f55, 0xDF01, d.UID)
	}
	f55 = tlv.Append(f55, 0xDF02, d.Info.Serial[:])
	f55 = tlv.Append(f55, 0xDF04, be32(uint32(d.Balance)))
	f55 = tlv.Append(f55, 0xDF05, []byte{byte(d.Counter >> 8), byte(d.Counter)})
	resp, err := s.send(ctx, t, func() *iso8583.Message {
		m := t.New(100, 330000, 0)
		posclient.SetCard(m, cardNo)
		_ = m.SetBytes(55, f55)
		return m
	})
	if err != nil {
		res.Err = err
		return
	}
	res.RC = posclient.RC(resp)
	balances(resp, res)
}

// termNo is the 6-byte terminal number given to the card: the terminal
// id's digits, BCD, right-aligned.
func termNo(id string) [6]byte {
	var digits [12]byte
	for i := range digits {
		digits[i] = '0'
	}
	j := 11
	for i := len(id) - 1; i >= 0 && j >= 0; i-- {
		if id[i] >= '0' && id[i] <= '9' {
			digits[j] = id[i]
			j--
		}
	}
	var out [6]byte
	for i := range out {
		out[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
	}
	return out
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// load tops the small wallet back up to the limit.
func (s *Station) load(ctx context.Context, t *posclient.Terminal, card apdu.Transmitter, res *Result) {
	c := campuscard.New(card)
	if err := c.Select(); err != nil {
		res.Err = err
		return
	}
	info, err := c.ReadAppInfo()
	if err != nil {
		res.Err = err
		return
	}
	cardNo := info.CardNumber()
	res.CardMasked = logging.MaskPAN(cardNo)
	bal, err := c.Balance()
	if err != nil {
		res.Err = err
		return
	}
	res.Wallet = bal
	amount := s.o.WalletLimit - bal
	if amount <= 0 {
		res.RC = "00" // full already: nothing to load
		return
	}
	tn := termNo(t.ID)
	dt := pboc.DateTime(s.o.Now().In(s.o.Zone))
	var req *iso8583.Message
	authorize := func(info campuscard.AppInfo, li campuscard.LoadInit) ([4]byte, error) {
		var mac2 [4]byte
		f55 := (&posclient.LoadInit{Serial: info.Serial, Balance: uint32(li.Balance), Counter: li.Counter,
			Random: li.Random, MAC1: li.MAC1, KeyVersion: li.KeyVersion, AlgID: li.AlgID, DateTime: dt, TermNo: tn}).AppendF55(nil)
		resp, err := s.send(ctx, t, func() *iso8583.Message {
			req = t.WalletLoad(cardNo, amount, f55)
			return req
		})
		if err != nil {
			return mac2, err
		}
		res.RC = posclient.RC(resp)
		balances(resp, res)
		if res.RC != "00" {
			return mac2, fmt.Errorf("localterm: load declined %s", res.RC)
		}
		v, ok, err := tlv.Find(resp.Bytes(55), 0xDF10)
		if err != nil || !ok || len(v) != 4 {
			return mac2, errors.New("localterm: approval without MAC2")
		}
		copy(mac2[:], v)
		return mac2, nil
	}
	_, err = c.Load(campuscard.LoadRequest{KeyIndex: 1, Amount: amount, Terminal: tn, DateTime: dt}, authorize)
	switch {
	case err == nil:
		res.Loaded = amount
	case errors.Is(err, campuscard.ErrLoadIncomplete) && req != nil:
		// The gateway debited the account but the card has not been
		// credited: give the money back.
		res.Err = err
		rev, rerr := s.send(ctx, t, func() *iso8583.Message { return t.Reversal(req, "06") })
		if rerr != nil {
			res.Err = errors.Join(err, fmt.Errorf("reversal not answered: %w", rerr))
			return
		}
		res.Reversed = posclient.RC(rev) == "00"
		balances(rev, res)
	default:
		res.Err = err
	}
}
