package txn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// fuzzEngine is one engine shared by a fuzz process: accounts imported,
// terminals signed in, a campus code issuer configured.
type fuzzEngine struct {
	eng   *txn.Engine
	db    *store.DB
	terms []*posclient.Terminal // T0000001 (POS), S0000001 (settlement), K0000001 (kiosk)
	code  string                // a valid campus code, as a seed
	now   time.Time
}

func newFuzzEngine(f *testing.F) *fuzzEngine {
	fe := &fuzzEngine{now: time.Now().UTC().Truncate(time.Second)}
	db, err := store.Open(filepath.Join(f.TempDir(), "gw.db"), store.Options{StorageKey: storeKey})
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })
	_, _, err = db.ImportAccounts(context.Background(), []store.Account{
		{No: 1001, Name: "Zhang San", CardNumber: cardOK, CardSerial: "00000000" + cardOK, BalanceFen: 10000, Status: store.StatusActive},
		{No: 1002, Name: "Li Si", CardNumber: cardLost, CardSerial: "00000000" + cardLost, BalanceFen: 5000, Status: store.StatusLost},
		{No: 1004, Name: "Zhao Liu", CardNumber: cardPoor, CardSerial: "00000000" + cardPoor, BalanceFen: 100, Status: store.StatusActive},
	})
	require.NoError(f, err)
	key, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(f, err)
	v, err := campuscode.NewVerifier(campuscode.Config{Validity: time.Hour, Skew: time.Hour, CacheSize: 16,
		Algorithms: []campuscode.Algorithm{campuscode.Ed25519}, Issuers: []campuscode.IssuerKey{key.IssuerKey()}})
	require.NoError(f, err)
	clock := func() time.Time { return fe.now }
	eng, err := txn.New(txn.Config{DB: db, Terminals: terminals(), Now: clock, WalletMasterKey: walletMK, Campus: v})
	require.NoError(f, err)
	fe.eng, fe.db = eng, db
	tr := posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return eng.Handle(ctx, req), nil
	})
	for _, id := range []string{"T0000001", "S0000001", "K0000001"} {
		for _, t := range terminals() {
			if t.ID == id {
				p := &posclient.Terminal{ID: t.ID, Merchant: t.Merchant, TMK: t.TMK, T: tr, Now: clock}
				_, err := p.SignIn(context.Background(), 1)
				require.NoError(f, err)
				fe.terms = append(fe.terms, p)
			}
		}
	}
	dev, err := issuer.NewDevice(key, 1, 1001, fe.now.Add(-time.Hour), fe.now.Add(time.Hour), rand.Reader)
	require.NoError(f, err)
	fe.code, err = dev.Code(fe.now)
	require.NoError(f, err)
	return fe
}

// knownRC is every response code the engine may answer.
var knownRC = []string{"00", "03", "12", "13", "14", "25", "30", "41", "51", "61", "62", "77", "91", "96", "98",
	"A0", "P1", "P2", "P3", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6"}

// FuzzEngineFields sends correctly framed and MAC'd requests whose
// contents are fuzzed (message type, processing code, amount, card number,
// field 55 card data, field 62 scanned text, field 61 original) from
// signed-in terminals, so that the input reaches the rules, the field 55
// TLV and campus code parsers and the wallet crypto rather than stopping
// at the MAC check. Every request gets an answer that decodes, answers it
// (MTI + 10, same STAN), carries a known response code and a MAC that
// verifies; no account balance goes negative.
func FuzzEngineFields(f *testing.F) {
	fe := newFuzzEngine(f)
	sync := syncF55("00000000"+cardOK, 0, 0)
	f.Add(uint8(0), uint16(200), uint32(0), int64(100), []byte(cardOK), []byte(nil), []byte(nil), uint32(0))
	f.Add(uint8(0), uint16(100), uint32(330000), int64(0), []byte(cardOK), sync, []byte(nil), uint32(0))
	f.Add(uint8(0), uint16(200), uint32(0), int64(100), []byte(nil), []byte(nil), []byte(fe.code), uint32(0))
	f.Add(uint8(0), uint16(100), uint32(310000), int64(0), []byte(nil), []byte(nil), []byte(fe.code), uint32(0))
	f.Add(uint8(0), uint16(200), uint32(200000), int64(50), []byte(cardOK), []byte(nil), []byte(nil), uint32(1<<20|1))
	f.Add(uint8(0), uint16(400), uint32(0), int64(100), []byte(cardOK), []byte(nil), []byte(nil), uint32(0))
	f.Add(uint8(1), uint16(200), uint32(190000), int64(1000), []byte(cardOK), sync, []byte(nil), uint32(0))
	f.Add(uint8(2), uint16(200), uint32(210000), int64(5000), []byte(nil), []byte(nil), []byte("134567890123456789"), uint32(0))
	f.Add(uint8(2), uint16(200), uint32(170000), int64(300), []byte(cardOK), []byte(nil), []byte("NET:1001"), uint32(0))
	f.Add(uint8(2), uint16(100), uint32(300000), int64(0), []byte(cardOK), []byte(nil), []byte(nil), uint32(0))
	f.Fuzz(func(t *testing.T, who uint8, mti uint16, proc uint32, amount int64, card, f55, f62 []byte, orig uint32) {
		p := fe.terms[int(who)%len(fe.terms)]
		mtis := []uint16{100, 200, 400}
		m := p.New(iso8583.MTI(mtis[int(mti)%len(mtis)]), int(proc%1_000_000), 0)
		if amount > 0 {
			_ = m.SetUint(4, uint64(amount%1_000_000_000_000))
		}
		if len(card) > 0 {
			if m.SetDigits(2, card) != nil {
				return
			}
			_ = m.SetDigits(22, []byte("071"))
		} else {
			_ = m.SetDigits(22, []byte("031"))
		}
		_ = m.SetUint(25, 0)
		_ = m.SetString(49, "156")
		if len(f55) > 0 && m.SetBytes(55, f55) != nil {
			return
		}
		if len(f62) > 0 && m.SetBytes(62, f62) != nil {
			return
		}
		if orig != 0 {
			_ = m.SetF61(iso8583.F61{Batch: orig >> 20 % 1_000_000, STAN: orig % 1_000_000, Date: 1126})
		}
		req, err := iso8583.AppendFrame(nil, m, p.MAK)
		if err != nil {
			return
		}
		fe.now = fe.now.Add(time.Second) // campus codes: a new second, a new replay key
		ans := fe.eng.Handle(context.Background(), req)
		require.NotNil(t, ans)
		var resp iso8583.Message
		require.NoError(t, iso8583.DecodeFrame(&resp, ans))
		require.Equal(t, m.MTI+10, resp.MTI)
		s0, _ := m.STAN()
		s1, err := resp.STAN()
		require.NoError(t, err)
		require.Equal(t, s0, s1)
		rc := string(resp.Bytes(39))
		require.True(t, slices.Contains(knownRC, rc), "unknown response code %q", rc)
		if resp.Has(64) {
			want := mac.ECB(p.MAK, resp.MAB())
			require.True(t, mac.Equal(want[:], resp.Raw(64)), "answer MAC")
		}
		if rc == "77" {
			// A settlement closed the batch or a rule signed the terminal
			// out: sign in again (one sign-in per fuzzed second keeps far
			// below the storm limit).
			_, err := p.SignIn(context.Background(), 1)
			require.NoError(t, err)
		}
		require.NoError(t, fe.db.View(func(tx *store.Tx) error {
			for _, no := range []uint64{1001, 1002, 1004} {
				a, _, err := tx.Account(no)
				if err != nil {
					return err
				}
				require.GreaterOrEqual(t, a.BalanceFen, int64(0), "account %d overdrawn", no)
			}
			return nil
		}))
	})
}

// FuzzEngineFrame hands the engine arbitrary message bytes (TPDU onwards)
// framed with a right LEN, as gateway/server hands it frames. The engine
// never panics nor writes into the request; a request that decodes is
// answered, and every answer is a frame that decodes with a known
// response code.
func FuzzEngineFrame(f *testing.F) {
	fe := newFuzzEngine(f)
	for _, p := range fe.terms {
		for _, m := range []*iso8583.Message{p.CardPurchase(cardOK, 100, nil), p.CardInquiry(cardOK),
			p.CodePurchase(fe.code, 10), p.New(800, -1, 3), p.New(820, -1, 301), p.New(800, -1, 390)} {
			req, err := iso8583.AppendFrame(nil, m, p.MAK)
			require.NoError(f, err)
			f.Add(req[2:])
		}
	}
	f.Add([]byte{0x60, 0, 0, 0, 0, 0x60, 0x31, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 0xFFFF {
			return
		}
		in := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(body)), uint16(len(body)))
		in = append(in, body...)
		frameCopy := bytes.Clone(in)
		ans := fe.eng.Handle(context.Background(), in)
		require.Equal(t, frameCopy, in, "the engine wrote into the request frame")
		var req iso8583.Message
		if iso8583.DecodeFrame(&req, in) == nil {
			require.NotNil(t, ans, "a request that decodes got no answer")
		}
		if ans == nil {
			return
		}
		var resp iso8583.Message
		require.NoError(t, iso8583.DecodeFrame(&resp, ans))
		require.True(t, slices.Contains(knownRC, string(resp.Bytes(39))), "unknown response code %q", resp.Bytes(39))
	})
}
