package iso8583

// F60 is field 60: 60.1 message type (n2), 60.2 batch number (n6), 60.3
// network management code (n3). Terminals send the leading subfields
// only, so Len is the digit count present: 2, 8 or 11.
type F60 struct {
	MsgType uint8
	Batch   uint32
	Network uint16
	Len     int
}

// F60 splits field 60.
func (m *Message) F60() (F60, error) {
	if !m.Has(60) {
		return F60{}, fieldErr(60, 0, ErrAbsent)
	}
	v, nd := m.val[60], int(m.digits[60])
	if nd != 2 && nd != 8 && nd != 11 {
		return F60{}, fieldErr(60, 0, ErrSubfield)
	}
	r := F60{Len: nd}
	r.MsgType = uint8(digitsRange(v, nd, 0, 2))
	if nd >= 8 {
		r.Batch = uint32(digitsRange(v, nd, 2, 8))
	}
	if nd == 11 {
		r.Network = uint16(digitsRange(v, nd, 8, 11))
	}
	return r, nil
}

// SetF60 writes field 60 with v.Len digits (0 means all 11). A non-zero
// subfield beyond Len is ErrSubfield rather than silently dropped.
func (m *Message) SetF60(v F60) error {
	nd := v.Len
	if nd == 0 {
		nd = 11
	}
	if nd != 2 && nd != 8 && nd != 11 {
		return fieldErr(60, 0, ErrSubfield)
	}
	if v.MsgType > 99 || v.Batch > 999999 || v.Network > 999 {
		return fieldErr(60, 0, ErrTooLong)
	}
	if (nd < 11 && v.Network != 0) || (nd < 8 && v.Batch != 0) {
		return fieldErr(60, 0, ErrSubfield)
	}
	var d [11]byte
	putDigits(d[0:2], uint64(v.MsgType))
	putDigits(d[2:8], uint64(v.Batch))
	putDigits(d[8:11], uint64(v.Network))
	return setValue(m, 60, d[:nd])
}

// F61 is field 61: the original transaction of a refund. Date is MMDD and
// 0 when the terminal sent only batch and STAN (12 digits).
type F61 struct {
	Batch, STAN uint32
	Date        uint16
}

// F61 splits field 61 (16 digits, or 12 without the date).
func (m *Message) F61() (F61, error) {
	if !m.Has(61) {
		return F61{}, fieldErr(61, 0, ErrAbsent)
	}
	v, nd := m.val[61], int(m.digits[61])
	if nd != 12 && nd != 16 {
		return F61{}, fieldErr(61, 0, ErrSubfield)
	}
	r := F61{
		Batch: uint32(digitsRange(v, nd, 0, 6)),
		STAN:  uint32(digitsRange(v, nd, 6, 12)),
	}
	if nd == 16 {
		r.Date = uint16(digitsRange(v, nd, 12, 16))
	}
	return r, nil
}

// SetF61 writes field 61 with all 16 digits.
func (m *Message) SetF61(v F61) error {
	if v.Batch > 999999 || v.STAN > 999999 || v.Date > 9999 {
		return fieldErr(61, 0, ErrTooLong)
	}
	var d [16]byte
	putDigits(d[0:6], uint64(v.Batch))
	putDigits(d[6:12], uint64(v.STAN))
	putDigits(d[12:16], uint64(v.Date))
	return setValue(m, 61, d[:])
}

// digitsRange is the number formed by digits [from, to) of a variable
// (left-aligned) n value.
func digitsRange(v []byte, nd, from, to int) uint64 {
	var x uint64
	for i := from; i < to; i++ {
		x = x*10 + uint64(digitAt(v, nd, i, true))
	}
	return x
}

// putDigits writes x into dst as zero-filled ASCII digits; x must fit.
func putDigits(dst []byte, x uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = '0' + byte(x%10)
		x /= 10
	}
}
