package txn

import (
	"bytes"
	"errors"
	"strconv"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// formatError answers a frame that did not decode: 30 when its header, MTI
// and STAN can be read, otherwise nil: the connection is closed (promise 5).
func (e *Engine) formatError(w *work, raw []byte, err error) []byte {
	e.obs.FrameError(decodeReason(err))
	hdr, body, serr := frame.Split(raw)
	if serr != nil {
		return nil
	}
	mti, stan, ok := iso8583.Peek(body)
	if !ok || !knownRequest(uint16(mti)) {
		return nil
	}
	r := &w.resp
	r.Reset()
	r.Header = hdr.Reply(procNone)
	r.MTI = mti + 10
	_ = r.SetUint(11, uint64(stan))
	_ = r.SetString(39, string(RCFormat))
	out, aerr := iso8583.AppendFrame(w.buf[:0], r, nil)
	if aerr != nil {
		return nil
	}
	w.buf = out
	e.obs.Request(uint16(mti), RCFormat, false, 0)
	w.note = decodeReason(err)
	e.report(w, uint16(mti), RCFormat, false)
	return bytes.Clone(out)
}

func knownRequest(mti uint16) bool {
	switch mti {
	case mti0100, mti0200, mti0220, mti0400, mti0500, mti0800, mti0820:
		return true
	}
	return false
}

// decodeReason maps a decode error to a bounded metrics label.
func decodeReason(err error) string {
	switch {
	case errors.Is(err, iso8583.ErrBitOne):
		return "bit_one"
	case errors.Is(err, iso8583.ErrNotInProfile):
		return "not_in_profile"
	case errors.Is(err, iso8583.ErrTooLong):
		return "field_too_long"
	case errors.Is(err, iso8583.ErrNotBCD):
		return "not_bcd"
	case errors.Is(err, iso8583.ErrShort):
		return "truncated"
	case errors.Is(err, iso8583.ErrTrailing):
		return "trailing"
	case errors.Is(err, iso8583.ErrBadCharset):
		return "bad_charset"
	case errors.Is(err, frame.ErrTooLarge):
		return "too_large"
	case errors.Is(err, frame.ErrTooShort):
		return "too_short"
	}
	return "other"
}

// plainAnswer answers with a response code and the request's identifying
// fields only (used before a session or MAC can be trusted). key != nil
// (a session's prepared MAK) adds a MAC.
func (e *Engine) plainAnswer(w *work, rc RC, key *mac.Key) []byte {
	return e.plainAnswerProc(w, rc, key, procNone)
}

func (e *Engine) plainAnswerProc(w *work, rc RC, key *mac.Key, proc byte) []byte {
	req, r := &w.req, &w.resp
	r.SetResponseFrom(req, 2, 3, 4, 11, 25, 41, 42, 49, 60)
	r.Header = req.Header.Reply(proc)
	e.stampTime(r)
	_ = r.SetString(39, string(rc))
	out, err := iso8583.AppendFrameKey(w.buf[:0], r, key)
	if err != nil {
		e.log.Error("encode answer", "err", err)
		return nil
	}
	w.buf = out
	return bytes.Clone(out)
}

// stampTime sets fields 12 and 13 to the gateway's local wire time.
func (e *Engine) stampTime(r *iso8583.Message) {
	t := e.now().In(e.zone)
	h, m, s := t.Clock()
	_ = r.SetUint(12, uint64(h*10000+m*100+s))
	_ = r.SetUint(13, uint64(int(t.Month())*100+t.Day()))
}

// appendRRN appends a retrieval reference number (field 37, an12).
func appendRRN(dst []byte, n uint64) []byte {
	n %= 1_000_000_000_000
	var buf [12]byte
	s := strconv.AppendUint(buf[:0], n, 10)
	for i := len(s); i < 12; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// encodeResp encodes w.resp (MACed under key unless key is nil) and
// returns a copy the caller owns.
func encodeResp(w *work, key *mac.Key) ([]byte, error) {
	out, err := iso8583.AppendFrameKey(w.buf[:0], &w.resp, key)
	if err != nil {
		return nil, err
	}
	w.buf = out
	return bytes.Clone(out), nil
}

// encodeRespKey is encodeResp under a session's prepared MAC key (an
// answer to a financial request always carries a MAC).
func encodeRespKey(w *work, key *mac.Key) ([]byte, error) {
	if key == nil {
		return nil, errNoMACKey
	}
	return encodeResp(w, key)
}
