package campuscard

import "errors"

var (
	// ErrLength: the card answered with a length the file layout does not
	// have.
	ErrLength = errors.New("campuscard: answer of unexpected length")
	// ErrFormat: a field the specification fixes (BCD digits, dates) is
	// malformed.
	ErrFormat = errors.New("campuscard: malformed card data")
	// ErrAmount: a load amount outside 1..2^32-1 fen.
	ErrAmount = errors.New("campuscard: load amount out of range")
	// ErrLoadIncomplete is wrapped by every failure of a load after
	// INITIALIZE FOR LOAD succeeded and the load was authorised: the
	// account may have been debited, so the caller must reverse unless it
	// can prove the card was credited.
	ErrLoadIncomplete = errors.New("campuscard: load not completed on the card")
)
