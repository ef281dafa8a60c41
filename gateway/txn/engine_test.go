package txn_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func TestSignInAndEcho(t *testing.T) {
	f := newFixture(t)
	p := f.pos("T0000001")
	resp, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	for _, fld := range []int{11, 12, 13, 37, 39, 41, 42, 60, 62} {
		require.True(t, resp.Has(fld), "sign-in answer lacks field %d", fld)
	}
	require.Len(t, p.MAK, 8)
	require.Len(t, p.PIK, 16)

	// A new sign-in draws new keys and replaces the session.
	old := append([]byte(nil), p.MAK...)
	_, err = p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	require.NotEqual(t, old, p.MAK)

	resp, err = p.Echo(context.Background())
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
}

func TestUnknownTerminal(t *testing.T) {
	f := newFixture(t)
	p := f.pos("T0000001")
	p.ID = "T9999999"
	resp, err := p.SignIn(context.Background(), 1)
	require.Error(t, err)
	require.Equal(t, "03", posclient.RC(resp))

	p = f.pos("T0000001")
	p.Merchant = "M99999999999999"
	resp, _ = p.SignIn(context.Background(), 1)
	require.Equal(t, "03", posclient.RC(resp))
}

func TestCardPurchaseRules(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 7)

	resp, _ := send(t, p, p.CardPurchase(cardOK, 1250, nil))
	require.Equal(t, "00", posclient.RC(resp))
	for _, fld := range []int{37, 38, 39, 54, 64} {
		require.True(t, resp.Has(fld), "answer lacks field %d", fld)
	}
	require.Equal(t, int64(10000-1250), f.balance(1001))
	bs := balance54(t, resp)
	require.Equal(t, int64(8750), bs[0].Amount)
	require.Equal(t, "10", string(bs[0].Account[:]))

	cases := []struct {
		name   string
		card   string
		amount int64
		rc     string
	}{
		{"insufficient", cardPoor, 101, "51"},
		{"unknown card", cardNone, 100, "14"},
		{"lost", cardLost, 100, "41"},
		{"frozen", cardFrozen, 100, "62"},
		{"zero amount", cardOK, 0, "13"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := send(t, p, p.CardPurchase(tc.card, tc.amount, nil))
			require.Equal(t, tc.rc, posclient.RC(resp))
			require.False(t, resp.Has(38), "no authorization code on a decline")
		})
	}
	require.Equal(t, int64(100), f.balance(1004))
	require.Equal(t, int64(8750), f.balance(1001))
}

func TestNoSessionAndBadMAC(t *testing.T) {
	f := newFixture(t)
	p := f.pos("T0000001")
	p.MAK = make([]byte, 8) // never signed in
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
	require.Equal(t, byte(3), resp.Header.ProcessingRequirement())

	p = f.signedIn("T0000001", 1)
	good := p.MAK
	p.MAK = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	resp, _, err := p.Send(context.Background(), p.CardPurchase(cardOK, 100, nil), true)
	require.Error(t, err, "the A0 answer is MACed with the gateway's key, not ours")
	require.Equal(t, "A0", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001), "a request whose MAC fails is not executed")
	p.MAK = good
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
}

func TestRepeatedMACFailuresForceSignIn(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	good := p.MAK
	p.MAK = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for range 5 {
		resp, _, _ := p.Send(context.Background(), p.CardPurchase(cardOK, 100, nil), true)
		require.Equal(t, "A0", posclient.RC(resp))
	}
	p.MAK = good
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "77", posclient.RC(resp))
}

func TestProcessingCodeNotAllowed(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 100, nil)
	_ = m.SetUint(3, 210000) // a top-up from a canteen POS
	resp, _ := send(t, p, m)
	require.Equal(t, "12", posclient.RC(resp))

	k := f.signedIn("K0000001", 1)
	resp, _ = send(t, k, k.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "12", posclient.RC(resp), "kiosks do not sell")
}

func TestRetransmissionGetsOriginalAnswer(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 500, nil)
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	_, first, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	f.advance(3e9)
	for range 3 {
		_, again, err := p.SendRaw(context.Background(), req, m, true)
		require.NoError(t, err)
		require.True(t, bytes.Equal(first, again), "retransmission must get the original answer byte for byte")
	}
	require.Equal(t, int64(9500), f.balance(1001), "debited once")

	// After a restart too.
	f.restart()
	p.T = f.transport()
	_, again, err := p.SendRaw(context.Background(), req, m, true)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, int64(9500), f.balance(1001))
}

func TestRefund(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 3)
	buy := p.CardPurchase(cardOK, 1000, nil)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := buy.STAN()
	date := uint16(1126)

	resp, _ = send(t, p, p.Refund(cardOK, 400, 3, stan, date))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(9400), f.balance(1001))

	resp, _ = send(t, p, p.Refund(cardOK, 601, 3, stan, date))
	require.Equal(t, "13", posclient.RC(resp), "refunds never exceed the purchase")

	resp, _ = send(t, p, p.Refund(cardOK, 600, 3, stan, date))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))

	resp, _ = send(t, p, p.Refund(cardOK, 1, 3, 999, date))
	require.Equal(t, "25", posclient.RC(resp), "unknown original")
}

func TestReversal(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	buy := p.CardPurchase(cardOK, 700, nil)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(9300), f.balance(1001))

	rev := p.Reversal(buy, "98")
	resp, _ = send(t, p, rev)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))

	// Retransmitted reversal: nothing undone twice.
	resp, _ = send(t, p, rev)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))

	// A reversal whose original never arrived is approved and remembered;
	// the late original is declined 25.
	late := p.CardPurchase(cardOK, 300, nil)
	resp, _ = send(t, p, p.Reversal(late, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	resp, _ = send(t, p, late)
	require.Equal(t, "25", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))

	// A refund of a reversed purchase has no original.
	stan, _ := buy.STAN()
	resp, _ = send(t, p, p.Refund(cardOK, 100, 1, stan, 1126))
	require.Equal(t, "25", posclient.RC(resp))
}

func TestSettlement(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 5)
	b1 := p.CardPurchase(cardOK, 1000, nil)
	send(t, p, b1)
	send(t, p, p.CardPurchase(cardOK, 250, nil))
	s1, _ := b1.STAN()
	send(t, p, p.Refund(cardOK, 100, 5, s1, 1126))
	send(t, p, p.CardPurchase(cardPoor, 5000, nil)) // declined: not counted

	resp, _ := send(t, p, p.Settle(1250, 2, 100, 1))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, "0000000012500020000000001000011", resp.Digits(48))

	// The batch is closed: sign in again.
	resp, _ = send(t, p, p.CardPurchase(cardOK, 1, nil))
	require.Equal(t, "77", posclient.RC(resp))

	p2 := f.signedIn("T0000002", 9)
	send(t, p2, p2.CardPurchase(cardOK, 10, nil))
	resp, _ = send(t, p2, p2.Settle(11, 1, 0, 0))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, "0000000000110010000000000000002", resp.Digits(48), "not balanced")
}

func TestInquiryAndSessionSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CardInquiry(cardOK))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000), balance54(t, resp)[0].Amount)

	f.restart()
	p.T = f.transport()
	resp, _ = send(t, p, p.CardPurchase(cardOK, 1, nil))
	require.Equal(t, "00", posclient.RC(resp), "a restart signs no one out")
}

func TestMalformedFrames(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 100, nil)
	good, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)

	// Trailing garbage: MTI and STAN readable → 30.
	bad := append(append([]byte(nil), good...), 0xFF)
	bad[0], bad[1] = byte((len(bad)-2)>>8), byte(len(bad)-2)
	ans := f.eng.Handle(context.Background(), bad)
	require.NotNil(t, ans, "answered: the connection stays open")
	var r iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&r, ans))
	require.Equal(t, "30", string(r.Bytes(39)))
	require.Equal(t, iso8583.MTI(210), r.MTI)

	// Too short to hold a header: no answer, the connection is closed.
	ans = f.eng.Handle(context.Background(), []byte{0, 3, 0x60, 0, 1})
	require.Nil(t, ans)
	require.Equal(t, int64(10000), f.balance(1001))
}

func TestOfflineAdvice(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardPoor, 300, nil)
	m.MTI = 220
	resp, _ := send(t, p, m)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(-200), f.balance(1004), "the goods are gone: the account may go negative")
	resp, _ = send(t, p, m) // duplicate
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(-200), f.balance(1004))
	var exc int
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Kind == store.KindAdvice && r.Exception {
				exc++
			}
			return nil
		})
	}))
	require.Equal(t, 1, exc)
}

// One offline advice above limits.advice_max_fen is no sale a POS makes
// offline: 13, journaled as an exception, nothing debited.
func TestOfflineAdviceOverTheCap(t *testing.T) {
	f := newFixture(t, func(c *txn.Config) { c.Limits.AdviceMaxFen = 5000 })
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 5001, nil)
	m.MTI = 220
	resp, _ := send(t, p, m)
	require.Equal(t, "13", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))
	var recs []store.Record
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Kind == store.KindAdvice {
				recs = append(recs, *r)
			}
			return nil
		})
	}))
	require.Len(t, recs, 1)
	require.True(t, recs[0].Exception)
	require.Equal(t, "13", recs[0].Resp)
	require.Equal(t, int64(5001), recs[0].Amount)

	m = p.CardPurchase(cardOK, 5000, nil)
	m.MTI = 220
	resp, _ = send(t, p, m)
	require.Equal(t, "00", posclient.RC(resp), "at the cap it is debited")
	require.Equal(t, int64(5000), f.balance(1001))
}

// The default cap is 200.00.
func TestOfflineAdviceDefaultCap(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	m := p.CardPurchase(cardOK, 20001, nil)
	m.MTI = 220
	resp, _ := send(t, p, m)
	require.Equal(t, "13", posclient.RC(resp))
	require.Equal(t, int64(10000), f.balance(1001))
}

// A commit that failed after it may have reached the file leaves no
// answer safe to give: the engine answers nothing (the server closes the
// connection) from then on, so no 96 denies a sale a restart shows
// approved.
func TestUncertainCommitAnswersNothing(t *testing.T) {
	var fail atomic.Bool
	f := newFixture(t)
	require.NoError(t, f.db.Close())
	db, err := store.Open(f.path, store.Options{StorageKey: storeKey, FailAfterCommit: func() error {
		if fail.Load() {
			return errors.New("fsync: input/output error")
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	eng, err := txn.New(txn.Config{DB: db, Terminals: terminals(), Now: f.clock, WalletMasterKey: walletMK})
	require.NoError(t, err)
	f.db, f.eng = db, eng
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))

	fail.Store(true)
	m := p.CardPurchase(cardOK, 200, nil)
	req, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	require.Nil(t, eng.Handle(context.Background(), req), "no answer for a commit of unknown outcome")
	require.True(t, db.Broken())
	fail.Store(false)
	inq := p.CardInquiry(cardOK)
	req, err = iso8583.AppendFrame(nil, inq, p.MAK)
	require.NoError(t, err)
	require.Nil(t, eng.Handle(context.Background(), req), "nor for anything after it")
}

// A terminal removed from the table (or disabled) loses its session: added
// again, it must sign in; so does one whose master key changed. One that
// stays unchanged keeps its session.
func TestReloadEndsSessionsOfRemovedTerminals(t *testing.T) {
	f := newFixture(t)
	p1 := f.signedIn("T0000001", 1)
	p2 := f.signedIn("T0000002", 1)
	k := f.signedIn("K0000001", 1)
	all := terminals()
	var without []txn.Terminal
	for _, x := range all {
		if x.ID != "T0000001" {
			without = append(without, x)
		}
	}
	require.NoError(t, f.eng.SetTerminals(without))
	resp, _ := send(t, p1, p1.CardInquiry(cardOK))
	require.Equal(t, "03", posclient.RC(resp))
	require.NoError(t, f.eng.SetTerminals(all))
	resp, _, err := p1.Send(context.Background(), p1.CardInquiry(cardOK), false)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp), "back in the table, it must sign in again")

	// A changed master key ends the session too.
	rekeyed := terminals()
	for i := range rekeyed {
		if rekeyed[i].ID == "K0000001" {
			rekeyed[i].TMK = bytes.Repeat([]byte{0x42}, 16)
		}
	}
	require.NoError(t, f.eng.SetTerminals(rekeyed))
	resp, _, err = k.Send(context.Background(), k.CardInquiry(cardOK), false)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp))

	resp, _ = send(t, p2, p2.CardInquiry(cardOK))
	require.Equal(t, "00", posclient.RC(resp), "an unchanged terminal keeps its session")
	f.restart()
	p2.T = f.transport()
	resp, _ = send(t, p2, p2.CardInquiry(cardOK))
	require.Equal(t, "00", posclient.RC(resp))
}
