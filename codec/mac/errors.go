package mac

import "errors"

var (
	// ErrKeySize: a key is not 8 (DES), 16 or 24 (3DES) bytes, or a KEK is
	// not 16 bytes.
	ErrKeySize = errors.New("mac: bad key length")
	// ErrBlockSize: data to wrap or unwrap is empty or not a whole number of
	// 8-byte blocks.
	ErrBlockSize = errors.New("mac: data is not whole DES blocks")
)
