package posim

import (
	"bytes"
	"fmt"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// roundTrip sends st.req at now and returns the response code, or an
// error when no proper answer came.
func (st *simTerm) roundTrip(p *pending, now time.Time) (string, error) {
	req, err := st.encode(p)
	if err != nil {
		return "", err
	}
	ans, err := st.exchange(req, now)
	if err != nil {
		return "", err
	}
	if st.raw {
		return rcApproved, nil
	}
	return st.check(p, ans)
}

// encode frames st.req into st.wbuf, with its MAC when p is MACed.
func (st *simTerm) encode(p *pending) ([]byte, error) {
	var key *mac.Key
	if p.macd {
		var err error
		if key, err = st.macKey(); err != nil {
			return nil, err
		}
	}
	req, err := iso8583.AppendFrameKey(st.wbuf[:0], &st.req, key)
	if err != nil {
		return nil, err
	}
	st.wbuf = req
	return req, nil
}

// check decodes the answer ans to st.req and returns its response code:
// an error when it is not a proper answer (not a message, not the
// response MTI, another STAN, a MAC that does not verify).
func (st *simTerm) check(p *pending, ans []byte) (string, error) {
	resp := &st.resp
	if err := iso8583.DecodeFrame(resp, ans); err != nil {
		return "", fmt.Errorf("%w: %v", ErrAnswer, err)
	}
	if resp.MTI != st.req.MTI+10 {
		return "", fmt.Errorf("%w: MTI %v answers %v", ErrAnswer, resp.MTI, st.req.MTI)
	}
	// Both STANs are six packed BCD digits: equal bytes, equal numbers.
	if resp.Has(11) && !bytes.Equal(resp.Raw(11), st.req.Raw(11)) {
		s0, _ := st.req.STAN()
		s1, _ := resp.STAN()
		return "", fmt.Errorf("%w: STAN %d answers %d", ErrAnswer, s1, s0)
	}
	if p.macd && resp.Has(64) {
		key, err := st.macKey()
		if err != nil {
			return "", fmt.Errorf("%w: answer MAC: %v", ErrAnswer, err)
		}
		if want := key.Sum(resp.MAB()); !mac.Equal(want[:], resp.Raw(64)) {
			return "", fmt.Errorf("%w: answer MAC", ErrAnswer)
		}
	}
	rc := rcOf(resp.Bytes(39))
	switch {
	case rc == rcApproved:
		if err := p.settle(&st.req, resp); err != nil {
			return rc, err
		}
	case rc == "12" && p.kind == KindWallet:
		p.skipCounter()
	}
	return rc, nil
}

// macKey is the session MAK with its cipher schedule, made again only
// when a sign-in brought another MAK: deriving the DES (or 3DES) key
// schedule for every request and answer was a large share of a
// terminal's own CPU.
func (st *simTerm) macKey() (*mac.Key, error) {
	if err := st.mak.ResetMAK(st.term.MAK); err != nil { // no-op for the same MAK
		return nil, err
	}
	return &st.mak, nil
}

const rcApproved = "00"

// rcOf avoids a string allocation for the answer nearly every request gets.
func rcOf(b []byte) string {
	if len(b) == 2 && b[0] == '0' && b[1] == '0' {
		return rcApproved
	}
	return string(b)
}
