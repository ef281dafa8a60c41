package posim

import "errors"

var (
	// ErrMix: a --mix value that does not parse or has no weight.
	ErrMix = errors.New("posim: invalid mix")
	// ErrNotLoopback: the gateway or listen address is not a loopback address.
	ErrNotLoopback = errors.New("posim: address is not loopback")
	// ErrLimit: terminals, duration or count out of the simulator's bounds.
	ErrLimit = errors.New("posim: out of bounds")
	// ErrFleet: the configuration, key file or accounts cannot drive the
	// requested mix (no cards, no settlement terminal, no issuer key...).
	ErrFleet = errors.New("posim: cannot build the fleet")
	// ErrAnswer: an answer that is not the answer to the request (wrong MTI
	// or STAN, bad MAC, undecodable).
	ErrAnswer = errors.New("posim: bad answer")
	// ErrOutput: an output file (--png) that cannot be written, found
	// before the run.
	ErrOutput = errors.New("posim: cannot write the output")
	// ErrNoTerminal: no terminal got through dial and sign-in.
	ErrNoTerminal = errors.New("posim: no terminal signed in")
)
