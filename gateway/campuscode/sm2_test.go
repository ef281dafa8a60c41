package campuscode_test

import (
	"crypto/ecdsa"
	"testing"

	"ecardgw/gateway/campuscode"

	"github.com/emmansun/gmsm/sm2"
	"github.com/stretchr/testify/require"
)

// TestSM2MatchesLibrary cross-checks the precomputed-Z_A path against
// gmsm's own full verification (Z_A computed from the user id each time),
// for both signatures of a code made by the issuer package.
func TestSM2MatchesLibrary(t *testing.T) {
	k := newKey(t, campuscode.SM2, 1)
	for i := range 8 { // r and s vary in length after trimming: exercise DER encoding
		d := newDevice(t, k, uint64(i))
		c, err := campuscode.Parse(codeAt(t, d, t0, uint16(i)))
		require.NoError(t, err)

		user, err := campuscode.ParseSM2PublicKey(c.UserKey)
		require.NoError(t, err)
		issuerPub, err := campuscode.ParseSM2PublicKey(k.PublicKey())
		require.NoError(t, err)
		for _, s := range []struct {
			pub      *ecdsa.PublicKey
			msg, sig []byte
		}{
			{user, c.Signed(), c.UserSig},
			{issuerPub, c.CertBody(), c.IssuerSig},
		} {
			require.True(t, sm2.VerifyASN1WithSM2(s.pub, campuscode.SM2UserID, s.msg, rsToDER(s.sig)))
			za, err := campuscode.SM2ZA(s.pub)
			require.NoError(t, err)
			require.True(t, campuscode.VerifySM2(s.pub, &za, s.msg, s.sig))
			bad := append([]byte(nil), s.msg...)
			bad[len(bad)-1] ^= 1
			require.False(t, campuscode.VerifySM2(s.pub, &za, bad, s.sig))
		}
	}
}

func TestParseSM2PublicKeyRejects(t *testing.T) {
	k := newKey(t, campuscode.SM2, 1)
	pub := k.PublicKey()
	for name, b := range map[string][]byte{
		"empty":         nil,
		"prefix 04, 33": append([]byte{4}, pub[1:]...),
		"prefix 05":     append([]byte{5}, pub[1:]...),
		"short":         pub[:32],
		"x above p":     append([]byte{2}, make32(0xff)...),
	} {
		_, err := campuscode.ParseSM2PublicKey(b)
		require.ErrorIs(t, err, campuscode.ErrMalformed, name)
	}
}

func make32(v byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = v
	}
	return b
}
