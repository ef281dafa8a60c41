// gmsm v0.15.5's SM2 functions take an *ecdsa.PublicKey with X and Y set
// (it has no constructor from bytes), so the coordinates that Go 1.26
// deprecates are the only way in; they are set once, from a point checked
// to be on the curve, and never modified.
//
//lint:file-ignore SA1019 gmsm's SM2 keys are ecdsa keys with X and Y set

package campuscode

import (
	"crypto/ecdsa"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm2/sm2ec"
	"github.com/emmansun/gmsm/sm3"
)

// SM2UserID is the default signer id of GB/T 32918.2 that campus codes use.
var SM2UserID = []byte("1234567812345678")

// ParseSM2PublicKey decodes an SM2 point, compressed (33 bytes, 0x02/0x03)
// or uncompressed (65 bytes, 0x04), and checks that it is on the curve.
func ParseSM2PublicKey(b []byte) (*ecdsa.PublicKey, error) {
	curve := sm2.P256()
	pub := &ecdsa.PublicKey{Curve: curve}
	switch {
	case len(b) == 33 && (b[0] == 2 || b[0] == 3):
		pub.X, pub.Y = sm2ec.UnmarshalCompressed(curve, b)
	case len(b) == 65 && b[0] == 4:
		pub.X, pub.Y = sm2ec.Unmarshal(curve, b)
	}
	if pub.X == nil {
		return nil, errUserKey
	}
	return pub, nil
}

// SM2ZA is Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ Px ‖ Py) for the default
// user id. It depends only on the key, so the verifier computes it once per
// key and a verification costs one SM3 over Z_A ‖ message.
func SM2ZA(pub *ecdsa.PublicKey) ([32]byte, error) {
	var za [32]byte
	b, err := sm2.CalculateZA(pub, SM2UserID)
	if err != nil {
		return za, err
	}
	copy(za[:], b)
	return za, nil
}

// SM2Digest is the SM2 signing digest e = SM3(Z_A ‖ msg). Z_A ‖ msg is
// built on the stack for messages up to a payload's length, so the
// verification path does not allocate for it.
func SM2Digest(za *[32]byte, msg []byte) [32]byte {
	var buf [32 + MaxPayload]byte
	if len(msg) > MaxPayload {
		joined := make([]byte, 0, 32+len(msg))
		return sm3.Sum(append(append(joined, za[:]...), msg...))
	}
	n := copy(buf[:], za[:])
	n += copy(buf[n:], msg)
	return sm3.Sum(buf[:n])
}

// VerifySM2 checks a raw r‖s (32+32 bytes) signature of msg, given the
// key's precomputed Z_A.
func VerifySM2(pub *ecdsa.PublicKey, za *[32]byte, msg, rs []byte) bool {
	if len(rs) != SigSize {
		return false
	}
	digest := SM2Digest(za, msg)
	// gmsm's verifier lets the DER signature escape, so a stack buffer
	// would be one allocation per code; a pooled one is none.
	der := derPool.Get().(*[derMax]byte)
	ok := sm2.VerifyASN1(pub, digest[:], appendSigDER(der[:0], rs))
	derPool.Put(der)
	return ok
}

const derMax = 2 + 2*(2+33)

var derPool = sync.Pool{New: func() any { return new([derMax]byte) }}

// appendSigDER converts r‖s into the DER SEQUENCE{INTEGER r, INTEGER s}
// that gmsm verifies; by hand, into the caller's buffer, because the
// library's encoder allocates.
func appendSigDER(dst, rs []byte) []byte {
	r, s := trimInt(rs[:32]), trimInt(rs[32:])
	n := intLen(r) + intLen(s)
	dst = append(dst, 0x30, byte(n))
	dst = appendInt(dst, r)
	return appendInt(dst, s)
}

func trimInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return 3 + len(b)
	}
	return 2 + len(b)
}

func appendInt(dst, b []byte) []byte {
	if b[0]&0x80 != 0 {
		dst = append(dst, 0x02, byte(len(b)+1), 0)
		return append(dst, b...)
	}
	dst = append(dst, 0x02, byte(len(b)))
	return append(dst, b...)
}
