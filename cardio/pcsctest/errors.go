package pcsctest

import "errors"

var (
	// ErrNotOwned: restarting a pcscd this process did not start.
	ErrNotOwned = errors.New("pcsctest: pcscd was not started by this test binary")
	// ErrNotReady: pcscd did not offer the vpcd readers in time.
	ErrNotReady = errors.New("pcsctest: pcscd readers not ready")
	// ErrLocked: another test binary kept the vpcd slots too long.
	ErrLocked = errors.New("pcsctest: timed out waiting for the vpcd lock")
)
