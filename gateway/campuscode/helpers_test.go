package campuscode_test

import (
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/stretchr/testify/require"
)

// t0 is the fixed "now" of the tests: 2026-01-01T00:00:00Z.
var t0 = time.Unix(1767225600, 0).UTC()

var bothAlgs = []campuscode.Algorithm{campuscode.Ed25519, campuscode.SM2}

func newKey(t testing.TB, alg campuscode.Algorithm, id uint32) *issuer.Key {
	t.Helper()
	k, err := issuer.GenerateKey(alg, id, nil)
	require.NoError(t, err)
	return k
}

// newDevice certifies a fresh user key for [t0-30d, t0+30d] under k's id.
func newDevice(t testing.TB, k *issuer.Key, account uint64) *issuer.Device {
	t.Helper()
	d, err := issuer.NewDevice(k, k.KeyID, account, t0.Add(-30*24*time.Hour), t0.Add(30*24*time.Hour), nil)
	require.NoError(t, err)
	return d
}

// newVerifier builds a verifier with keys added to cfg's ring; nil
// Algorithms enables both and a zero CacheSize means 16. Tests of the zero
// values themselves call campuscode.NewVerifier directly.
func newVerifier(t testing.TB, cfg campuscode.Config, keys ...*issuer.Key) *campuscode.Verifier {
	t.Helper()
	if cfg.Algorithms == nil {
		cfg.Algorithms = bothAlgs
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 16
	}
	for _, k := range keys {
		cfg.Issuers = append(cfg.Issuers, k.IssuerKey())
	}
	v, err := campuscode.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// codeAt is a code from d generated at ga with counter ctr.
func codeAt(t testing.TB, d *issuer.Device, ga time.Time, ctr uint16) []byte {
	t.Helper()
	p, err := d.AppendPayload(nil, uint32(ga.Unix()), ctr)
	require.NoError(t, err)
	return campuscode.AppendText(nil, p)
}

// flipByte is text with one payload bit changed (no re-signing).
func flipByte(text []byte, off int) []byte {
	c, err := campuscode.Parse(text)
	if err != nil {
		panic(err)
	}
	p := append([]byte(nil), c.Payload...)
	p[off] ^= 0x01
	return campuscode.AppendText(nil, p)
}

// rsToDER encodes a raw r‖s signature as DER with encoding/asn1, an
// encoder independent of the package's own.
func rsToDER(rs []byte) []byte {
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:]),
	})
	if err != nil {
		panic(err)
	}
	return der
}
