package campuscode

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReasonAndResponseCode(t *testing.T) {
	cases := []struct {
		err          error
		reason, code string
	}{
		{nil, "ok", "00"},
		{errPrefix, "malformed", "Q1"},
		{errIssuerSig, "issuer_signature", "Q2"},
		{errUserSig, "user_signature", "Q2"},
		{errCertExpired, "cert_expired", "Q3"},
		{errStale, "stale", "Q3"},
		{errFuture, "future", "Q3"},
		{errUnknownKey, "unknown_key", "Q5"},
		{errRevokedKey, "revoked_key", "Q5"},
		{errKeyExpired, "key_expired", "Q5"},
		{errAlgDisabled, "alg_disabled", "Q5"},
		// bare sentinels, as the engine uses them
		{ErrReplay, "replay", "Q4"},
		{ErrInactive, "inactive", "Q6"},
		{ErrMalformed, "malformed", "Q1"},
		{ErrBadSignature, "user_signature", "Q2"},
		{ErrExpired, "stale", "Q3"},
		{ErrUnknownKey, "unknown_key", "Q5"},
		// wrapped by a caller
		{fmt.Errorf("terminal T1: %w", errRevokedKey), "revoked_key", "Q5"},
		{fmt.Errorf("store: %w", ErrReplay), "replay", "Q4"},
		// not ours
		{errors.New("disk full"), "other", "96"},
		{ErrConfig, "other", "96"},
	}
	for _, c := range cases {
		require.Equal(t, c.reason, Reason(c.err), "%v", c.err)
		require.Equal(t, c.code, ResponseCode(c.err), "%v", c.err)
		require.Contains(t, Reasons(), Reason(c.err))
	}
}

func TestReasonsAreDistinctAndCoverEveryError(t *testing.T) {
	rs := Reasons()
	sorted := slices.Clone(rs)
	slices.Sort(sorted)
	require.Len(t, slices.Compact(sorted), len(rs))
	for _, e := range []*Error{errPrefix, errB45Char, errB45Len, errB45Range, errLength, errVersion,
		errAlgorithm, errKeyLength, errUserKey, errIssuerSig, errUserSig, errCertExpired, errStale,
		errFuture, errUnknownKey, errRevokedKey, errKeyExpired, errAlgDisabled} {
		require.Contains(t, rs, e.Reason)
		require.NotEqual(t, "96", ResponseCode(e))
		require.ErrorIs(t, e, e.Kind)
		require.Contains(t, e.Error(), e.Reason)
	}
}

func TestAlgorithmNames(t *testing.T) {
	for _, a := range []Algorithm{Ed25519, SM2} {
		back, err := ParseAlgorithm(a.String())
		require.NoError(t, err)
		require.Equal(t, a, back)
	}
	require.Equal(t, "unknown", Algorithm(9).String())
	_, err := ParseAlgorithm("rsa")
	require.ErrorIs(t, err, ErrConfig)
}

func TestAppendSigDERMatchesEncodingASN1(t *testing.T) {
	// Leading zero bytes and high bits change the DER lengths: check the
	// hand encoder against encoding/asn1 on the edge shapes.
	shapes := [][2]string{
		{"01", "01"},
		{"7f", "80"},
		{"00000000000000000000000000000000000000000000000000000000000000ff", "80"},
		{"ff", "00ff"},
		{"0080", "7fff"},
	}
	for _, sh := range shapes {
		r, _ := new(big.Int).SetString(sh[0], 16)
		s, _ := new(big.Int).SetString(sh[1], 16)
		rs := make([]byte, 64)
		r.FillBytes(rs[:32])
		s.FillBytes(rs[32:])
		want, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		require.NoError(t, err)
		require.Equal(t, want, appendSigDER(nil, rs), sh)
	}
	full := make([]byte, 64)
	for i := range full {
		full[i] = 0xff
	}
	r := new(big.Int).SetBytes(full[:32])
	want, err := asn1.Marshal(struct{ R, S *big.Int }{r, r})
	require.NoError(t, err)
	got := appendSigDER(nil, full)
	require.Equal(t, want, got)
	require.LessOrEqual(t, len(got), derMax)
}

func TestBase45DecodedLen(t *testing.T) {
	_, ok := Base45DecodedLen(4)
	require.False(t, ok)
	n, ok := Base45DecodedLen(Base45EncodedLen(MaxPayload))
	require.True(t, ok)
	require.Equal(t, MaxPayload, n)
}

func TestAppendPayloadPadsShortFields(t *testing.T) {
	// AppendPayload keeps the fixed layout even for short slices, so a
	// half-filled Code cannot shift the fields after it.
	c := Code{Alg: SM2, KeyID: 1, UserKey: []byte{2}, IssuerSig: []byte{1}}
	p := AppendPayload(nil, &c)
	require.Len(t, p, PayloadLen(33))
	back, err := ParsePayload(p)
	require.NoError(t, err)
	require.Equal(t, uint32(1), back.KeyID)
	require.Equal(t, byte(2), back.UserKey[0])
	require.Equal(t, byte(1), back.IssuerSig[0])
}
