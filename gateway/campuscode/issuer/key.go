package issuer

import (
	"fmt"
	"io"
	"math"
	"time"

	"ecardgw/gateway/campuscode"
)

// Key is an issuer key pair with the key id the gateways know it by.
type Key struct {
	KeyID uint32
	signer
}

// GenerateKey makes a new issuer key pair; rand nil means crypto/rand.
func GenerateKey(alg campuscode.Algorithm, keyID uint32, rand io.Reader) (*Key, error) {
	s, err := generateSigner(alg, rand)
	if err != nil {
		return nil, err
	}
	return &Key{KeyID: keyID, signer: s}, nil
}

// Alg is the key's algorithm.
func (k *Key) Alg() campuscode.Algorithm { return k.alg }

// PublicKey is the public key as the gateway configuration takes it
// (Ed25519: 32 bytes; SM2: 33-byte compressed point).
func (k *Key) PublicKey() []byte { return k.public() }

// IssuerKey is the key ring entry for this key, unbounded and not revoked.
func (k *Key) IssuerKey() campuscode.IssuerKey {
	return campuscode.IssuerKey{KeyID: k.KeyID, Alg: k.alg, PublicKey: k.public()}
}

// Certify signs a user certificate: bytes [0, 87+L) of every code the user
// shows. keyID is what the certificate names; it is normally issuer.KeyID,
// and differs only to build test vectors (a revoked or unknown id). userPub
// is the user's key in the code's form (Ed25519 32 bytes, SM2 33-byte
// compressed point) and must be of the issuer's algorithm.
func Certify(issuer *Key, keyID uint32, account uint64, notBefore, notAfter time.Time, userPub []byte) ([]byte, error) {
	return certify(issuer, keyID, account, notBefore, notAfter, userPub, nil)
}

func certify(issuer *Key, keyID uint32, account uint64, notBefore, notAfter time.Time, userPub []byte, rand io.Reader) ([]byte, error) {
	alg := issuer.alg
	if len(userPub) != alg.KeyLen() {
		return nil, fmt.Errorf("%w: user public key must be %d bytes for %s", ErrKey, alg.KeyLen(), alg)
	}
	if alg == campuscode.SM2 {
		if _, err := campuscode.ParseSM2PublicKey(userPub); err != nil {
			return nil, fmt.Errorf("%w: user public key is not an sm2 point", ErrKey)
		}
	}
	nb, na := notBefore.Unix(), notAfter.Unix()
	if nb < 0 || na > math.MaxUint32 || na < nb {
		return nil, fmt.Errorf("%w: need 1970 <= not-before <= not-after <= 2106", ErrValidity)
	}
	body := campuscode.AppendCertBody(make([]byte, 0, campuscode.PayloadLen(alg.KeyLen())),
		alg, keyID, account, uint32(nb), uint32(na), userPub)
	sig, err := issuer.sign(rand, body)
	if err != nil {
		return nil, err
	}
	return append(body, sig...), nil
}
