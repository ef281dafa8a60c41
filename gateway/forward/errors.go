package forward

import "errors"

// Sentinel errors. None carries a card number or a record.
var (
	// ErrSink wraps a failed delivery attempt: the forwarder backs off and
	// tries again.
	ErrSink = errors.New("forward: sink failed")
	// ErrPermanent is wrapped by a sink error that refuses the whole
	// batch for good (a 4xx from the centre): the forwarder then sends
	// records one by one to find the one to move aside.
	ErrPermanent = errors.New("forward: sink refused the batch for good")
	// ErrBadOptions means New, NewNATSSink or NewSharedReplay got an
	// unusable configuration.
	ErrBadOptions = errors.New("forward: bad options")
)
