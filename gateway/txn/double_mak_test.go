package txn_test

import (
	"crypto/des"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// doubleMAK configures T0000001 for a double-length MAK.
func doubleMAK(c *txn.Config) {
	for i := range c.Terminals {
		c.Terminals[i].DoubleMAK = c.Terminals[i].ID == "T0000001"
	}
}

// unwrapIndependently decrypts a key sent under the TMK with crypto/des
// (3DES-ECB, K1 K2 K1), without the package under test.
func unwrapIndependently(t *testing.T, tmk, enc []byte) []byte {
	t.Helper()
	c, err := des.NewTripleDESCipher(append(append([]byte(nil), tmk...), tmk[:8]...))
	require.NoError(t, err)
	out := make([]byte, len(enc))
	for i := 0; i < len(enc); i += 8 {
		c.Decrypt(out[i:i+8], enc[i:i+8])
	}
	return out
}

// TestDoubleLengthMAK: a terminal configured for a double-length MAK gets
// a 16-byte MAK at sign-in (field 62: PIK 16 · check 4 · MAK 16 · check
// 4), MACs with ANSI X9.19 under it, and transacts; the gateway's answers
// are X9.19 MACed; the session survives a restart with its algorithm; a
// MAC computed the old way (the ECB MAC under 3DES) is refused.
func TestDoubleLengthMAK(t *testing.T) {
	f := newFixture(t, doubleMAK)
	p := f.pos("T0000001")
	p.DoubleMAK = true
	resp, err := p.SignIn(t.Context(), 1)
	require.NoError(t, err)
	f62 := resp.Bytes(62)
	require.Len(t, f62, 40)
	require.Len(t, p.MAK, 16)
	require.Equal(t, p.MAK, unwrapIndependently(t, tmkPOS, f62[20:36]))
	c, err := des.NewTripleDESCipher(append(append([]byte(nil), p.MAK...), p.MAK[:8]...))
	require.NoError(t, err)
	var cv [8]byte
	c.Encrypt(cv[:], cv[:])
	require.Equal(t, cv[:4], f62[36:40], "check value: 3DES under the MAK of 8 zero bytes")
	require.NotEqual(t, p.MAK[:8], p.MAK[8:], "a real double-length key")

	buy := p.CardPurchase(cardOK, 250, nil)
	req, err := iso8583.AppendFrame(nil, buy, p.MAK)
	require.NoError(t, err)
	var sent iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&sent, req))
	x, err := mac.X919(p.MAK, sent.MAB())
	require.NoError(t, err)
	require.Equal(t, x[:], sent.Bytes(64), "the request's field 64 is the X9.19 MAC")
	ans, raw, err := p.SendRaw(t.Context(), req, buy, true)
	require.NoError(t, err, "the answer's MAC verifies (X9.19)")
	require.Equal(t, "00", posclient.RC(ans))
	var got iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&got, raw))
	x, err = mac.X919(p.MAK, got.MAB())
	require.NoError(t, err)
	require.Equal(t, x[:], got.Bytes(64))
	require.Equal(t, int64(10000-250), f.balance(1001))

	// The UnionPay ECB MAC under the same 16 bytes is not this session's MAC.
	m := p.CardPurchase(cardOK, 100, nil)
	body, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	var d iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&d, body))
	ecb := mac.ECB(p.MAK, d.MAB())
	copy(body[len(body)-8:], ecb[:])
	ans, _, err = p.SendRaw(t.Context(), body, m, false)
	require.NoError(t, err)
	require.Equal(t, "A0", posclient.RC(ans))

	// A restart restores the 16-byte MAK and X9.19 with it.
	f.restart(doubleMAK)
	ans, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(ans))
	require.Equal(t, int64(10000-350), f.balance(1001))

	// Its MACed sign-out works.
	ans, err = p.SignOut(t.Context())
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(ans))
	require.True(t, ans.Has(64))
}

// TestSingleDESTerminalUnchanged: a terminal not configured for a double
// MAK gets the spec's 32-byte field 62 with an 8-byte MAK and the UnionPay
// ECB MAC, as before; each side refuses a field 62 of the other length.
func TestSingleDESTerminalUnchanged(t *testing.T) {
	f := newFixture(t, doubleMAK)
	p := f.pos("T0000002")
	resp, err := p.SignIn(t.Context(), 1)
	require.NoError(t, err)
	require.Len(t, resp.Bytes(62), 32)
	require.Len(t, p.MAK, 8)
	buy, raw := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(buy))
	var got iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&got, raw))
	ecb := mac.ECB(p.MAK, got.MAB())
	require.Equal(t, ecb[:], got.Bytes(64), "ECB MAC, 8 hex characters")

	// A single-DES terminal configured at the gateway as double (or the
	// other way round) cannot sign in: it refuses the keys.
	single := f.pos("T0000001")
	_, err = single.SignIn(t.Context(), 1)
	require.ErrorIs(t, err, posclient.ErrBadAnswer)
	require.Nil(t, single.MAK)
	double := f.pos("T0000002")
	double.DoubleMAK = true
	_, err = double.SignIn(t.Context(), 1)
	require.ErrorIs(t, err, posclient.ErrBadAnswer)
	require.Nil(t, double.MAK)
}
