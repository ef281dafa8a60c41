package txn_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// signOutFrom sends a sign-out (0820, 60.3 002: fields 11, 41, 42, 60)
// from p, MACed under p.MAK when macd.
func signOutFrom(t *testing.T, p *posclient.Terminal, macd bool) *iso8583.Message {
	t.Helper()
	resp, _, err := p.Send(context.Background(), p.SignOutMessage(), macd)
	require.NoError(t, err)
	return resp
}

// TestSignOutStormFromAnotherConnection is the attack of the issue: a
// second connection that knows the terminal and merchant ids (they are
// printed on receipts) but not the keys sends sign-out after sign-out.
// None of them signs the terminal out, none costs a store commit, and the
// real terminal's next purchase is approved.
func TestSignOutStormFromAnotherConnection(t *testing.T) {
	f := newFixture(t)
	real := f.signedIn("T0000001", 1)

	attacker := f.pos("T0000001")
	attacker.Batch, attacker.STAN = 1, 5000
	before := f.commits.Load()
	for range 40 {
		resp := signOutFrom(t, attacker, false)
		require.Equal(t, "A0", posclient.RC(resp), "a sign-out without a MAC is refused")
		require.False(t, resp.Has(64), "a refusal carries no MAC: the gateway MACs nothing for whoever asks")
	}
	// With a MAC under a key of the attacker's own: refused the same way,
	// and these failures do not count towards dropping the session.
	attacker.MAK = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for range 40 {
		resp := signOutFrom(t, attacker, true)
		require.Equal(t, "A0", posclient.RC(resp), "a sign-out with a wrong MAC is refused")
		require.False(t, resp.Has(64))
	}
	require.Equal(t, before, f.commits.Load(), "a refused sign-out writes nothing")

	resp, _ := send(t, real, real.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "the real terminal is still signed in")
	require.Equal(t, int64(10000-100), f.balance(1001))
}

// TestMACedSignOut: the terminal's own sign-out, MACed under its MAK, ends
// the session; the answer is MACed too (Send verifies it), and the next
// purchase must sign in first.
func TestMACedSignOut(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp := signOutFrom(t, p, true)
	require.Equal(t, "00", posclient.RC(resp))
	require.True(t, resp.Has(64), "the answer to a MACed sign-out is MACed")

	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
	require.Equal(t, byte(3), resp.Header.ProcessingRequirement())
	require.Equal(t, int64(10000), f.balance(1001))

	// The session stays ended across a restart.
	f.restart()
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
}

// TestPOSClientSignOut: posclient's SignOut sends what the gateway
// requires and forgets the keys; signed out, it sends nothing.
func TestPOSClientSignOut(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp, err := p.SignOut(t.Context())
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Nil(t, p.MAK)
	require.Nil(t, p.PIK)
	_, err = p.SignOut(t.Context())
	require.Error(t, err, "no MAK to MAC a sign-out with")
}

// TestSignOutRefusals: what a MACed sign-out must be, and what it is
// answered when it is not. None of the refusals ends the session.
func TestSignOutRefusals(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	ctx := t.Context()
	cases := []struct {
		name string
		edit func(m *iso8583.Message)
		rc   string
	}{
		// The session's batch is 1.
		{"another batch", func(m *iso8583.Message) {
			require.NoError(t, m.SetF60(iso8583.F60{MsgType: 0, Batch: 2, Network: 2, Len: 11}))
		}, "A0"},
		{"a field too many", func(m *iso8583.Message) { require.NoError(t, m.SetString(63, "001")) }, "30"},
		{"12 and 13", func(m *iso8583.Message) {
			require.NoError(t, m.SetUint(12, 120000))
			require.NoError(t, m.SetUint(13, 1126))
		}, "30"},
		{"60.1 not 00", func(m *iso8583.Message) {
			require.NoError(t, m.SetF60(iso8583.F60{MsgType: 22, Batch: 1, Network: 2, Len: 11}))
		}, "30"},
	}
	before := f.commits.Load()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := p.SignOutMessage()
			tc.edit(m)
			resp, _, err := p.Send(ctx, m, true)
			require.NoError(t, err)
			require.Equal(t, tc.rc, posclient.RC(resp))
			require.False(t, resp.Has(64))
		})
	}
	// A MAC over a message that is then changed (the STAN) fails.
	m := p.SignOutMessage()
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	req[2+5+6+2+8+2] ^= 0x01 // the STAN's last byte
	raw, err := f.transport().RoundTrip(ctx, req)
	require.NoError(t, err)
	var resp iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&resp, raw))
	require.Equal(t, "A0", string(resp.Bytes(39)))

	require.Equal(t, before, f.commits.Load(), "a refused sign-out writes nothing")
	buy, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(buy))
}

// TestSignOutWithoutSession: with no session, or one whose keys expired,
// there is nothing to end: a MACed sign-out (a retransmission whose first
// answer was lost, say) is answered 00, unMACed, and writes nothing.
func TestSignOutWithoutSession(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp := signOutFrom(t, p, true)
	require.Equal(t, "00", posclient.RC(resp))
	before := f.commits.Load()
	resp = signOutFrom(t, p, true)
	require.Equal(t, "00", posclient.RC(resp))
	require.False(t, resp.Has(64))
	require.Equal(t, before, f.commits.Load())

	q := f.signedIn("T0000002", 1)
	f.advance(24 * time.Hour)
	before = f.commits.Load()
	resp = signOutFrom(t, q, true)
	require.Equal(t, "00", posclient.RC(resp))
	require.False(t, resp.Has(64), "not MACed under an expired key")
	require.Equal(t, before, f.commits.Load())
}

// TestLegacySignOut: a terminal configured with LegacySignOut may sign out
// without a MAC, within the sign-in storm limit (a burst of 5, then one
// per 200 ms, in a bucket of its own; beyond it 96, nothing changes). A
// MAC it does send must verify. Other terminals still need the MAC.
func TestLegacySignOut(t *testing.T) {
	f := newFixture(t, func(c *txn.Config) {
		for i := range c.Terminals {
			c.Terminals[i].LegacySignOut = c.Terminals[i].ID == "T0000002"
		}
	})
	legacy := f.signedIn("T0000002", 1)
	other := f.signedIn("T0000001", 1)

	resp := signOutFrom(t, other, false)
	require.Equal(t, "A0", posclient.RC(resp), "not configured: the MAC is required")

	good := legacy.MAK
	legacy.MAK = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	resp = signOutFrom(t, legacy, true)
	require.Equal(t, "A0", posclient.RC(resp), "a MAC that is sent must verify")
	legacy.MAK = good
	buy, _ := send(t, legacy, legacy.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(buy))

	before := f.commits.Load()
	resp = signOutFrom(t, legacy, false)
	require.Equal(t, "00", posclient.RC(resp))
	require.False(t, resp.Has(64))
	require.Equal(t, before+1, f.commits.Load(), "ending the session is one write")
	buy, _ = send(t, legacy, legacy.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(buy))

	// The rest of the burst: nothing to end, nothing written.
	for range 4 {
		require.Equal(t, "00", posclient.RC(signOutFrom(t, legacy, false)))
	}
	require.Equal(t, before+1, f.commits.Load())
	resp = signOutFrom(t, legacy, false)
	require.Equal(t, "96", posclient.RC(resp), "beyond the storm limit")

	// Sign-ins have their own bucket: the sign-out storm did not use it.
	_, err := legacy.SignIn(t.Context(), 1)
	require.NoError(t, err)
	resp = signOutFrom(t, legacy, false)
	require.Equal(t, "96", posclient.RC(resp), "still limited")
	buy, _ = send(t, legacy, legacy.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(buy), "a refused sign-out changes nothing")
	f.advance(200 * time.Millisecond)
	resp = signOutFrom(t, legacy, false)
	require.Equal(t, "00", posclient.RC(resp), "one more after an interval")
	buy, _ = send(t, legacy, legacy.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(buy))

	// Its MACed sign-out works as anyone's.
	_, err = legacy.SignIn(t.Context(), 1)
	require.NoError(t, err)
	resp, err = legacy.SignOut(t.Context())
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.True(t, resp.Has(64))
}
