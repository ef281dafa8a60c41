package posload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/loadgen"
)

// Fleet is a set of terminals, each paying with its own card.
type Fleet struct {
	Terminals []posclient.Terminal // ID, Merchant, TMK (Batch optional)
	Cards     []string             // Cards[i] is used by Terminals[i % len]
	Amount    int64                // purchase amount in fen (default 1)
}

// Errors of an answer's check.
var (
	// ErrDeclined is an answer whose response code is not 00.
	ErrDeclined = errors.New("posload: declined")
	// ErrBadAnswer is not a proper answer to the request: not a message,
	// not the response MTI, another STAN, or a MAC that does not verify
	// under the session key (or is missing from an approval).
	ErrBadAnswer = errors.New("posload: not a proper answer")
)

type connState struct {
	term posclient.Terminal
	card string
	req  iso8583.Message
	resp iso8583.Message
	// key is the session MAK with its cipher schedule (made again only
	// when a sign-in brings another MAK), for requests and answers alike.
	key mac.Key
}

// macKey returns the session MAK's cipher.
func (s *connState) macKey() (*mac.Key, error) {
	if err := s.key.ResetMAK(s.term.MAK); err != nil { // no-op for the same MAK
		return nil, err
	}
	return &s.key, nil
}

// frame appends s.req as a frame to dst, with its MAC when macd.
func (s *connState) frame(dst []byte, macd bool) ([]byte, error) {
	var key *mac.Key
	if macd {
		var err error
		if key, err = s.macKey(); err != nil {
			return dst, err
		}
	}
	return iso8583.AppendFrameKey(dst, &s.req, key)
}

// check decodes an answer to s.req into the reused s.resp and checks it
// as a terminal does: the response MTI, the same STAN, the MAC under the
// session key when the request was MACed (an approval must carry one),
// then response code 00.
func (s *connState) check(answer []byte, macd bool) error {
	m := &s.resp
	if err := iso8583.DecodeFrame(m, answer); err != nil {
		return fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	if m.MTI != s.req.MTI+10 {
		return fmt.Errorf("%w: MTI %v answers %v", ErrBadAnswer, m.MTI, s.req.MTI)
	}
	if s.req.Has(11) && !bytes.Equal(m.Raw(11), s.req.Raw(11)) {
		return fmt.Errorf("%w: another STAN", ErrBadAnswer)
	}
	rc := m.Bytes(39)
	approved := len(rc) == 2 && rc[0] == '0' && rc[1] == '0'
	if macd {
		switch {
		case m.Has(64):
			key, err := s.macKey()
			if err != nil {
				return fmt.Errorf("%w: answer MAC: %v", ErrBadAnswer, err)
			}
			if want := key.Sum(m.MAB()); !mac.Equal(want[:], m.Raw(64)) {
				return fmt.Errorf("%w: answer MAC", ErrBadAnswer)
			}
		case approved:
			return fmt.Errorf("%w: approval without a MAC", ErrBadAnswer)
		}
	}
	if !approved {
		return fmt.Errorf("%w: %s", ErrDeclined, rc)
	}
	return nil
}

func (f *Fleet) states(conns int) ([]*connState, error) {
	if len(f.Terminals) == 0 {
		return nil, errors.New("posload: no terminals")
	}
	if conns > len(f.Terminals) {
		return nil, fmt.Errorf("posload: %d connections but %d terminals", conns, len(f.Terminals))
	}
	st := make([]*connState, conns)
	for i := range st {
		s := &connState{term: f.Terminals[i]}
		s.term.MAK, s.term.PIK, s.term.STAN = nil, nil, 0
		if len(f.Cards) > 0 {
			s.card = f.Cards[i%len(f.Cards)]
		}
		st[i] = s
	}
	return st, nil
}

// Echo is a load of echo tests (0820/301): no sign-in, no store, the cost
// of the gateway's network path, codec and dispatch.
func (f *Fleet) Echo(addr string, conns int, dur time.Duration, requests int64) (loadgen.Config, error) {
	st, err := f.states(conns)
	if err != nil {
		return loadgen.Config{}, err
	}
	return loadgen.Config{
		Addr: addr, Conns: conns, Duration: dur, Requests: requests,
		Next: func(conn int, _ uint64, dst []byte) []byte {
			s := st[conn]
			s.term.Fill(&s.req, 820, -1, 301)
			out, err := s.frame(dst, false)
			if err != nil {
				return dst
			}
			return out
		},
		Check: func(conn int, answer []byte) error { return st[conn].check(answer, false) },
	}, nil
}

// Purchases is a load of signed-in, durable card purchases: each
// connection signs its terminal in (Setup), then buys with its card.
func (f *Fleet) Purchases(addr string, conns int, dur time.Duration, requests int64) (loadgen.Config, error) {
	st, err := f.states(conns)
	if err != nil {
		return loadgen.Config{}, err
	}
	amount := f.Amount
	if amount <= 0 {
		amount = 1
	}
	return loadgen.Config{
		Addr: addr, Conns: conns, Duration: dur, Requests: requests,
		Setup: func(conn int, c net.Conn) error { return signIn(&st[conn].term, c) },
		Next: func(conn int, _ uint64, dst []byte) []byte {
			s := st[conn]
			s.term.Fill(&s.req, 200, 0, 0)
			m := &s.req
			posclient.SetCard(m, s.card)
			posclient.SetAmount(m, amount)
			_ = m.SetBytes(55, uidTLV)
			out, err := s.frame(dst, true)
			if err != nil {
				return dst
			}
			return out
		},
		Check: func(conn int, answer []byte) error { return st[conn].check(answer, true) },
	}, nil
}

// Inquiries is a load of signed-in balance inquiries by card.
func (f *Fleet) Inquiries(addr string, conns int, dur time.Duration, requests int64) (loadgen.Config, error) {
	cfg, err := f.Purchases(addr, conns, dur, requests)
	if err != nil {
		return cfg, err
	}
	st, _ := f.states(conns)
	cfg.Setup = func(conn int, c net.Conn) error { return signIn(&st[conn].term, c) }
	cfg.Next = func(conn int, _ uint64, dst []byte) []byte {
		s := st[conn]
		s.term.Fill(&s.req, 100, 310000, 0)
		posclient.SetCard(&s.req, s.card)
		out, err := s.frame(dst, true)
		if err != nil {
			return dst
		}
		return out
	}
	cfg.Check = func(conn int, answer []byte) error { return st[conn].check(answer, true) }
	return cfg, nil
}

var uidTLV = []byte{0xDF, 0x01, 0x04, 0x04, 0xA1, 0xB2, 0xC3}

// signIn signs a terminal in over a load generator's connection.
func signIn(t *posclient.Terminal, c net.Conn) error {
	t.T = posclient.NewConnTransport(c)
	if t.Batch == 0 {
		t.Batch = uint32(time.Now().Unix() % 999999)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := t.SignIn(ctx, t.Batch)
	_ = c.SetDeadline(time.Time{}) // the load generator sets its own
	return err
}
