package issuer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"ecardgw/gateway/campuscode"

	"github.com/emmansun/gmsm/sm2"
)

// signer is a private key of either algorithm producing the fixed 64-byte
// signatures of the campus code layout.
type signer struct {
	alg campuscode.Algorithm
	ed  ed25519.PrivateKey
	sm  *sm2.PrivateKey
}

func randOr(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func generateSigner(alg campuscode.Algorithm, r io.Reader) (signer, error) {
	r = randOr(r)
	switch alg {
	case campuscode.Ed25519:
		_, priv, err := ed25519.GenerateKey(r)
		return signer{alg: alg, ed: priv}, err
	case campuscode.SM2:
		priv, err := sm2.GenerateKey(r)
		return signer{alg: alg, sm: priv}, err
	}
	return signer{}, ErrAlgorithm
}

// signerFromPrivate rebuilds a key from its file form: the Ed25519 seed or
// the SM2 scalar, 32 bytes each.
func signerFromPrivate(alg campuscode.Algorithm, b []byte) (signer, error) {
	if len(b) != 32 {
		return signer{}, fmt.Errorf("%w: private key must be 32 bytes", ErrKey)
	}
	switch alg {
	case campuscode.Ed25519:
		return signer{alg: alg, ed: ed25519.NewKeyFromSeed(b)}, nil
	case campuscode.SM2:
		curve := sm2.P256()
		d := new(big.Int).SetBytes(b)
		// GB/T 32918 needs d in [1, n-2] (d+1 is inverted when signing).
		if d.Sign() == 0 || d.Cmp(new(big.Int).Sub(curve.Params().N, big.NewInt(1))) >= 0 {
			return signer{}, fmt.Errorf("%w: sm2 private scalar out of range", ErrKey)
		}
		priv := new(sm2.PrivateKey)
		priv.Curve = curve
		priv.D = d
		// gmsm v0.15.5 keeps SM2 keys as ecdsa keys with big.Int
		// coordinates and has no constructor from the scalar's bytes.
		//lint:ignore SA1019 gmsm's SM2 keys are ecdsa keys with X and Y set
		priv.X, priv.Y = curve.ScalarBaseMult(b)
		return signer{alg: alg, sm: priv}, nil
	}
	return signer{}, ErrAlgorithm
}

// private is the 32-byte file form of the key.
func (s signer) private() []byte {
	if s.sm != nil {
		return s.sm.D.FillBytes(make([]byte, 32))
	}
	return append([]byte(nil), s.ed.Seed()...)
}

// public is the key as a campus code carries it: Ed25519 32 bytes, SM2
// the 33-byte compressed point.
func (s signer) public() []byte {
	if s.sm != nil {
		out := make([]byte, 33)
		out[0] = 2 | byte(s.sm.Y.Bit(0))
		s.sm.X.FillBytes(out[1:])
		return out
	}
	return append([]byte(nil), s.ed.Public().(ed25519.PublicKey)...)
}

// sign returns the 64-byte signature of msg: Ed25519, or SM2 (SM3 with the
// default user id) as r‖s.
func (s signer) sign(r io.Reader, msg []byte) ([]byte, error) {
	if s.sm == nil {
		return ed25519.Sign(s.ed, msg), nil
	}
	der, err := s.sm.Sign(randOr(r), msg, sm2.NewSM2SignerOption(true, campuscode.SM2UserID))
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("issuer: sm2 signature encoding: %v", err)
	}
	out := make([]byte, campuscode.SigSize)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}
