package posim

import (
	"fmt"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// roundTrip sends st.req and returns the response code, or an error
// when no proper answer came.
func (st *simTerm) roundTrip(p *pending) (string, error) {
	req, err := st.encode(p)
	if err != nil {
		return "", err
	}
	ans, err := st.exchange(req)
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
	var mak []byte
	if p.macd {
		mak = st.term.MAK
	}
	req, err := iso8583.AppendFrame(st.wbuf[:0], &st.req, mak)
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
	if s0, _ := st.req.STAN(); resp.Has(11) {
		if s1, _ := resp.STAN(); s1 != s0 {
			return "", fmt.Errorf("%w: STAN %d answers %d", ErrAnswer, s1, s0)
		}
	}
	if p.macd && resp.Has(64) {
		var want [8]byte
		if len(st.term.MAK) == 8 {
			want = mac.ECB(st.term.MAK, resp.MAB()) // the common case, without a key schedule
		} else {
			var err error
			if want, err = mac.Sum(st.term.MAK, resp.MAB()); err != nil {
				return "", fmt.Errorf("%w: answer MAC: %v", ErrAnswer, err)
			}
		}
		if !mac.Equal(want[:], resp.Raw(64)) {
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

const rcApproved = "00"

// rcOf avoids a string allocation for the answer nearly every request gets.
func rcOf(b []byte) string {
	if len(b) == 2 && b[0] == '0' && b[1] == '0' {
		return rcApproved
	}
	return string(b)
}
