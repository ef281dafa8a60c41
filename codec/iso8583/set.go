package iso8583

import "strconv"

// SetUint sets n field f to v, zero-filled to the field's length when
// fixed, in as few digits as v needs when variable.
func (m *Message) SetUint(f int, v uint64) error {
	sp := specOf(f)
	if sp == nil {
		return fieldErr(f, 0, ErrNotInProfile)
	}
	if sp.typ != typeN {
		return fieldErr(f, 0, ErrType)
	}
	var buf [20]byte
	d := strconv.AppendUint(buf[:0], v, 10)
	if sp.lk == lenFixed && len(d) < sp.max {
		var z [20]byte
		pad := sp.max - len(d)
		for i := range pad {
			z[i] = '0'
		}
		copy(z[pad:], d)
		d = z[:sp.max]
	}
	return setValue(m, f, d)
}

// SetDigits sets n field f from ASCII digits. A fixed field takes exactly
// its length; a variable one up to its maximum.
func (m *Message) SetDigits(f int, digits []byte) error {
	sp := specOf(f)
	if sp == nil {
		return fieldErr(f, 0, ErrNotInProfile)
	}
	if sp.typ != typeN {
		return fieldErr(f, 0, ErrType)
	}
	return setValue(m, f, digits)
}

// SetBytes sets field f, copying v into m's arena. an/ans values must be
// printable ASCII; n fields take ASCII digits as SetDigits does. A fixed
// field takes exactly its length; a variable one up to its maximum.
func (m *Message) SetBytes(f int, v []byte) error { return setValue(m, f, v) }

// SetString is SetBytes for a string, without converting it.
func (m *Message) SetString(f int, s string) error { return setValue(m, f, s) }

func setValue[S ~string | ~[]byte](m *Message, f int, v S) error {
	sp := specOf(f)
	if sp == nil {
		return fieldErr(f, 0, ErrNotInProfile)
	}
	n := len(v)
	switch {
	case n > sp.max:
		return fieldErr(f, 0, ErrTooLong)
	case sp.lk == lenFixed && n < sp.max:
		return fieldErr(f, 0, ErrShort)
	}
	switch sp.typ {
	case typeN:
		if i := allDigits(v); i >= 0 {
			return fieldErr(f, i, ErrBadCharset)
		}
		dst := m.alloc(sp.wireSize(n))
		packDigits(dst, v, sp.leftPadded())
		m.put(f, dst, n)
		return nil
	case typeAN, typeANS:
		if i := allPrintable(v); i >= 0 {
			return fieldErr(f, i, ErrBadCharset)
		}
	}
	dst := m.alloc(n)
	copy(dst, v)
	m.put(f, dst, 0)
	return nil
}
