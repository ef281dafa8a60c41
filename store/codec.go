package store

import (
	"encoding/binary"
	"math"
	"time"
)

// The value encoding: a version byte, then fields in a fixed order.
// Integers are big-endian fixed width; strings and byte slices carry a u16
// length. A decoder is a cursor that records the first error and returns
// zero values afterwards, so decode functions read straight through and
// check once at the end (no panic on any input).

const maxField = math.MaxUint16

// zeroTime encodes time.Time{} (whose UnixNano is not meaningful).
const zeroTime = math.MinInt64

type enc struct {
	b   []byte
	err error
}

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *enc) i64(v int64)  { e.u64(uint64(v)) }

func (e *enc) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

func (e *enc) str(s string) {
	if len(s) > maxField {
		e.err = ErrTooLong
		return
	}
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *enc) bytes(v []byte) {
	if len(v) > maxField {
		e.err = ErrTooLong
		return
	}
	e.u16(uint16(len(v)))
	e.b = append(e.b, v...)
}

func (e *enc) time(t time.Time) {
	if t.IsZero() {
		e.i64(zeroTime)
		return
	}
	e.i64(t.UnixNano())
}

type dec struct {
	b   []byte
	off int
	bad bool
}

func (d *dec) take(n int) []byte {
	if d.bad || n > len(d.b)-d.off {
		d.bad = true
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *dec) u8() uint8 {
	v := d.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *dec) u16() uint16 {
	v := d.take(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (d *dec) u32() uint32 {
	v := d.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (d *dec) u64() uint64 {
	v := d.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (d *dec) i64() int64 { return int64(d.u64()) }

// bool accepts only 0 and 1 so that a decoded value re-encodes to the
// same bytes.
func (d *dec) bool() bool {
	v := d.u8()
	if v > 1 {
		d.bad = true
	}
	return v == 1
}

func (d *dec) str() string {
	n := int(d.u16())
	return string(d.take(n))
}

// bytes copies: bbolt memory is only valid inside the transaction.
func (d *dec) bytes() []byte {
	n := int(d.u16())
	v := d.take(n)
	if v == nil || n == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *dec) time() time.Time {
	n := d.i64()
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// version checks the leading version byte.
func (d *dec) version(want uint8) {
	if d.u8() != want {
		d.bad = true
	}
}

// done reports ErrCorruptValue for a short read or trailing bytes.
func (d *dec) done() error {
	if d.bad || d.off != len(d.b) {
		return ErrCorruptValue
	}
	return nil
}

func u64key(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }
