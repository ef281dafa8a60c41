package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// card is the card side of a small-wallet load, computed from card.md's
// formulas with the card's own derived key.
type card struct {
	serial  [10]byte
	balance uint32
	counter uint16
	key     [16]byte
}

func newCard(t *testing.T, serial string) *card {
	c := &card{}
	for i := 0; i < 10; i++ {
		c.serial[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	var mk [16]byte
	copy(mk[:], walletMK)
	k, err := pboc.DeriveCardKey(mk, c.serial[:])
	require.NoError(t, err)
	c.key = k
	return c
}

var termNo = [6]byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x01}
var loadTime = [7]byte{0x20, 0x26, 0x11, 0x26, 0x12, 0x30, 0x00}

// initForLoad is the card's INITIALIZE FOR LOAD answer packed into field 55.
func (c *card) initForLoad(amount uint32, badMAC bool) ([]byte, [8]byte) {
	rnd := [4]byte{0xA1, 0xB2, 0xC3, byte(c.counter)}
	sk := pboc.SessionKey(c.key, rnd, c.counter)
	mac1 := pboc.MAC1(sk, c.balance, amount, termNo)
	if badMAC {
		mac1[0] ^= 0xFF
	}
	li := posclient.LoadInit{Serial: c.serial, Balance: c.balance, Counter: c.counter, Random: rnd, MAC1: mac1,
		KeyVersion: 0x01, AlgID: 0x00, DateTime: loadTime, TermNo: termNo}
	return li.AppendF55(nil), sk
}

func TestSmallWalletLoad(t *testing.T) {
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	c := newCard(t, "00000000"+cardOK)

	// First load of a new wallet: the 10.00 pre-charge.
	f55, sk := c.initForLoad(1000, false)
	resp, _ := send(t, s, s.WalletLoad(cardOK, 1000, f55))
	require.Equal(t, "00", posclient.RC(resp))
	mac2, ok, err := tlv.Find(resp.Bytes(55), 0xDF10)
	require.NoError(t, err)
	require.True(t, ok)
	want := pboc.MAC2(sk, 1000, termNo, loadTime)
	require.Equal(t, want[:], mac2)
	require.Equal(t, "WATER:0", string(resp.Bytes(63)))
	bs := balance54(t, resp)
	require.Len(t, bs, 2)
	require.Equal(t, int64(9000), bs[0].Amount)
	require.Equal(t, "20", string(bs[1].Account[:]))
	require.Equal(t, int64(1000), bs[1].Amount)
	c.balance, c.counter = 1000, 1 // CREDIT FOR LOAD succeeded

	// Showers spend 3.60 offline; the settlement loads it back.
	c.balance -= 360
	f55, _ = c.initForLoad(360, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 360, f55))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, "WATER:360", string(resp.Bytes(63)))
	require.Equal(t, int64(10000-1000-360), f.balance(1001))
	c.balance, c.counter = 1000, 2

	// The same (card, online counter) never loads twice.
	c.counter, c.balance = 1, 999
	f55, _ = c.initForLoad(1, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 1, f55))
	require.Equal(t, "12", posclient.RC(resp))
	c.balance, c.counter = 1000, 2

	// Over the wallet limit.
	c.balance = 700
	f55, _ = c.initForLoad(400, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 400, f55))
	require.Equal(t, "61", posclient.RC(resp))

	// A forged MAC1.
	f55, _ = c.initForLoad(300, true)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 300, f55))
	require.Equal(t, "A0", posclient.RC(resp))
	require.Equal(t, int64(10000-1360), f.balance(1001))

	// A load whose CREDIT FOR LOAD failed is reversed: the account gets
	// its money back and the next load comes at the same counter.
	f55, _ = c.initForLoad(300, false)
	m := s.WalletLoad(cardOK, 300, f55)
	resp, _ = send(t, s, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-1660), f.balance(1001))
	resp, _ = send(t, s, s.Reversal(m, "06"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-1360), f.balance(1001))
	f55, _ = c.initForLoad(300, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 300, f55))
	require.Equal(t, "00", posclient.RC(resp), "after a reversal the same counter loads")

	// Only settlement POS load wallets.
	p := f.signedIn("T0000001", 1)
	resp, _ = send(t, p, p.WalletLoad(cardOK, 100, f55))
	require.Equal(t, "12", posclient.RC(resp))

	// The water consumption is journaled as its own record.
	var water []int64
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Kind == store.KindWater {
				water = append(water, r.Amount)
				require.Equal(t, "Xiaoying bath house", r.Location)
			}
			return nil
		})
	}))
	// The reversed load's consumption stays: the water was used.
	require.Equal(t, []int64{0, 360, 300, 0}, water)
}
