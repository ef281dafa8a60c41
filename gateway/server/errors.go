package server

import "errors"

var (
	// ErrNilHandler is returned by New without a Handler.
	ErrNilHandler = errors.New("server: nil handler")
	// ErrOptions wraps an invalid Options value.
	ErrOptions = errors.New("server: invalid options")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server: already started")
	// ErrNotStarted is returned by operations that need a running server.
	ErrNotStarted = errors.New("server: not started")
	// ErrClosed is returned by Start or Shutdown once Shutdown has run.
	ErrClosed = errors.New("server: closed")
)
