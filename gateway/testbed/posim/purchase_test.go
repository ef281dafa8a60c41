package posim

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/posclient"
)

var (
	testMAK8  = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	testMAK16 = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
)

// testTerm is a signed-in terminal without a connection, paying 250 fen
// with two cards in turn.
func testTerm(mak []byte) *simTerm {
	r := &runner{opts: Options{Amount: 250}, col: newCollector()}
	cards := []*Card{{Account: 1, Number: CardNumber(1)}, {Account: 2, Number: CardNumber(2)}}
	return &simTerm{run: r, term: posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001",
		MAK: append([]byte(nil), mak...), Batch: 7},
		mix: Mix{KindCard: 1}, total: 1, cards: cards, rng: rand.New(rand.NewPCG(1, 2))}
}

// answerTo is the gateway's answer to the request frame req: the
// request's echoed fields, response code rc, MACed under mak; edit, if
// not nil, changes the answer before it is framed.
func answerTo(t testing.TB, req []byte, rc string, mak []byte, edit func(*iso8583.Message)) []byte {
	t.Helper()
	var in, out iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&in, req))
	out.SetResponseFrom(&in, 2, 3, 4, 11, 12, 13, 25, 41, 42, 49, 60)
	require.NoError(t, out.SetString(39, rc))
	if edit != nil {
		edit(&out)
	}
	b, err := iso8583.AppendFrame(nil, &out, mak)
	require.NoError(t, err)
	return b
}

// TestCardPurchaseIsAMACed0200 decodes what a simulated terminal sends
// for a card purchase and verifies its MAC, for both MAK lengths (UnionPay
// ECB, ANSI X9.19) and for successive purchases.
func TestCardPurchaseIsAMACed0200(t *testing.T) {
	for name, mak := range map[string][]byte{"single MAK": testMAK8, "double MAK": testMAK16} {
		t.Run(name, func(t *testing.T) {
			st := testTerm(mak)
			at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			for i, card := range []string{CardNumber(1), CardNumber(2), CardNumber(1)} {
				p, err := st.build(KindCard, at.Add(time.Duration(i)*time.Second))
				require.NoError(t, err)
				req, err := st.encode(&p)
				require.NoError(t, err)

				var m iso8583.Message
				require.NoError(t, iso8583.DecodeFrame(&m, req))
				require.Equal(t, iso8583.MTI(200), m.MTI)
				proc, err := m.ProcCode()
				require.NoError(t, err)
				require.Zero(t, proc)
				stan, err := m.STAN()
				require.NoError(t, err)
				require.Equal(t, uint32(i+1), stan)
				require.Equal(t, card, m.Digits(2))
				amt, err := m.Amount()
				require.NoError(t, err)
				require.Equal(t, int64(250), amt)
				require.Equal(t, fmt.Sprintf("05060%d", 7+i), m.Digits(12), "local time of the given clock")
				require.Equal(t, "0304", m.Digits(13))
				require.Equal(t, "071", m.Digits(22))
				require.Equal(t, "156", string(m.Bytes(49)))
				require.Equal(t, "T0000001", string(m.TerminalID()))
				require.Equal(t, "M00000000000001", string(m.MerchantID()))
				require.Equal(t, uidTLV, m.Bytes(55))
				f60, err := m.F60()
				require.NoError(t, err)
				require.Equal(t, uint32(7), f60.Batch)

				require.True(t, m.Has(64), "a purchase is MACed")
				want, err := mac.Sum(mak, m.MAB())
				require.NoError(t, err)
				require.Equal(t, want[:], m.Raw(64), "the MAC verifies under the session MAK")

				// The MAC covers the request: another amount fails it.
				bad := bytes.Clone(req)
				off := bytes.Index(bad, []byte{0x00, 0x00, 0x00, 0x00, 0x02, 0x50})
				require.Positive(t, off)
				bad[off+5] = 0x51
				require.NoError(t, iso8583.DecodeFrame(&m, bad))
				want, err = mac.Sum(mak, m.MAB())
				require.NoError(t, err)
				require.NotEqual(t, want[:], m.Raw(64))
			}
		})
	}
}

// TestPurchaseMACFollowsANewSession: after a new sign-in (another MAK)
// the purchases and the answers' MACs are under the new key.
func TestPurchaseMACFollowsANewSession(t *testing.T) {
	st := testTerm(testMAK8)
	for _, mak := range [][]byte{testMAK8, {8, 7, 6, 5, 4, 3, 2, 1}, testMAK16, testMAK8} {
		st.term.MAK = append([]byte(nil), mak...) // what a sign-in does
		p, err := st.build(KindCard, time.Now())
		require.NoError(t, err)
		req, err := st.encode(&p)
		require.NoError(t, err)
		var m iso8583.Message
		require.NoError(t, iso8583.DecodeFrame(&m, req))
		want, err := mac.Sum(mak, m.MAB())
		require.NoError(t, err)
		require.Equal(t, want[:], m.Raw(64))
		rc, err := st.check(&p, answerTo(t, req, "00", mak, nil))
		require.NoError(t, err)
		require.Equal(t, "00", rc)
	}
}

// TestAnswerCheckCountsDeclinesAndErrors checks answers as a run does and
// wants approvals, declines and improper answers counted apart.
func TestAnswerCheckCountsDeclinesAndErrors(t *testing.T) {
	cases := []struct {
		name string
		rc   string
		mak  []byte
		edit func(*iso8583.Message)
		want string // response code; "" for an improper answer
	}{
		{"approved", "00", testMAK8, nil, "00"},
		{"insufficient funds", "51", testMAK8, nil, "51"},
		{"lost card", "41", testMAK8, nil, "41"},
		{"approved again", "00", testMAK8, nil, "00"},
		{"MAC under another key", "00", []byte{1, 2, 3, 4, 5, 6, 7, 8}, nil, ""},
		{"another STAN", "00", testMAK8, func(m *iso8583.Message) { _ = m.SetUint(11, 999) }, ""},
		{"another MTI", "00", testMAK8, func(m *iso8583.Message) { m.MTI = 110 }, ""},
		{"decline with a bad MAC", "51", []byte{1, 2, 3, 4, 5, 6, 7, 8}, nil, ""},
	}
	st := testTerm(testMAK8)
	for _, c := range cases {
		p, err := st.build(KindCard, time.Now())
		require.NoError(t, err)
		req, err := st.encode(&p)
		require.NoError(t, err)
		rc, err := st.check(&p, answerTo(t, req, c.rc, c.mak, c.edit))
		if c.want == "" {
			require.ErrorIs(t, err, ErrAnswer, c.name)
		} else {
			require.NoError(t, err, c.name)
			require.Equal(t, c.want, rc, c.name)
		}
		st.run.col.record(KindCard, time.Millisecond, rc, err)
	}
	// A truncated answer is not an answer either.
	p, err := st.build(KindCard, time.Now())
	require.NoError(t, err)
	req, err := st.encode(&p)
	require.NoError(t, err)
	ans := answerTo(t, req, "00", testMAK8, nil)
	_, err = st.check(&p, ans[:len(ans)-3])
	require.ErrorIs(t, err, ErrAnswer)
	st.run.col.record(KindCard, 0, "", err)

	r := st.run.col.result(time.Second)
	require.Equal(t, int64(9), r.Count)
	require.Equal(t, int64(2), r.Approved)
	require.Equal(t, int64(2), r.Declined)
	require.Equal(t, int64(5), r.Errors)
	require.Equal(t, map[string]int64{"00": 2, "51": 1, "41": 1}, r.Kinds["card"].RCs)
}

// BenchmarkCardPurchaseClient is a simulated terminal's own work per card
// purchase, without the network: build the 0200, frame and MAC it, decode
// and check the answer (MTI, STAN, MAC, response code).
func BenchmarkCardPurchaseClient(b *testing.B) {
	for name, mak := range map[string][]byte{"single MAK": testMAK8, "double MAK": testMAK16} {
		b.Run(name, func(b *testing.B) {
			st := testTerm(mak)
			// Every purchase gets STAN 1, so one answer answers them all.
			p, err := st.build(KindCard, time.Now())
			require.NoError(b, err)
			req, err := st.encode(&p)
			require.NoError(b, err)
			ans := answerTo(b, req, "00", mak, nil)
			b.ReportAllocs()
			for b.Loop() {
				st.term.STAN = 0
				p, err := st.build(KindCard, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.encode(&p); err != nil {
					b.Fatal(err)
				}
				if rc, err := st.check(&p, ans); err != nil || rc != "00" {
					b.Fatal(rc, err)
				}
			}
		})
	}
}

// TestTerminalSleepReusesItsTimer: a paced terminal sleeps before nearly
// every request, on its one timer (no allocation), and a cancelled run
// cuts a sleep short.
func TestTerminalSleepReusesItsTimer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &simTerm{run: &runner{ctx: ctx}}
	t0 := time.Now()
	require.True(t, st.sleep(20*time.Millisecond))
	require.GreaterOrEqual(t, time.Since(t0), 20*time.Millisecond)
	allocs := testing.AllocsPerRun(20, func() {
		if !st.sleep(10 * time.Microsecond) {
			t.Error("sleep cut short")
		}
	})
	require.Zero(t, allocs)

	time.AfterFunc(20*time.Millisecond, cancel)
	t0 = time.Now()
	require.False(t, st.sleep(time.Minute))
	require.Less(t, time.Since(t0), 30*time.Second)
}

// TestBuildAllocatesNothing: building any request that needs no new
// device (card, inquiry, payment codes, echo) allocates nothing once the
// terminal's messages have grown.
func TestBuildAllocatesNothing(t *testing.T) {
	st := testTerm(testMAK8)
	for _, k := range []Kind{KindCard, KindInquiry, KindWeChat, KindAlipay, KindEcho} {
		p, err := st.build(k, time.Now())
		require.NoError(t, err)
		_, err = st.encode(&p)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(50, func() {
			p, err := st.build(k, time.Now())
			if err == nil {
				_, err = st.encode(&p)
			}
			if err != nil {
				t.Error(err)
			}
		})
		require.Zero(t, allocs, "kind %v", k)
	}
}
