package logging

import "errors"

// Errors returned by New and ParseLevel; the value is wrapped with the
// offending configuration text (never secret).
var (
	// ErrFormat means the log format is neither "text" nor "json".
	ErrFormat = errors.New("logging: unknown format")
	// ErrLevel means the level is not debug, info, warn or error.
	ErrLevel = errors.New("logging: unknown level")
)
