package campuscode

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"time"
)

// Defaults from campus-code.md. DefaultCacheSize is a suggestion for
// configuration (about 200 bytes an entry); Config does not apply it.
const (
	DefaultValidity  = 60 * time.Second
	DefaultSkew      = 30 * time.Second
	DefaultCacheSize = 100_000
)

// Config configures a Verifier. The zero values follow gateway/config's
// meaning, so a file maps onto Config field by field: a zero Validity is
// DefaultValidity (a code valid for no time at all is not a setting), a
// zero Skew allows no clock skew, an empty Algorithms enables none (every
// code is answered Q5 alg_disabled) and a zero CacheSize disables the
// certificate cache (every code costs two signature checks).
type Config struct {
	Validity   time.Duration // how old a code may be
	Skew       time.Duration // how far in the future a phone's clock may be
	Algorithms []Algorithm   // enabled algorithms
	Issuers    []IssuerKey   // the key ring; several may be active (rotation)
	CacheSize  int           // verified certificates remembered; 0 disables the cache
}

// IssuerKey is one public key of the issuer's key ring.
type IssuerKey struct {
	KeyID     uint32
	Alg       Algorithm
	PublicKey []byte    // Ed25519: 32 bytes; SM2: 33 (compressed) or 65 (uncompressed) bytes
	NotBefore time.Time // zero: no lower bound
	NotAfter  time.Time // zero: no upper bound
	Revoked   bool
}

// ringKey is an IssuerKey decoded once at construction.
type ringKey struct {
	alg       Algorithm
	notBefore time.Time
	notAfter  time.Time
	revoked   bool
	ed        ed25519.PublicKey
	sm2       *ecdsa.PublicKey
	za        [32]byte
}

func (k *ringKey) verify(msg, sig []byte) bool {
	if k.sm2 != nil {
		return VerifySM2(k.sm2, &k.za, msg, sig)
	}
	return ed25519.Verify(k.ed, msg, sig)
}

func newRingKey(ik IssuerKey) (*ringKey, error) {
	k := &ringKey{alg: ik.Alg, notBefore: ik.NotBefore, notAfter: ik.NotAfter, revoked: ik.Revoked}
	if !ik.NotBefore.IsZero() && !ik.NotAfter.IsZero() && ik.NotAfter.Before(ik.NotBefore) {
		return nil, fmt.Errorf("%w: issuer key %d: not-after before not-before", ErrConfig, ik.KeyID)
	}
	switch ik.Alg {
	case Ed25519:
		if len(ik.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: issuer key %d: ed25519 public key must be 32 bytes", ErrConfig, ik.KeyID)
		}
		k.ed = append(ed25519.PublicKey(nil), ik.PublicKey...)
	case SM2:
		pub, err := ParseSM2PublicKey(ik.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: issuer key %d: sm2 public key is not a point on the curve", ErrConfig, ik.KeyID)
		}
		za, err := SM2ZA(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: issuer key %d: %v", ErrConfig, ik.KeyID, err)
		}
		k.sm2, k.za = pub, za
	default:
		return nil, fmt.Errorf("%w: issuer key %d: unknown algorithm %d", ErrConfig, ik.KeyID, ik.Alg)
	}
	return k, nil
}
