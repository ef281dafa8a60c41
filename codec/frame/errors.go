package frame

import (
	"errors"
	"strconv"
)

// Sentinel errors; the functions return them wrapped in *Error so the
// offending length is available to metrics without carrying any frame bytes.
var (
	// ErrTooLarge: LEN announces more bytes than the configured maximum, or
	// an appended frame does not fit in LEN's 16 bits.
	ErrTooLarge = errors.New("frame: too large")
	// ErrTooShort: LEN announces fewer bytes than TPDU and header need, or
	// the buffer holds fewer bytes than the frame needs.
	ErrTooShort = errors.New("frame: too short")
	// ErrLength: a frame handed to Split is not exactly as long as its LEN says.
	ErrLength = errors.New("frame: length does not match LEN")
)

// Error reports a length problem. Len is the length LEN announced (or the
// length found), never any of the content.
type Error struct {
	Len int
	Err error
}

func (e *Error) Error() string {
	return e.Err.Error() + " (length " + strconv.Itoa(e.Len) + ")"
}

func (e *Error) Unwrap() error { return e.Err }
