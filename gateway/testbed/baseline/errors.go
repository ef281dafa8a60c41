package baseline

import "errors"

// ErrStopped is returned by Start when the engine stopped before it was
// ready to accept connections.
var ErrStopped = errors.New("baseline: engine stopped before it was ready")
