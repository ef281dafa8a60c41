package reader

import "errors"

var (
	// ErrConfig: a binding with a bad pattern or role, or no OnCard.
	ErrConfig = errors.New("reader: invalid configuration")
	// ErrRunning: Run called twice.
	ErrRunning = errors.New("reader: manager already running")
)
