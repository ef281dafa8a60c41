package config

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can branch with errors.Is without parsing messages.
var (
	// ErrInvalid: a configuration value is malformed or out of range.
	ErrInvalid = errors.New("invalid configuration")
	// ErrUnknownKey: the configuration file has a key this version does not
	// know, usually a typo that would otherwise be silently ignored.
	ErrUnknownKey = errors.New("unknown configuration key")
	// ErrRead: the configuration file could not be read or is not YAML.
	ErrRead = errors.New("cannot read configuration")
	// ErrKeyFileMode: the key file is readable or writable by group or others.
	ErrKeyFileMode = errors.New("key file permissions too open")
	// ErrKeyFile: the key file is missing, not YAML, or has a malformed entry.
	ErrKeyFile = errors.New("invalid key file")
	// ErrMissingKey: a configured terminal has no TMK in the key file.
	ErrMissingKey = errors.New("terminal key missing")
)

// Error describes one problem with one configuration key. Key is the dotted
// path as written in the file (listen.pos, terminals[2].id).
type Error struct {
	Key     string
	Problem string
	Err     error // one of the sentinels above
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Problem) }

func (e *Error) Unwrap() error { return e.Err }

// KeyError describes one problem with the key file. Entry names the entry
// (terminals.T0000001, storage_key); Problem never contains key material.
type KeyError struct {
	Entry   string
	Problem string
	Err     error
}

func (e *KeyError) Error() string {
	if e.Entry == "" {
		return "keys: " + e.Problem
	}
	return fmt.Sprintf("keys: %s: %s", e.Entry, e.Problem)
}

func (e *KeyError) Unwrap() error { return e.Err }
