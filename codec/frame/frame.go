package frame

import "encoding/binary"

// Sizes of the parts before the ISO 8583 body.
const (
	LenSize    = 2
	TPDUSize   = 5
	HeaderSize = 6
	// DefaultMax is the default limit on the bytes after LEN.
	DefaultMax = 2048
)

// minLen is the fewest bytes after LEN a frame may have: without the TPDU
// and header no answer can even be addressed, so such a frame only earns a
// closed connection.
const minLen = TPDUSize + HeaderSize

// Next reports the size of the first complete frame in buf, LEN included.
// n == 0 with a nil error means more bytes are needed. The length is judged
// as soon as LEN is readable, so an oversized frame is refused before its
// bytes are waited for. max <= 0 means DefaultMax.
func Next(buf []byte, max int) (n int, err error) {
	if len(buf) < LenSize {
		return 0, nil
	}
	if max <= 0 {
		max = DefaultMax
	}
	l := int(binary.BigEndian.Uint16(buf))
	if l > max {
		return 0, &Error{Len: l, Err: ErrTooLarge}
	}
	if l < minLen {
		return 0, &Error{Len: l, Err: ErrTooShort}
	}
	if len(buf) < LenSize+l {
		return 0, nil
	}
	return LenSize + l, nil
}

// Split divides a complete frame (LEN included) into its header and body
// (MTI to the end). The body aliases frame.
func Split(frame []byte) (Header, []byte, error) {
	var h Header
	if len(frame) < LenSize+minLen {
		return h, nil, &Error{Len: len(frame), Err: ErrTooShort}
	}
	l := int(binary.BigEndian.Uint16(frame))
	if l != len(frame)-LenSize {
		return h, nil, &Error{Len: l, Err: ErrLength}
	}
	copy(h.TPDU[:], frame[LenSize:])
	copy(h.Head[:], frame[LenSize+TPDUSize:])
	return h, frame[LenSize+minLen:], nil
}

// Begin appends a LEN placeholder and the header to dst. start is where the
// frame begins; pass it to Finish once the body has been appended.
func Begin(dst []byte, h Header) (out []byte, start int) {
	start = len(dst)
	dst = append(dst, 0, 0)
	dst = append(dst, h.TPDU[:]...)
	dst = append(dst, h.Head[:]...)
	return dst, start
}

// Finish writes LEN for the frame that Begin started at start.
func Finish(dst []byte, start int) error {
	if start < 0 || len(dst)-start < LenSize+minLen {
		return &Error{Len: len(dst) - start, Err: ErrTooShort}
	}
	l := len(dst) - start - LenSize
	if l > 0xFFFF {
		return &Error{Len: l, Err: ErrTooLarge}
	}
	binary.BigEndian.PutUint16(dst[start:], uint16(l))
	return nil
}
