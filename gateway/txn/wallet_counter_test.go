package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// A reversed load that the card did apply (the next load arrives at a
// higher online counter) is debited again: the card got the money, so
// the account pays for it. Journaled as an exception.
func TestReversedLoadTakenByTheCardIsDebitedAgain(t *testing.T) {
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	c := newCard(t, "00000000"+cardOK)

	f55, _ := c.initForLoad(500, false)
	m := s.WalletLoad(cardOK, 500, f55)
	resp, _ := send(t, s, m)
	require.Equal(t, "00", posclient.RC(resp))
	// The card completes CREDIT FOR LOAD, but the POS never saw MAC2
	// verify (say, the answer came late) and reverses.
	c.balance, c.counter = 500, 1
	resp, _ = send(t, s, s.Reversal(m, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001), "given back for now")

	// The next load comes at counter 1: the card took the first.
	f55, _ = c.initForLoad(300, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 300, f55))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-500-300), f.balance(1001), "the reversed load is paid after all")

	var again []store.Record
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Kind == store.KindLoad && r.Exception {
				again = append(again, *r)
			}
			return nil
		})
	}))
	require.Len(t, again, 1)
	require.Equal(t, int64(500), again[0].Amount)
	require.NotNil(t, again[0].Orig)
	require.NotEmpty(t, again[0].Note)
}

// A reversed load the card did not take: the next load comes at the same
// counter, the reversal stands.
func TestReversedLoadNotTakenStaysReversed(t *testing.T) {
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	c := newCard(t, "00000000"+cardOK)
	f55, _ := c.initForLoad(500, false)
	m := s.WalletLoad(cardOK, 500, f55)
	resp, _ := send(t, s, m)
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, s, s.Reversal(m, "06"))
	require.Equal(t, "00", posclient.RC(resp))
	f55, _ = c.initForLoad(500, false) // counter 0 again
	resp, _ = send(t, s, s.WalletLoad(cardOK, 500, f55))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(9500), f.balance(1001), "one load paid, once")
	// And the old counter cannot be used a third time.
	f55, _ = c.initForLoad(100, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 100, f55))
	require.Equal(t, "12", posclient.RC(resp))
}

// A card data sync carries no cryptogram: it cannot move the online
// counter, so a forged sync at 65535 blocks no genuine load.
func TestSyncDoesNotMoveTheOnlineCounter(t *testing.T) {
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	p := f.signedIn("T0000001", 1)
	c := newCard(t, "00000000"+cardOK)
	f55, _ := c.initForLoad(500, false)
	resp, _ := send(t, s, s.WalletLoad(cardOK, 500, f55))
	require.Equal(t, "00", posclient.RC(resp))
	c.balance, c.counter = 500, 1

	forged := p.New(100, 330000, 0)
	posclient.SetCard(forged, cardOK)
	require.NoError(t, forged.SetBytes(55, syncF55("00000000"+cardOK, 0, 65535)))
	resp, _ = send(t, p, forged)
	require.Equal(t, "00", posclient.RC(resp))

	f55, _ = c.initForLoad(300, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 300, f55))
	require.Equal(t, "00", posclient.RC(resp), "the genuine load at counter 1 goes through")
}
