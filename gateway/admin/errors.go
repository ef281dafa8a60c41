package admin

import "errors"

var (
	// ErrStarted means Start was called twice.
	ErrStarted = errors.New("admin: server already started")
	// ErrStatus means /status did not answer 200 (FetchStatus).
	ErrStatus = errors.New("admin: status unavailable")
)
