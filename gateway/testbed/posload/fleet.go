package posload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/loadgen"
)

// Fleet is a set of terminals, each paying with its own card.
type Fleet struct {
	Terminals []posclient.Terminal // ID, Merchant, TMK (Batch optional)
	Cards     []string             // Cards[i] is used by Terminals[i % len]
	Amount    int64                // purchase amount in fen (default 1)
}

// ErrDeclined is an answer whose response code is not 00.
var ErrDeclined = errors.New("posload: declined")

type connState struct {
	term posclient.Terminal
	card string
	req  iso8583.Message
	resp iso8583.Message
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

// checkRC decodes an answer into a reused message and wants 00.
func checkRC(m *iso8583.Message, answer []byte) error {
	if err := iso8583.DecodeFrame(m, answer); err != nil {
		return err
	}
	if rc := m.Bytes(39); len(rc) != 2 || rc[0] != '0' || rc[1] != '0' {
		return fmt.Errorf("%w: %s", ErrDeclined, rc)
	}
	return nil
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
			out, err := iso8583.AppendFrame(dst, &s.req, nil)
			if err != nil {
				return dst
			}
			return out
		},
		Check: func(conn int, answer []byte) error { return checkRC(&st[conn].resp, answer) },
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
			out, err := iso8583.AppendFrame(dst, m, s.term.MAK)
			if err != nil {
				return dst
			}
			return out
		},
		Check: func(conn int, answer []byte) error { return checkRC(&st[conn].resp, answer) },
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
		out, err := iso8583.AppendFrame(dst, &s.req, s.term.MAK)
		if err != nil {
			return dst
		}
		return out
	}
	cfg.Check = func(conn int, answer []byte) error { return checkRC(&st[conn].resp, answer) }
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
