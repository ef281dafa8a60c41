package iso8583

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"ecardgw/codec/frame"
)

const (
	mtiSize    = 2
	bitmapSize = 8
	bodyMin    = mtiSize + bitmapSize
)

// DecodeFrame decodes a whole frame (LEN included) into m: header, MTI and
// fields. Values alias frame. Length errors come from codec/frame;
// *FieldError offsets count from the start of frame.
func DecodeFrame(m *Message, buf []byte) error {
	h, body, err := frame.Split(buf)
	if err != nil {
		m.Reset()
		return err
	}
	m.Header = h
	err = Decode(m, body)
	if fe, ok := errors.AsType[*FieldError](err); ok {
		fe.Offset += frame.LenSize + frame.TPDUSize + frame.HeaderSize
	}
	return err
}

// Decode decodes body (MTI to the end) into m, leaving m.Header alone.
// Values alias body; nothing is allocated unless the body is malformed.
// On error m holds the fields decoded before the fault.
func Decode(m *Message, body []byte) error {
	m.clearFields()
	m.MTI = 0
	if len(body) < mtiSize {
		return fieldErr(0, 0, ErrShort)
	}
	hi, ok1 := bcdByte(body[0])
	lo, ok2 := bcdByte(body[1])
	if !ok1 || !ok2 {
		return fieldErr(0, 0, ErrNotBCD)
	}
	m.MTI = MTI(hi*100 + lo)
	if len(body) < bodyMin {
		return fieldErr(1, mtiSize, ErrShort)
	}
	bm := binary.BigEndian.Uint64(body[mtiSize:])
	if bm&bit(1) != 0 {
		return fieldErr(1, mtiSize, ErrBitOne)
	}
	if extra := bm &^ profileMask; extra != 0 {
		return fieldErr(bits.LeadingZeros64(extra)+1, mtiSize, ErrNotInProfile)
	}
	off, last := bodyMin, 1
	for rem := bm; rem != 0; {
		f := bits.LeadingZeros64(rem) + 1
		rem &^= bit(f)
		if f == 64 {
			m.mab = body[:off:off]
		}
		v, nd, next, err := readField(f, body, off)
		if err != nil {
			return fieldErr(f, off, err)
		}
		m.put(f, v, nd)
		off, last = next, f
	}
	if off != len(body) {
		return fieldErr(last, off, ErrTrailing)
	}
	return nil
}

// readField reads field f at off: its value (aliasing body), its count
// (digits for n fields), and the offset after it. Every slice is bounds
// checked first; errors are bare sentinels so Peek allocates nothing.
func readField(f int, body []byte, off int) (v []byte, nd, next int, err error) {
	sp := &profile[f]
	n := sp.max
	switch sp.lk {
	case lenLL:
		if off+1 > len(body) {
			return nil, 0, 0, ErrShort
		}
		var ok bool
		if n, ok = bcdByte(body[off]); !ok {
			return nil, 0, 0, ErrNotBCD
		}
		off++
	case lenLLL:
		if off+2 > len(body) {
			return nil, 0, 0, ErrShort
		}
		hi, ok1 := bcdByte(body[off])
		lo, ok2 := bcdByte(body[off+1])
		if !ok1 || !ok2 {
			return nil, 0, 0, ErrNotBCD
		}
		n = hi*100 + lo
		off += 2
	}
	if n > sp.max {
		return nil, 0, 0, ErrTooLong
	}
	size := sp.wireSize(n)
	if size > len(body)-off {
		return nil, 0, 0, ErrShort
	}
	end := off + size
	v = body[off:end:end]
	switch sp.typ {
	case typeN:
		if !validDigits(v, n, sp.leftPadded()) {
			return nil, 0, 0, ErrNotBCD
		}
		return v, n, end, nil
	case typeAN, typeANS:
		if allPrintable(v) >= 0 {
			return nil, 0, 0, ErrBadCharset
		}
	}
	return v, 0, end, nil
}

// Peek reads the MTI and, when it can be found without a full decode, the
// STAN (field 11), so that a frame failing Decode can still be answered
// 30 with the terminal's trace number. ok reports whether the MTI was
// readable. stan is 0 when it could not be read; real trace numbers run
// from 000001, so 0 is never a terminal's.
func Peek(body []byte) (mti MTI, stan uint32, ok bool) {
	if len(body) < mtiSize {
		return 0, 0, false
	}
	hi, ok1 := bcdByte(body[0])
	lo, ok2 := bcdByte(body[1])
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	mti = MTI(hi*100 + lo)
	if len(body) < bodyMin {
		return mti, 0, true
	}
	bm := binary.BigEndian.Uint64(body[mtiSize:])
	// Fields 1..10 other than 2, 3 and 4 would stand before 11 with a
	// layout the profile does not know.
	const before11 = 0xFFC0000000000000 // bits 1..10
	if bm&bit(11) == 0 || bm&before11&^(bit(2)|bit(3)|bit(4)) != 0 {
		return mti, 0, true
	}
	off := bodyMin
	for _, f := range [...]int{2, 3, 4, 11} {
		if bm&bit(f) == 0 {
			continue
		}
		v, nd, next, err := readField(f, body, off)
		if err != nil {
			return mti, 0, true
		}
		if f == 11 {
			return mti, uint32(digitsValue(v, nd, false)), true
		}
		off = next
	}
	return mti, 0, true
}

// digitsValue is the number a packed n value (≤ 19 digits) holds.
func digitsValue(v []byte, nd int, left bool) uint64 {
	var x uint64
	for i := 0; i < nd; i++ {
		x = x*10 + uint64(digitAt(v, nd, i, left))
	}
	return x
}
