package vcard

import "errors"

var (
	// ErrInserted: Insert on a card that is already in a reader.
	ErrInserted = errors.New("vcard: card already inserted")
	// ErrInsufficient: Spend of more than the wallet holds.
	ErrInsufficient = errors.New("vcard: insufficient wallet balance")
	// ErrAmount: a non-positive or oversized amount.
	ErrAmount = errors.New("vcard: amount out of range")
	// ErrConfig: a configuration the card cannot run with.
	ErrConfig = errors.New("vcard: invalid configuration")
	// ErrFrame: a vpcd frame that breaks the protocol.
	ErrFrame = errors.New("vcard: malformed vpcd frame")
)
