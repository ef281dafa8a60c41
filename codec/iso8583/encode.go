package iso8583

import (
	"encoding/binary"
	"math/bits"

	"ecardgw/codec/frame"
	"ecardgw/codec/mac"
)

// Append appends m's body (MTI to the end) to dst. Field 64 is written as
// stored; no MAC is computed. On error dst is returned unchanged.
func Append(dst []byte, m *Message) ([]byte, error) {
	out, err := m.appendBody(dst, m.bitmap, 64)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendFrame appends a whole frame: LEN, m.Header, and the body. When mak
// is not nil, bit 64 is set in the frame (m itself is not changed), the
// MAC of the MAB is computed under the session MAK mak and written as
// field 64: the UnionPay ECB MAC for an 8-byte (single DES) MAK, ANSI
// X9.19 for a 16-byte one (mac.Key.ResetMAK). On error dst is returned
// unchanged.
func AppendFrame(dst []byte, m *Message, mak []byte) ([]byte, error) {
	if mak == nil {
		return m.appendFrame(dst, false)
	}
	if err := m.macKey.ResetMAK(mak); err != nil {
		return dst, err
	}
	return m.appendFrame(dst, true)
}

// AppendFrameKey is AppendFrame with the MAC key already prepared (a
// session's, by mac.NewMAK), so no cipher schedule is built per frame;
// field 64 is key.Sum of the MAB. key nil: no MAC.
func AppendFrameKey(dst []byte, m *Message, key *mac.Key) ([]byte, error) {
	if key == nil {
		return m.appendFrame(dst, false)
	}
	m.macKey.CopyFrom(key)
	return m.appendFrame(dst, true)
}

func (m *Message) appendFrame(dst []byte, withMAC bool) ([]byte, error) {
	out, start := frame.Begin(dst, m.Header)
	var err error
	if !withMAC {
		out, err = m.appendBody(out, m.bitmap, 64)
	} else {
		body := len(out)
		out, err = m.appendBody(out, m.bitmap|bit(64), 63)
		if err == nil {
			sum := m.macKey.Sum(out[body:])
			out = append(out, sum[:]...)
		}
	}
	if err == nil {
		err = frame.Finish(out, start)
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// appendBody writes MTI, bitmap bm, and the fields of bm up to last.
func (m *Message) appendBody(dst []byte, bm uint64, last int) ([]byte, error) {
	if m.MTI > 9999 {
		return dst, fieldErr(0, 0, ErrTooLong)
	}
	dst = appendBCD4(dst, int(m.MTI))
	dst = binary.BigEndian.AppendUint64(dst, bm)
	for rem := bm; rem != 0; {
		f := bits.LeadingZeros64(rem) + 1
		rem &^= bit(f)
		if f > last {
			break
		}
		sp := &profile[f]
		v := m.val[f]
		n := len(v)
		if sp.typ == typeN {
			n = int(m.digits[f])
		}
		switch sp.lk {
		case lenLL:
			dst = append(dst, byte(n/10)<<4|byte(n%10))
		case lenLLL:
			dst = appendBCD4(dst, n)
		}
		dst = append(dst, v...)
	}
	return dst, nil
}
