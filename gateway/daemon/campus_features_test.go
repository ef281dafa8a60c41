package daemon_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
)

// walletInit is the card side of INITIALIZE FOR LOAD for the demo master
// load key of writeGatewayFiles, packed into field 55.
func walletInit(t *testing.T, card string, balance uint32, counter uint16, amount uint32, badMAC bool) []byte {
	serial := "00000000" + card
	var s [10]byte
	for i := range s {
		s[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	master := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	key, err := pboc.DeriveCardKey(master, s[:])
	require.NoError(t, err)
	rnd := [4]byte{1, 2, 3, byte(counter)}
	term := [6]byte{0, 0, 0, 0, 0, 1}
	sk := pboc.SessionKey(key, rnd, counter)
	mac1 := pboc.MAC1(sk, balance, amount, term)
	if badMAC {
		mac1[3] ^= 1
	}
	li := posclient.LoadInit{Serial: s, Balance: balance, Counter: counter, Random: rnd, MAC1: mac1,
		KeyVersion: 1, AlgID: 0, DateTime: [7]byte{0x20, 0x26, 0x11, 0x26, 0x12, 0, 0}, TermNo: term}
	return li.AppendF55(nil)
}

func cardReq(p *posclient.Terminal, mti iso8583.MTI, proc int, card string, amount int64) *iso8583.Message {
	m := p.New(mti, proc, 0)
	posclient.SetCard(m, card)
	if amount > 0 {
		posclient.SetAmount(m, amount)
	}
	return m
}

// TestCampusFeaturesOverTCP runs the campus features through the real
// server: small-wallet loads at a settlement POS (limit, bad MAC1, counter
// reuse), kiosk fees (and a malformed target), recent transactions,
// offline advice (duplicate), and an unbalanced settlement.
func TestCampusFeaturesOverTCP(t *testing.T) {
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: "" +
		"  - {id: S0000001, merchant: M00000000000002, type: settlement, location: Xiaoying bath house}\n" +
		"  - {id: K0000001, merchant: M00000000000003, type: kiosk}\n"})
	// The extra terminals need master keys too.
	keys := filepath.Join(dir, "keys.yaml")
	k, err := readFile(keys)
	require.NoError(t, err)
	k = strings.Replace(k, "terminals:\n", "terminals:\n  S0000001: 112233445566778899AABBCCDDEEF001\n  K0000001: 112233445566778899AABBCCDDEEF001\n", 1)
	require.NoError(t, writeFile(keys, k))
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	dial := func(id, merchant string) *posclient.Terminal {
		p, _ := g.dial(1)
		p.ID, p.Merchant = id, merchant
		_, err := p.SignIn(ctx, 1)
		require.NoError(t, err)
		return p
	}
	s := dial("S0000001", "M00000000000002")
	kiosk := dial("K0000001", "M00000000000003")
	pos := dial(termOf(1), "M00000000000001")
	rc := func(p *posclient.Terminal, m *iso8583.Message) *iso8583.Message {
		resp, _, err := p.Send(ctx, m, true)
		require.NoError(t, err)
		return resp
	}
	card := cardOf(1)

	m := cardReq(s, 200, 190000, card, 1000)
	_ = m.SetBytes(55, walletInit(t, card, 0, 0, 1000, false))
	resp := rc(s, m)
	require.Equal(t, "00", posclient.RC(resp), "first load: the 10.00 pre-charge")
	require.Equal(t, "WATER:0", string(resp.Bytes(63)))

	m = cardReq(s, 200, 190000, card, 500)
	_ = m.SetBytes(55, walletInit(t, card, 600, 1, 500, false))
	require.Equal(t, "61", posclient.RC(rc(s, m)), "balance + amount above 10.00")
	m = cardReq(s, 200, 190000, card, 400)
	_ = m.SetBytes(55, walletInit(t, card, 600, 1, 400, true))
	require.Equal(t, "A0", posclient.RC(rc(s, m)), "bad MAC1")
	m = cardReq(s, 200, 190000, card, 400)
	_ = m.SetBytes(55, walletInit(t, card, 600, 0, 400, false))
	require.Equal(t, "12", posclient.RC(rc(s, m)), "online counter already used")
	m = cardReq(s, 200, 190000, card, 400)
	_ = m.SetBytes(55, walletInit(t, card, 600, 1, 400, false))
	resp = rc(s, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, "WATER:400", string(resp.Bytes(63)))
	require.Equal(t, int64(10000-1400), g.balance(1))

	m = cardReq(kiosk, 200, 170000, card, 300)
	_ = m.SetString(63, "ELEC:B12-305")
	require.Equal(t, "00", posclient.RC(rc(kiosk, m)))
	m = cardReq(kiosk, 200, 170000, card, 300)
	_ = m.SetString(63, "ELEC:B12")
	require.Equal(t, "30", posclient.RC(rc(kiosk, m)), "malformed fee target")
	m = cardReq(kiosk, 100, 300000, card, 0)
	resp = rc(kiosk, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, byte(3), resp.Bytes(62)[0], "two loads and a fee")

	adv := cardReq(pos, 220, 0, cardOf(2), 12000)
	require.Equal(t, "00", posclient.RC(rc(pos, adv)), "offline advice is always taken")
	require.Equal(t, "00", posclient.RC(rc(pos, adv)), "a duplicate advice")
	require.Equal(t, int64(10000-12000), g.balance(2), "applied once; the account may go negative")

	resp = rc(s, s.Settle(1400, 2, 0, 0))
	require.Equal(t, byte('1'), resp.Digits(48)[30], "the settlement POS is balanced")
	resp = rc(pos, pos.Settle(1, 1, 0, 0))
	require.Equal(t, byte('2'), resp.Digits(48)[30], "the canteen POS is not")
}
