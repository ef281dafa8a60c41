// Package centre is the gateway's HTTP/JSON client for the card centre
// (connected mode): online authorization, third-party payments (it
// implements txn.Payments), replica sync (account snapshot and blacklist
// deltas) and record delivery for the forwarder.
//
// It also defines the wire format (the JSON types in wire.go), which the
// reference centre (gateway/testbed/refcentre) serves, and the idempotency key's
// text form "TERMINAL:BATCH:STAN:MTI". docs/centre-api.md describes the
// interface for people implementing a centre.
//
// Errors tell the caller whether to stand in: anything that leaves the
// outcome unknown (network error, timeout, 5xx, an answer that cannot be
// parsed) wraps ErrUnreachable; a centre that understood the request and
// refused it (4xx) wraps ErrRejected. A business decline is not an error:
// it is an AuthResult with a response code other than "00".
//
// It is not the decision maker (gateway/txn decides when to stand in) and
// it keeps no state besides its HTTP connection pool; it never logs.
package centre
