package txn

import "errors"

// The package's sentinel errors.
var (
	// ErrCentreUnreachable is what a Centre returns when the centre did
	// not answer in time (network, timeout, 5xx): the engine stands in.
	ErrCentreUnreachable = errors.New("txn: card centre unreachable")

	// ErrPayUnreachable is returned by a Payments implementation that
	// cannot reach the centre or payment service.
	ErrPayUnreachable = errors.New("txn: payment service unreachable")

	// ErrNoStore is returned by New without a store.
	ErrNoStore = errors.New("txn: no store")

	// errNoMACKey: a financial answer must carry a MAC, and the session's
	// MAK cannot make one.
	errNoMACKey = errors.New("txn: the session has no usable MAC key")

	// errExtraRecords: a request journals at most one record besides its
	// own, the one whose key is the request's store.IdemKey.Derived().
	errExtraRecords = errors.New("txn: more than one further journal record for one request")
)
