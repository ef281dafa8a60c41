package txn_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

type campusKit struct {
	ed, sm *issuer.Key
	cfg    func(*txn.Config)
}

func newCampusKit(t *testing.T) *campusKit {
	ed, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(t, err)
	sm, err := issuer.GenerateKey(campuscode.SM2, 2, rand.Reader)
	require.NoError(t, err)
	v, err := campuscode.NewVerifier(campuscode.Config{
		Validity: 60 * time.Second, Skew: 30 * time.Second, CacheSize: 100,
		Algorithms: []campuscode.Algorithm{campuscode.Ed25519, campuscode.SM2},
		Issuers:    []campuscode.IssuerKey{ed.IssuerKey(), sm.IssuerKey()},
	})
	require.NoError(t, err)
	return &campusKit{ed: ed, sm: sm, cfg: func(c *txn.Config) { c.Campus = v }}
}

func (k *campusKit) device(t *testing.T, key *issuer.Key, account uint64, now time.Time) *issuer.Device {
	d, err := issuer.NewDevice(key, key.IssuerKey().KeyID, account, now.Add(-24*time.Hour), now.Add(365*24*time.Hour), rand.Reader)
	require.NoError(t, err)
	return d
}

// syncF55 is what a POS reads from the card on the first tap.
func syncF55(serial string, wallet uint32, counter uint16) []byte {
	var s [10]byte
	for i := 0; i < 10; i++ {
		s[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	b := tlv.Append(nil, 0xDF01, []byte{0x04, 0x11, 0x22, 0x33})
	b = tlv.Append(b, 0xDF02, s[:])
	b = tlv.Append(b, 0xDF04, []byte{byte(wallet >> 24), byte(wallet >> 16), byte(wallet >> 8), byte(wallet)})
	return tlv.Append(b, 0xDF05, []byte{byte(counter >> 8), byte(counter)})
}

func cardSync(p *posclient.Terminal, card, serial string) *iso8583.Message {
	m := p.New(100, 330000, 0)
	posclient.SetCard(m, card)
	_ = m.SetBytes(55, syncF55(serial, 0, 0))
	return m
}

func TestCampusCodeNeedsFirstTapThenPaysOnce(t *testing.T) {
	kit := newCampusKit(t)
	f := newFixture(t, kit.cfg)
	p := f.signedIn("T0000001", 1)
	p2 := f.signedIn("T0000002", 1)

	for _, key := range []*issuer.Key{kit.ed, kit.sm} {
		t.Run(key.Alg().String(), func(t *testing.T) {
			// The replay key is (account, generated-at, counter): a second
			// device of the same account must not show the same second and
			// counter, so let the clock move on.
			f.advance(2 * time.Second)
			dev := kit.device(t, key, 1001, f.clock())
			code, err := dev.Code(f.clock())
			require.NoError(t, err)
			if !f.account(1001).ECardActive {
				resp, _ := send(t, p, p.CodePurchase(code, 100))
				require.Equal(t, "Q6", posclient.RC(resp), "electronic card not active before the first tap")

				resp, _ = send(t, p, cardSync(p, cardOK, "00000000"+cardOK))
				require.Equal(t, "00", posclient.RC(resp))
				require.True(t, f.account(1001).ECardActive)
				resp, _ = send(t, p, cardSync(p, cardOK, "00000000"+cardOK))
				require.Equal(t, "00", posclient.RC(resp), "syncing again is harmless")
			}
			before := f.balance(1001)
			buy := p.CodePurchase(code, 100)
			resp, first := send(t, p, buy)
			require.Equal(t, "00", posclient.RC(resp))
			require.Equal(t, "CAMPUS", string(resp.Bytes(44)))
			require.Equal(t, before-100, f.balance(1001))

			// The same code at another terminal is a replay.
			resp, _ = send(t, p2, p2.CodePurchase(code, 100))
			require.Equal(t, "Q4", posclient.RC(resp))
			// The same request again (same terminal, batch, STAN) is a
			// retransmission: the original answer, not Q4.
			req, err := iso8583.AppendFrame(nil, buy, p.MAK)
			require.NoError(t, err)
			_, again, err := p.SendRaw(context.Background(), req, buy, true)
			require.NoError(t, err)
			require.Equal(t, first, again)
			require.Equal(t, before-100, f.balance(1001))

			// A fresh code pays; an inquiry by code answers the balance.
			code2, _ := dev.Code(f.clock())
			resp, _ = send(t, p2, p2.CodeInquiry(code2))
			require.Equal(t, "00", posclient.RC(resp))
			require.Equal(t, before-100, balance54(t, resp)[0].Amount)
		})
	}
}

func TestCampusCodeConcurrentScansApproveExactlyOne(t *testing.T) {
	kit := newCampusKit(t)
	f := newFixture(t, kit.cfg)
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, cardSync(p, cardOK, "00000000"+cardOK))
	require.Equal(t, "00", posclient.RC(resp))
	dev := kit.device(t, kit.ed, 1001, f.clock())
	code, err := dev.Code(f.clock())
	require.NoError(t, err)

	terms := []string{"T0000001", "T0000002", "S0000001"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	rcs := map[string]int{}
	for _, id := range terms {
		term := f.signedIn(id, 1)
		for range 5 {
			wg.Add(1)
			m := term.CodePurchase(code, 50)
			req, err := iso8583.AppendFrame(nil, m, term.MAK)
			require.NoError(t, err)
			go func() {
				defer wg.Done()
				resp, _, err := term.SendRaw(context.Background(), req, m, true)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				rcs[posclient.RC(resp)]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	require.Equal(t, 1, rcs["00"], "exactly one approval: %v", rcs)
	require.Equal(t, 14, rcs["Q4"], "%v", rcs)
	require.Equal(t, int64(10000-50), f.balance(1001))

	// After a restart the code is still used.
	f.restart(kit.cfg)
	p = f.signedIn("T0000001", 2) // a new batch: STANs restart
	resp, _ = send(t, p, p.CodePurchase(code, 50))
	require.Equal(t, "Q4", posclient.RC(resp))
}

func TestScannedCodeClassification(t *testing.T) {
	kit := newCampusKit(t)
	f := newFixture(t, kit.cfg)
	p := f.signedIn("T0000001", 1)
	cases := map[string]string{
		"hello":                 "P3",
		"134567890123456789":    "91", // WeChat: no payment service configured
		"2812345678901234":      "91", // Alipay
		"6212345678901234567":   "91", // UnionPay
		"CC1:NOT-BASE45-%%%%%%": "Q1",
		"99123456789012345678":  "P3",
	}
	for code, rc := range cases {
		resp, _ := send(t, p, p.CodePurchase(code, 100))
		require.Equal(t, rc, posclient.RC(resp), code)
	}
	require.Equal(t, store.ChannelWeChat, txn.ClassifyCode([]byte("104567890123456789")))
	require.Empty(t, txn.ClassifyCode([]byte("164567890123456789")))
	require.Equal(t, store.ChannelAlipay, txn.ClassifyCode([]byte("300000000000000000000000")))
	require.Empty(t, txn.ClassifyCode([]byte("6212345678901234")), "16 digits starting 62 is not Alipay")
}
