package refcentre

import "errors"

// Sentinel errors. None carries a card number.
var (
	// ErrBadRequest means a request is malformed (answered 400).
	ErrBadRequest = errors.New("refcentre: bad request")
	// ErrUnknownAccount means no account has that number or card.
	ErrUnknownAccount = errors.New("refcentre: unknown account")
	// ErrConflict means a trade number is reused for a different payment
	// (answered 409).
	ErrConflict = errors.New("refcentre: conflicting request")
	// ErrCorrupt means a stored value cannot be decoded.
	ErrCorrupt = errors.New("refcentre: corrupt ledger value")
)
