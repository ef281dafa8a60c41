package reader

import "errors"

var (
	// ErrConfig: a binding with a bad pattern or role, or no OnCard.
	ErrConfig = errors.New("reader: invalid configuration")
	// ErrRunning: Run called twice.
	ErrRunning = errors.New("reader: manager already running")
	// ErrNoPCSCD: the PC/SC daemon does not answer (Probe).
	ErrNoPCSCD = errors.New("pcscd is not running: start it with `sudo systemctl start pcscd` (package pcscd)")
)
