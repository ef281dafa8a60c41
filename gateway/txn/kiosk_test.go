package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

func fee(k *posclient.Terminal, card string, amount int64, target string) *iso8583.Message {
	m := k.New(200, 170000, 0)
	posclient.SetCard(m, card)
	posclient.SetAmount(m, amount)
	_ = m.SetString(63, target)
	return m
}

func history(k *posclient.Terminal, card string) *iso8583.Message {
	m := k.New(100, 300000, 0)
	posclient.SetCard(m, card)
	return m
}

func topUp(k *posclient.Terminal, card string, amount int64, code string) *iso8583.Message {
	m := k.New(200, 210000, 0)
	_ = m.SetDigits(2, []byte(card))
	_ = m.SetUint(4, uint64(amount))
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	_ = m.SetString(62, code)
	return m
}

func TestFeePayment(t *testing.T) {
	f := newFixture(t)
	k := f.signedIn("K0000001", 1)
	resp, _ := send(t, k, fee(k, cardOK, 3000, "NET:20260001"))
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, k, fee(k, cardOK, 1500, "ELEC:B12-305"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-4500), f.balance(1001))
	for _, bad := range []string{"NET:", "NET:12ab", "ELEC:B12", "ELEC:-305", "GAS:1", "ELEC:B12-30/5"} {
		resp, _ = send(t, k, fee(k, cardOK, 100, bad))
		require.Equal(t, "30", posclient.RC(resp), bad)
	}
	resp, _ = send(t, k, fee(k, cardPoor, 101, "NET:1"))
	require.Equal(t, "51", posclient.RC(resp))
	require.True(t, txn.ValidFeeTarget("ELEC:A-1"))
}

func TestRecentTransactions(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	for i := 1; i <= 12; i++ {
		resp, _ := send(t, p, p.CardPurchase(cardOK, int64(i), nil))
		require.Equal(t, "00", posclient.RC(resp))
	}
	send(t, p, p.CardPurchase(cardOK, 1_000_000, nil)) // declined: not listed
	k := f.signedIn("K0000001", 1)
	resp, _ := send(t, k, history(k, cardOK))
	require.Equal(t, "00", posclient.RC(resp))
	v := resp.Bytes(62)
	require.Equal(t, 10, int(v[0]))
	require.Len(t, v, 1+10*26)
	rec := v[1:27] // newest first: the 12-fen purchase
	require.Equal(t, []byte{0x00, 0x00, 0x00}, rec[7:10], "processing code 000000")
	require.Equal(t, []byte{0, 0, 0, 0, 0, 0x12}, rec[10:16], "amount n12")
	require.Equal(t, "00T0000001", string(rec[16:26]))
	require.Equal(t, []byte{0x20, 0x26, 0x11, 0x26, 0x12, 0x30, 0x00}, rec[0:7], "local time (UTC+8)")

	resp, _ = send(t, p, history(p, cardOK))
	require.Equal(t, "12", posclient.RC(resp), "canteen POS do not list history")
}

func TestTopUpWithoutPaymentService(t *testing.T) {
	f := newFixture(t)
	k := f.signedIn("K0000001", 1)
	resp, _ := send(t, k, topUp(k, cardOK, 99901, "134567890123456789"))
	require.Equal(t, "13", posclient.RC(resp), "over 999.00")
	resp, _ = send(t, k, topUp(k, cardOK, 0, "134567890123456789"))
	require.Equal(t, "13", posclient.RC(resp))
	resp, _ = send(t, k, topUp(k, cardOK, 5000, "134567890123456789"))
	require.Equal(t, "91", posclient.RC(resp), "no payments.url: third-party payments are 91")
	resp, _ = send(t, k, topUp(k, cardOK, 5000, "hello"))
	require.Equal(t, "P3", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))
}
