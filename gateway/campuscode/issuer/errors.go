package issuer

import "errors"

var (
	// ErrAlgorithm: the algorithm is not Ed25519 or SM2.
	ErrAlgorithm = errors.New("issuer: unknown algorithm")
	// ErrKey: a private or public key has the wrong length or is not valid.
	ErrKey = errors.New("issuer: invalid key")
	// ErrValidity: certificate times are out of range or reversed.
	ErrValidity = errors.New("issuer: invalid certificate validity")
	// ErrFile: a key or device file is malformed.
	ErrFile = errors.New("issuer: malformed key file")
	// ErrCert: a device's certificate does not match its key.
	ErrCert = errors.New("issuer: invalid certificate")
)
