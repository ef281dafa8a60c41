package store

import "errors"

// Sentinel errors. Errors returned by the store wrap these so that
// errors.Is works; none of them carries a card number, key or value.
var (
	// ErrClosed is returned by Update and View after Close.
	ErrClosed = errors.New("store: closed")
	// ErrCommitUncertain is returned by Update when a commit failed after
	// its writes may have become visible (bbolt's meta page written, its
	// fsync failed): whether they are on disk is unknown until the file is
	// opened again. The store takes no more writes (every later Update
	// returns it too); the process must stop answering and restart.
	ErrCommitUncertain = errors.New("store: a commit failed after it may have reached the file; restart to learn what is on disk")
	// ErrReadOnly is returned by Update on a store opened ReadOnly.
	ErrReadOnly = errors.New("store: opened read-only")
	// ErrNewerSchema means the file was written by a newer gateway.
	ErrNewerSchema = errors.New("store: file has a newer schema version than this gateway understands")
	// ErrCorrupt means bbolt cannot open or validate the file.
	ErrCorrupt = errors.New("store: file is not a valid store (corrupt or not a bbolt file)")
	// ErrOlderSchema means the file was written by a pre-release layout
	// that this gateway cannot read.
	ErrOlderSchema = errors.New("store: file has an older, unsupported schema")
	// ErrLocked means another process holds the file open.
	ErrLocked = errors.New("store: file is locked by another process")
	// ErrCorruptValue means a stored value cannot be decoded.
	ErrCorruptValue = errors.New("store: corrupt stored value")
	// ErrNoStorageKey means a session was stored or read without a storage key.
	ErrNoStorageKey = errors.New("store: no storage key configured for sealing sessions")
	// ErrBadStorageKey means the storage key is not 32 bytes.
	ErrBadStorageKey = errors.New("store: storage key must be 32 bytes")
	// ErrSealed means a sealed session cannot be opened with this storage key.
	ErrSealed = errors.New("store: sealed session cannot be opened (wrong storage key or tampered)")
	// ErrTooLong means a string or byte field is too long to store.
	ErrTooLong = errors.New("store: field too long")
	// ErrBadKey means an identifier cannot be encoded as a key
	// (terminal id empty, longer than 16 bytes or containing NUL; account 0).
	ErrBadKey = errors.New("store: invalid key")
	// ErrBadValue means a value to store is invalid (unknown status...).
	ErrBadValue = errors.New("store: invalid value")
	// ErrCardInUse means PutAccount would give a card number to a second account.
	ErrCardInUse = errors.New("store: card number belongs to another account")
)
