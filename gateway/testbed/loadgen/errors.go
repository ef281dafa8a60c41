package loadgen

import "errors"

var (
	// ErrNotLoopback: Addr is not a loopback address; load is only ever
	// aimed at this machine.
	ErrNotLoopback = errors.New("loadgen: address is not loopback")
	// ErrConfig wraps an invalid Config.
	ErrConfig = errors.New("loadgen: invalid config")
	// ErrFrame: an answer's LEN is above Config.MaxFrame.
	ErrFrame = errors.New("loadgen: answer frame too large")
	// ErrEmptyRequest: Config.Next appended nothing (it could not build
	// the request); that connection stops.
	ErrEmptyRequest = errors.New("loadgen: Next built no request")
	// ErrNoConnection: no connection could be set up at all.
	ErrNoConnection = errors.New("loadgen: no connection established")
)
