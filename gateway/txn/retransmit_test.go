package txn_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// A request that reuses an answered key (terminal, batch, STAN, MTI) with
// other content is not a retransmission: 94, journaled, nothing debited —
// not the original's "approved" for a sale that never happened.
func TestSameKeyOtherContentIs94(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	first := p.CardPurchase(cardOK, 500, nil)
	resp, _ := send(t, p, first)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := first.STAN()

	for _, tc := range []struct {
		name string
		m    *iso8583.Message
	}{
		{"other amount", p.CardPurchase(cardOK, 800, nil)},
		{"other card", p.CardPurchase(cardPoor, 500, nil)},
	} {
		require.NoError(t, tc.m.SetUint(11, uint64(stan)))
		resp, _ := send(t, p, tc.m)
		require.Equal(t, "94", posclient.RC(resp), tc.name)
		require.False(t, resp.Has(38), "no authorization code")
	}
	require.Equal(t, int64(9500), f.balance(1001), "debited once, by the first sale only")
	require.Equal(t, int64(100), f.balance(1004))

	var dups int
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Resp == "94" {
				dups++
				require.Equal(t, store.KindPurchase, r.Kind)
				require.Zero(t, r.Account, "nothing was done to any account")
				require.NotEmpty(t, r.Note)
				require.Equal(t, &store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: stan, MTI: 200}, r.Orig)
				require.Equal(t, uint16(8200), r.Key.MTI, "a key of its own")
				require.Equal(t, r.Seq, uint64(r.Key.STAN))
			}
			return nil
		})
	}))
	require.Equal(t, 2, dups, "each 94 is journaled")

	// The original's retransmission still gets the original answer.
	resp, _ = send(t, p, first)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(9500), f.balance(1001))
}

// The terminal's clock fields may change between copies of a request: a
// copy with a later field 12/13 is still a retransmission.
func TestRetransmissionWithNewClockFields(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 500, nil)
	resp, first := send(t, p, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.NoError(t, m.SetUint(12, 123456))
	require.NoError(t, m.SetUint(13, 1127))
	resp, again := send(t, p, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, first, again)
	require.Equal(t, int64(9500), f.balance(1001))
}

// A retransmission after the terminal signed in again (same batch) gets
// the original answer's content, MACed under the new MAK: under the old
// one the POS would refuse it and reverse the sale.
func TestRetransmissionAfterSignInIsMACedUnderNewKey(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 500, nil)
	resp, first := send(t, p, m)
	require.Equal(t, "00", posclient.RC(resp))
	oldMAK := bytes.Clone(p.MAK)

	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	require.NotEqual(t, oldMAK, p.MAK)
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	resp, again, err := p.SendRaw(context.Background(), req, m, true) // checks the answer's MAC under p.MAK
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, first[:len(first)-8], again[:len(again)-8], "same content")
	var d iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&d, again))
	want, err := mac.Sum(p.MAK, d.MAB())
	require.NoError(t, err)
	require.Equal(t, want[:], again[len(again)-8:])
	require.Equal(t, int64(9500), f.balance(1001))
}

// A reversal repeated with another reason (first "06", then "98") is the
// same reversal: a retransmission, not 94.
func TestReversalRepeatedWithAnotherReason(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	buy := p.CardPurchase(cardOK, 700, nil)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, p, p.Reversal(buy, "06"))
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, p, p.Reversal(buy, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))
}
