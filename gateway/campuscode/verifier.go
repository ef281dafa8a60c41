package campuscode

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Verifier verifies campus codes against one configuration. It is safe for
// concurrent use; a configuration change (key rotation, revocation) builds
// a new Verifier, which also starts with an empty certificate cache.
type Verifier struct {
	validity time.Duration
	skew     time.Duration
	enabled  [3]bool // indexed by Algorithm
	keys     map[uint32]*ringKey
	cache    *certCache
}

// Result is what a verified code tells the engine.
type Result struct {
	Account     uint64
	GeneratedAt uint32 // Unix seconds, the phone's clock
	Counter     uint16
	KeyID       uint32
	Alg         Algorithm
}

// NewVerifier validates cfg and decodes every key once (SM2 points are
// decompressed and their Z_A computed here, not per code).
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Validity < 0 || cfg.Skew < 0 || cfg.CacheSize < 0 {
		return nil, fmt.Errorf("%w: validity, skew and cache size must not be negative", ErrConfig)
	}
	v := &Verifier{
		validity: cfg.Validity,
		skew:     cfg.Skew,
		keys:     make(map[uint32]*ringKey, len(cfg.Issuers)),
	}
	if v.validity == 0 {
		v.validity = DefaultValidity
	}
	v.cache = newCertCache(cfg.CacheSize)
	algs := cfg.Algorithms
	for _, a := range algs {
		if a.KeyLen() == 0 {
			return nil, fmt.Errorf("%w: unknown algorithm %d", ErrConfig, a)
		}
		v.enabled[a] = true
	}
	for _, ik := range cfg.Issuers {
		if _, dup := v.keys[ik.KeyID]; dup {
			return nil, fmt.Errorf("%w: issuer key id %d appears twice", ErrConfig, ik.KeyID)
		}
		k, err := newRingKey(ik)
		if err != nil {
			return nil, err
		}
		v.keys[ik.KeyID] = k
	}
	return v, nil
}

// Verify runs steps 1–6 of campus-code.md in order, cheapest rejection
// first: format, algorithm enabled, issuer key, certificate (validity, then
// issuer signature unless the certificate is cached), user signature,
// freshness. Replay and account rules are the caller's. Every error wraps
// one sentinel and names a reason; none contains the text.
func (v *Verifier) Verify(text []byte, now time.Time) (Result, error) {
	// The payload lives on the stack: every slice of it stays in this
	// frame, which keeps the hot path free of allocations.
	var buf [MaxPayload]byte
	payload, err := AppendPayloadText(buf[:0], text)
	if err != nil {
		return Result{}, err
	}
	c, err := ParsePayload(payload)
	if err != nil {
		return Result{}, err
	}

	if !v.enabled[c.Alg] {
		return Result{}, errAlgDisabled
	}

	k := v.keys[c.KeyID]
	switch {
	case k == nil || k.alg != c.Alg:
		return Result{}, errUnknownKey
	case k.revoked:
		return Result{}, errRevokedKey
	case !k.notBefore.IsZero() && now.Before(k.notBefore),
		!k.notAfter.IsZero() && now.After(k.notAfter):
		return Result{}, errKeyExpired
	}

	if sec := now.Unix(); sec < int64(c.NotBefore) || sec > int64(c.NotAfter) {
		return Result{}, errCertExpired
	}
	digest := sha256.Sum256(c.Cert())
	e := v.cache.get(&digest)
	if e == nil {
		if e, err = certify(k, &c, &digest); err != nil {
			return Result{}, err
		}
		v.cache.add(e)
	}

	if !e.verify(c.Signed(), c.UserSig) {
		return Result{}, errUserSig
	}

	ga := int64(c.GeneratedAt) * int64(time.Second)
	ns := now.UnixNano()
	switch {
	case ga < ns-int64(v.validity):
		return Result{}, errStale
	case ga > ns+int64(v.skew):
		return Result{}, errFuture
	}
	return Result{Account: c.Account, GeneratedAt: c.GeneratedAt, Counter: c.Counter, KeyID: c.KeyID, Alg: c.Alg}, nil
}

// certify decodes the user key and checks the issuer signature of a
// certificate not in the cache. The user key is copied first: the point
// decoder keeps its input, which would otherwise drag Verify's stack
// buffer onto the heap for every call.
func certify(k *ringKey, c *Code, digest *[32]byte) (*certEntry, error) {
	e := &certEntry{key: *digest}
	userKey := append([]byte(nil), c.UserKey...)
	if c.Alg == SM2 {
		pub, err := ParseSM2PublicKey(userKey)
		if err != nil {
			return nil, errUserKey
		}
		if e.za, err = SM2ZA(pub); err != nil {
			return nil, errUserKey
		}
		e.sm2 = pub
	} else {
		e.ed = userKey
	}
	if !k.verify(c.CertBody(), c.IssuerSig) {
		return nil, errIssuerSig
	}
	return e, nil
}

// ExpiryMargin is added to a replay record's lifetime so that a gateway
// clock stepped back a little does not forget a code still fresh.
const ExpiryMargin = time.Minute

// Expiry is when the replay record of res may be dropped: generated-at +
// validity + skew + ExpiryMargin. After it, step 6 rejects the code anyway.
func (v *Verifier) Expiry(res Result) time.Time {
	return time.Unix(int64(res.GeneratedAt), 0).UTC().Add(v.validity + v.skew + ExpiryMargin)
}

// Validity and Skew are the effective freshness window.
func (v *Verifier) Validity() time.Duration { return v.validity }
func (v *Verifier) Skew() time.Duration     { return v.skew }

// ReplayKeySize is the length of ReplayKey.
const ReplayKeySize = 14

// ReplayKey identifies a code for step 7: account ‖ generated-at ‖ counter,
// big-endian, as the spec defines the pair. Fixed-size so it can key a
// store bucket or a stream subject without formatting.
func ReplayKey(res Result) [ReplayKeySize]byte {
	var k [ReplayKeySize]byte
	binary.BigEndian.PutUint64(k[0:], res.Account)
	binary.BigEndian.PutUint32(k[8:], res.GeneratedAt)
	binary.BigEndian.PutUint16(k[12:], res.Counter)
	return k
}

// CacheStats reports the certificate cache's size and counters, for
// metrics.
type CacheStats struct {
	Entries                 int
	Hits, Misses, Evictions uint64
}

// CacheStats returns the current cache figures.
func (v *Verifier) CacheStats() CacheStats {
	return CacheStats{
		Entries:   v.cache.len(),
		Hits:      v.cache.hits.Load(),
		Misses:    v.cache.misses.Load(),
		Evictions: v.cache.evictions.Load(),
	}
}
