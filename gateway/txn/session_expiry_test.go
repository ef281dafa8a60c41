package txn_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// TestWorkingKeysExpire: a session's working keys are good for 24 hours
// by default; the first financial request after that is answered 77 with
// processing requirement 3 (sign in), unMACed, as for no session, and is
// not executed. A new sign-in gives keys that work.
func TestWorkingKeysExpire(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	f.advance(24*time.Hour - time.Second)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "a second before the end of the lifetime")

	f.advance(time.Second)
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp), "the keys expired")
	require.Equal(t, byte(3), resp.Header.ProcessingRequirement())
	require.False(t, resp.Has(64), "not MACed under an expired key")
	require.Equal(t, int64(10000-100), f.balance(1001), "not executed")

	_, err := p.SignIn(t.Context(), 1)
	require.NoError(t, err)
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-200), f.balance(1001))
}

// TestWorkingKeysExpireAcrossRestart: the sign-in time is sealed with the
// session, so a restart neither extends nor shortens the lifetime.
func TestWorkingKeysExpireAcrossRestart(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	f.advance(23 * time.Hour)
	f.restart()
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "a restart keeps the session")

	f.advance(time.Hour)
	f.restart()
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp), "expired 24 h after the sign-in, not after the restart")
	require.Equal(t, byte(3), resp.Header.ProcessingRequirement())

	// Expired in memory too: the same engine keeps refusing.
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
	require.Equal(t, int64(10000-100), f.balance(1001))
}

// TestSessionLifetimeConfigured: Config.SessionLifetime replaces the
// default; the terminal's other requests (echo, blacklist) need no
// session and go on working.
func TestSessionLifetimeConfigured(t *testing.T) {
	hour := func(c *txn.Config) { c.SessionLifetime = time.Hour }
	f := newFixture(t, hour)
	p := f.signedIn("T0000001", 1)
	f.advance(59 * time.Minute)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, 1, f.eng.Sessions())
	f.advance(time.Minute)
	require.Equal(t, 0, f.eng.Sessions(), "expired keys are no session")
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
	echo, err := p.Echo(t.Context())
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(echo))
}

// TestStoredSessionWithoutSignInTime: a session in the store without a
// sign-in time (as none this gateway writes: the time has been sealed
// with every session since the store's first version) is read as signed
// in when first loaded, and that time is written back, so its keys
// expire one lifetime later, also across restarts, instead of living for
// ever or expiring at once.
func TestStoredSessionWithoutSignInTime(t *testing.T) {
	f := newFixture(t)
	p := f.pos("T0000001")
	p.MAK = []byte{0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE}
	p.PIK = make([]byte, 16)
	p.Batch = 1
	require.NoError(t, f.db.Update(t.Context(), func(tx *store.Tx) error {
		return tx.PutSession(&store.Session{Terminal: "T0000001", PIK: p.PIK, MAK: p.MAK, Batch: 1, BatchOpen: true})
	}))
	f.restart()
	loaded := f.clock()
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "read, and good")
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		s, ok, err := tx.Session("T0000001")
		require.True(t, ok)
		require.Equal(t, loaded.UTC(), s.SignedIn, "stamped with the time it was loaded")
		return err
	}))

	f.advance(24*time.Hour - time.Second)
	f.restart()
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "the restart did not start the lifetime again")
	f.advance(time.Second)
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
}
