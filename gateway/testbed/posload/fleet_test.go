package posload

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
)

// answerTo builds the gateway's answer to s's request, MACed under mak
// when mak is not nil.
func answerTo(t *testing.T, s *connState, rc string, mak []byte) []byte {
	t.Helper()
	var r iso8583.Message
	r.SetResponseFrom(&s.req, 2, 3, 4, 11, 41, 42)
	r.Header = s.req.Header
	require.NoError(t, r.SetString(39, rc))
	out, err := iso8583.AppendFrame(nil, &r, mak)
	require.NoError(t, err)
	return out
}

// The load checks every answer as a terminal would, not only its response
// code: the response MTI, the STAN and, for a MACed request, the MAC
// under the session key. A gateway that answered with a wrong MAC under
// load would otherwise be counted fast and correct.
func TestCheckAnswerWantsTheTerminalsChecks(t *testing.T) {
	mak := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	s := &connState{term: posclient.Terminal{ID: "T0000001", Merchant: "898110000000001", MAK: mak}, card: "100000000001"}
	s.term.Fill(&s.req, 200, 0, 0)
	posclient.SetCard(&s.req, s.card)
	posclient.SetAmount(&s.req, 1)
	_, err := s.frame(nil, true)
	require.NoError(t, err)

	require.NoError(t, s.check(answerTo(t, s, "00", mak), true))
	require.ErrorIs(t, s.check(answerTo(t, s, "51", mak), true), ErrDeclined)

	other := []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}
	require.ErrorIs(t, s.check(answerTo(t, s, "00", other), true), ErrBadAnswer, "a MAC under another key")
	require.ErrorIs(t, s.check(answerTo(t, s, "00", nil), true), ErrBadAnswer, "no MAC at all")

	stan, _ := s.req.STAN()
	ans := answerTo(t, s, "00", mak)
	s.term.Fill(&s.req, 200, 0, 0) // the next request: another STAN
	next, _ := s.req.STAN()
	require.NotEqual(t, stan, next)
	require.ErrorIs(t, s.check(ans, true), ErrBadAnswer, "an answer to another STAN")

	s.term.Fill(&s.req, 820, -1, 301) // an echo: no MAC, another MTI
	require.ErrorIs(t, s.check(ans, false), ErrBadAnswer, "a 0210 does not answer an 0820")
}
