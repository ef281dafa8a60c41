package iso8583

// Uint is the number in n field f (at most 19 digits).
func (m *Message) Uint(f int) (uint64, error) {
	sp := specOf(f)
	switch {
	case sp == nil:
		return 0, fieldErr(f, 0, ErrNotInProfile)
	case sp.typ != typeN:
		return 0, fieldErr(f, 0, ErrType)
	case !m.Has(f):
		return 0, fieldErr(f, 0, ErrAbsent)
	}
	nd := int(m.digits[f])
	if nd > 19 {
		return 0, fieldErr(f, 0, ErrTooLong)
	}
	return digitsValue(m.val[f], nd, sp.leftPadded()), nil
}

// AppendDigits appends n field f as ASCII digits (pad nibble dropped);
// dst comes back unchanged when the field is absent or not n.
func (m *Message) AppendDigits(dst []byte, f int) []byte {
	sp := specOf(f)
	if sp == nil || sp.typ != typeN || !m.Has(f) {
		return dst
	}
	v, nd, left := m.val[f], int(m.digits[f]), sp.leftPadded()
	for i := 0; i < nd; i++ {
		dst = append(dst, '0'+digitAt(v, nd, i, left))
	}
	return dst
}

// Digits is AppendDigits as a string; it allocates, so keep it off the
// hot path.
func (m *Message) Digits(f int) string {
	var buf [32]byte
	return string(m.AppendDigits(buf[:0], f))
}

// ProcCode is the processing code (field 3), e.g. 310000.
func (m *Message) ProcCode() (uint32, error) {
	v, err := m.Uint(3)
	return uint32(v), err
}

// STAN is the trace number (field 11).
func (m *Message) STAN() (uint32, error) {
	v, err := m.Uint(11)
	return uint32(v), err
}

// Amount is field 4 in fen. Twelve digits always fit an int64.
func (m *Message) Amount() (int64, error) {
	v, err := m.Uint(4)
	return int64(v), err
}

// TerminalID is field 41 (alias), nil when absent.
func (m *Message) TerminalID() []byte { return m.Bytes(41) }

// MerchantID is field 42 (alias), nil when absent.
func (m *Message) MerchantID() []byte { return m.Bytes(42) }
