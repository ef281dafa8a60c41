// Package issuer is the issuing side of campus codes: issuer key pairs,
// user certificates, and a Device that shows codes with its counter. Tests,
// the POS simulator, the `ecardgw code` commands and integrators of the app
// use it; the gateway itself never does (it holds public keys only, see
// package campuscode).
//
// It is not a production key store: keys live in plain files, readable by
// whoever can read the file. Write them with mode 0600 (Save does) and keep
// issuer keys off the gateway box.
//
// # File format
//
// Key and device files are UTF-8 text, one "name: value" per line; blank
// lines and lines starting with '#' are ignored; binary values are lower
// case hex; files are written with mode 0600 by writing a temporary file
// and renaming it, so a crash never leaves half a file (the device counter
// is rewritten after every code).
//
// Issuer key:
//
//	kind: issuer-key
//	alg: ed25519            (or sm2)
//	key-id: 1               (decimal; the id the gateway's key ring uses)
//	private: <hex>          (Ed25519: 32-byte seed; SM2: 32-byte scalar d)
//	public: <hex>           (Ed25519: 32 bytes; SM2: 33-byte compressed point)
//
// Device (user key + certificate):
//
//	kind: device
//	alg: ed25519
//	account: 20230001       (decimal)
//	private: <hex>          (the user's private key, as above)
//	cert: <hex>             (certificate bytes [0, 87+L) of the payload)
//	counter: 0              (decimal; counter of the last code shown)
package issuer
