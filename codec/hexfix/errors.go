package hexfix

import "errors"

var (
	// ErrBadDigit: a character outside comments is neither a hex digit nor
	// whitespace.
	ErrBadDigit = errors.New("hexfix: not a hex digit")
	// ErrOddDigits: the hex digits do not pair up into whole bytes.
	ErrOddDigits = errors.New("hexfix: odd number of hex digits")
)
