package txn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/pboc"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// TestSetLimitsAppliesToTheNextRequest: a reload's new daily limit is what
// the next purchase is checked against.
func TestSetLimitsAppliesToTheNextRequest(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 3000, nil))
	require.Equal(t, "00", posclient.RC(resp))

	f.eng.SetLimits(txn.Limits{DailyFen: 3000})
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "61", posclient.RC(resp), "over the reloaded daily limit")
	require.Equal(t, txn.Limits{DailyFen: 3000, TopUpMaxFen: 99900, WalletLimit: 1000, AdviceMaxFen: 20000}, f.eng.Limits(),
		"unset limits keep their defaults")

	f.eng.SetLimits(txn.Limits{})
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "0: no daily limit again")
}

// cardWithKey is a wallet card personalised under master key mk at key
// version ver (DF08).
func cardWithKey(t *testing.T, serial string, mk []byte, ver byte) *versionedCard {
	c := newCard(t, serial)
	var m [16]byte
	copy(m[:], mk)
	k, err := pboc.DeriveCardKey(m, c.serial[:])
	require.NoError(t, err)
	c.key = k
	return &versionedCard{card: c, ver: ver}
}

type versionedCard struct {
	*card
	ver byte
}

func (c *versionedCard) initForLoad(amount uint32) []byte {
	rnd := [4]byte{0xA1, 0xB2, 0xC3, byte(c.counter)}
	sk := pboc.SessionKey(c.key, rnd, c.counter)
	mac1 := pboc.MAC1(sk, c.balance, amount, termNo)
	li := posclient.LoadInit{Serial: c.serial, Balance: c.balance, Counter: c.counter, Random: rnd, MAC1: mac1,
		KeyVersion: c.ver, AlgID: 0x00, DateTime: loadTime, TermNo: termNo}
	return li.AppendF55(nil)
}

// TestWalletKeysByVersion: the master load key is chosen by the key
// version the card reports in DF08, so the load key can be rotated: cards
// on the new version load with the new key while cards on the old one
// still load with the old, and a version the key file does not hold is
// refused (96) rather than tried with another version's key.
func TestWalletKeysByVersion(t *testing.T) {
	newMK := []byte{0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01}
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	rotated := cardWithKey(t, "00000000"+cardOK, newMK, 0x02)

	resp, _ := send(t, s, s.WalletLoad(cardOK, 500, rotated.initForLoad(500)))
	require.Equal(t, "A0", posclient.RC(resp), "before the reload version 2 is checked with the only key there is")

	f.eng.SetWalletKeys(txn.WalletKeys{ByVersion: map[byte][]byte{0x01: walletMK, 0x02: newMK}})
	resp, _ = send(t, s, s.WalletLoad(cardOK, 500, rotated.initForLoad(500)))
	require.Equal(t, "00", posclient.RC(resp), "version 2 loads with the version 2 key")
	rotated.balance, rotated.counter = 500, rotated.counter+1

	old := cardWithKey(t, "00000000"+cardPoor, walletMK, 0x01)
	resp, _ = send(t, s, s.WalletLoad(cardPoor, 50, old.initForLoad(50)))
	require.Equal(t, "00", posclient.RC(resp), "version 1 still loads with the version 1 key")
	old.balance, old.counter = 50, old.counter+1

	f.eng.SetWalletKeys(txn.WalletKeys{ByVersion: map[byte][]byte{0x02: newMK}})
	resp, _ = send(t, s, s.WalletLoad(cardPoor, 10, old.initForLoad(10)))
	require.Equal(t, "96", posclient.RC(resp), "version 1 retired: no key, no load")

	f.eng.SetWalletKeys(txn.WalletKeys{Default: walletMK, ByVersion: map[byte][]byte{0x02: newMK}})
	resp, _ = send(t, s, s.WalletLoad(cardPoor, 10, old.initForLoad(10)))
	require.Equal(t, "00", posclient.RC(resp), "the default key serves versions not listed")
}

// TestEndSessions: a terminal whose session is ended (its TMK changed on
// reload) gets 77 until it signs in again; other terminals keep theirs.
func TestEndSessions(t *testing.T) {
	f := newFixture(t)
	a := f.signedIn("T0000001", 1)
	b := f.signedIn("T0000002", 1)
	require.NoError(t, f.eng.EndSessions(context.Background(), []string{"T0000001", "X0000009"}))
	resp, _ := send(t, a, a.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
	resp, _ = send(t, b, b.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "the other terminal keeps its session")
	f.restart()
	a = f.signedIn("T0000001", 2)
	resp, _ = send(t, a, a.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp), "signed in again")
}
