package centre

import "errors"

// Sentinel errors. Errors returned by the client wrap one of these; none
// carries a card number, a key or a request body.
var (
	// ErrUnreachable means the outcome of a call is unknown: network
	// error, timeout, a 5xx answer or an answer that is not the expected
	// JSON. Connected mode stands in (authorization) or answers 91.
	ErrUnreachable = errors.New("centre: unreachable")
	// ErrRejected means the centre understood the request and refused it
	// (4xx): retrying the same request will not help.
	ErrRejected = errors.New("centre: request rejected")
	// ErrBadAnswer means the centre answered something that is not the
	// expected JSON; it always comes together with ErrUnreachable.
	ErrBadAnswer = errors.New("centre: malformed answer")
	// ErrBadOptions means New was given an unusable URL or TLS files.
	ErrBadOptions = errors.New("centre: bad client options")
	// ErrBadKey means an idempotency key's text form cannot be parsed.
	ErrBadKey = errors.New("centre: bad idempotency key")
)
