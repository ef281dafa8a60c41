package apdu

// Response is a parsed response APDU. Data aliases the parsed buffer.
type Response struct {
	Data []byte
	SW   uint16
}

// SW1 returns the first status byte.
func (r Response) SW1() byte { return byte(r.SW >> 8) }

// SW2 returns the second status byte.
func (r Response) SW2() byte { return byte(r.SW) }

// ParseResponse splits a response APDU into data and status word. It
// rejects responses without a status word and status words whose SW1 is
// not in the 6x or 9x range, which ISO 7816-4 reserves: such bytes come
// from a broken transport, not from a card.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, ErrShortResponse
	}
	n := len(b) - 2
	sw1 := b[n]
	if sw1&0xF0 != 0x60 && sw1&0xF0 != 0x90 {
		return Response{}, ErrBadStatus
	}
	return Response{Data: b[:n:n], SW: uint16(sw1)<<8 | uint16(b[n+1])}, nil
}

// AppendResponse appends data and the status word; the virtual card uses it.
func AppendResponse(dst, data []byte, sw uint16) []byte {
	dst = append(dst, data...)
	return append(dst, byte(sw>>8), byte(sw))
}
