package txn_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/hexfix"
	"ecardgw/codec/iso8583"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// goldenFrames holds the annotated request and answer frames
// (testdata/frames/README.md) that docs/protocol.md shows vendors.
const goldenFrames = "../../testdata/frames"

// What the frames were made with (testdata/frames/README.md and the
// frames' own comments). Test keys only.
var (
	goldenTMK = goldenHex("11223344556677888877665544332211")
	// A sign-in draws 24 random bytes: the PIK (16), then the MAK (8).
	goldenWorkKeys = goldenHex("89ABCDEF01234567FEDCBA9876543210" + "0123456789ABCDEF")
	goldenLoadKey  = goldenHex("404142434445464748494A4B4C4D4E4F")
	// The campus code issuer's Ed25519 seed is 00 01 .. 1F (key id 1).
	goldenIssuerSeed = func() []byte {
		s := make([]byte, ed25519.SeedSize)
		for i := range s {
			s[i] = byte(i)
		}
		return s
	}()
)

const (
	goldenAccountNo = 2023001234
	goldenCard      = "200001234567"
	goldenSerial    = "86100001200001234567" // DF02 of the frames; the card number is its last 12 digits
)

// goldenZone is the terminals' local time (fields 12 and 13).
var goldenZone = time.FixedZone("CST", 8*3600)

// TestGoldenFrames feeds every request frame of testdata/frames through
// the engine and requires its answer frame byte for byte. Each story is a
// fresh engine on its own store with a fixed clock and random source; a
// story sets up what its frames presuppose (accounts, sign-ins, the
// blacklist, earlier transactions) through the engine, or through the
// store API where the engine has no way in, and answers its frames in
// order, each at the time its answer carries.
func TestGoldenFrames(t *testing.T) {
	frames, err := hexfix.ParseDir(goldenFrames)
	require.NoError(t, err)
	require.NotEmpty(t, frames)
	byName := map[string][]byte{}
	for _, fx := range frames {
		byName[strings.TrimSuffix(fx.Name, ".txt")] = fx.Bytes
	}

	answered := map[string]bool{}
	for _, st := range goldenStories {
		t.Run(st.name, func(t *testing.T) {
			g := newGoldenRun(t, byName)
			// Also when the story stops early, so that its frames are
			// not reported as in no story.
			defer func() {
				for name := range g.answered {
					if answered[name] {
						t.Errorf("%s is answered by two stories", name)
					}
					answered[name] = true
				}
			}()
			st.run(g)
		})
	}

	// Every request frame has an answer frame and a story that checks it.
	requests := goldenRequests(t, byName)
	require.NotEmpty(t, requests)
	for _, name := range requests {
		_, ok := byName[goldenAnswerName(t, name)]
		require.True(t, ok, "request %s has no answer frame %s", name, goldenAnswerName(t, name))
		require.True(t, answered[name], "request %s is in no story of TestGoldenFrames", name)
	}
	require.Len(t, answered, len(requests), "a story answers a frame that is not a request")
}

// goldenValidName is a valid frame's name: <MTI>-<what>.
var goldenValidName = regexp.MustCompile(`^[0-9]{4}-[a-z0-9-]+$`)

// goldenRequests lists the request frames (third MTI digit even), sorted.
func goldenRequests(t *testing.T, byName map[string][]byte) []string {
	t.Helper()
	var out []string
	for name := range byName {
		if !goldenValidName.MatchString(name) {
			continue
		}
		if (name[2]-'0')%2 == 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// goldenAnswerName is the answer frame's name: the MTI + 10.
func goldenAnswerName(t *testing.T, request string) string {
	t.Helper()
	mti, err := strconv.Atoi(request[:4])
	require.NoError(t, err)
	return fmt.Sprintf("%04d%s", mti+10, request[4:])
}

// goldenRun is one story: an engine on its own store, its clock, and the
// frames it answered.
type goldenRun struct {
	t        *testing.T
	frames   map[string][]byte
	db       *store.DB
	eng      *txn.Engine
	mu       sync.Mutex
	now      time.Time
	answered map[string]bool
}

func newGoldenRun(t *testing.T, frames map[string][]byte) *goldenRun {
	g := &goldenRun{t: t, frames: frames, answered: map[string]bool{},
		now: time.Date(2026, 11, 26, 12, 0, 0, 0, goldenZone)}
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	verifier, err := campuscode.NewVerifier(campuscode.Config{
		Validity: 60 * time.Second, Skew: 30 * time.Second,
		Algorithms: []campuscode.Algorithm{campuscode.Ed25519},
		Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: campuscode.Ed25519,
			PublicKey: ed25519.NewKeyFromSeed(goldenIssuerSeed).Public().(ed25519.PublicKey)}},
	})
	require.NoError(t, err)
	eng, err := txn.New(txn.Config{
		DB:              db,
		Terminals:       goldenTerminals(),
		Now:             g.clock,
		Rand:            &goldenRand{},
		Campus:          verifier,
		WalletMasterKey: goldenLoadKey,
		Payments:        goldenChannel{},
	})
	require.NoError(t, err)
	g.db, g.eng = db, eng
	return g
}

// goldenTerminals are the frames' terminals, all with T0000001's master key.
func goldenTerminals() []txn.Terminal {
	return []txn.Terminal{
		{ID: "T0000001", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: goldenTMK, Location: "canteen 1"},
		{ID: "T0000002", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: goldenTMK, Location: "canteen 1"},
		{ID: "S0000001", Merchant: "M00000000000002", Type: txn.TypeSettlement, TMK: goldenTMK, Location: "bath house"},
		{ID: "K0000001", Merchant: "M00000000000003", Type: txn.TypeKiosk, TMK: goldenTMK, Location: "library"},
		{ID: "T0000003", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: goldenTMK, Location: "canteen 1", DoubleMAK: true},
	}
}

func (g *goldenRun) clock() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

// at sets the clock to a local time on 26 November 2026 ("12:30:01"), or
// on another day ("2026-11-25 18:30:44").
func (g *goldenRun) at(local string) {
	g.t.Helper()
	layout := "15:04:05"
	if len(local) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	tm, err := time.ParseInLocation(layout, local, goldenZone)
	require.NoError(g.t, err)
	if layout == "15:04:05" {
		tm = time.Date(2026, 11, 26, tm.Hour(), tm.Minute(), tm.Second(), 0, goldenZone)
	}
	g.mu.Lock()
	g.now = tm
	g.mu.Unlock()
}

// answer sends the request frame name at the local time when the
// gateway answers it, and requires the answer frame byte for byte.
func (g *goldenRun) answer(local, name string) {
	g.t.Helper()
	req, ok := g.frames[name]
	require.True(g.t, ok, "no frame %s", name)
	want, ok := g.frames[goldenAnswerName(g.t, name)]
	require.True(g.t, ok, "no answer frame for %s", name)
	g.at(local)
	got := g.eng.Handle(context.Background(), req)
	g.answered[name] = true
	g.t.Run(name, func(t *testing.T) {
		require.NotNil(t, got, "no answer: the connection would be closed")
		require.Equal(t, goldenFields(t, want), goldenFields(t, got), "answer to %s, field by field", name)
		require.Equal(t, want, got, "answer to %s, byte for byte", name)
	})
}

// goldenFields lists a frame's header and fields as text, so that a
// mismatch names the field that differs.
func goldenFields(t *testing.T, raw []byte) string {
	t.Helper()
	var m iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&m, raw))
	var b strings.Builder
	fmt.Fprintf(&b, "TPDU % X\nheader % X\nMTI %s\n", m.Header.TPDU, m.Header.Head, m.MTI)
	for f := 2; f <= 64; f++ {
		if m.Has(f) {
			fmt.Fprintf(&b, "F%d % X\n", f, m.Raw(f))
		}
	}
	return b.String()
}

// pos is a terminal on the engine for the steps a story needs that no
// frame records.
func (g *goldenRun) pos(id string) *posclient.Terminal {
	g.t.Helper()
	for _, term := range goldenTerminals() {
		if term.ID == id {
			return &posclient.Terminal{ID: term.ID, Merchant: term.Merchant, TMK: term.TMK, Now: g.clock,
				T: posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
					return g.eng.Handle(ctx, req), nil
				})}
		}
	}
	g.t.Fatalf("no terminal %s", id)
	return nil
}

// signedIn is pos signed in for batch; with the fixed random source its
// MAK is the frames' MAK too.
func (g *goldenRun) signedIn(id string, batch uint32) *posclient.Terminal {
	g.t.Helper()
	p := g.pos(id)
	_, err := p.SignIn(context.Background(), batch)
	require.NoError(g.t, err)
	require.Equal(g.t, goldenWorkKeys[16:], p.MAK)
	return p
}

// approved sends m from p and requires 00.
func (g *goldenRun) approved(p *posclient.Terminal, m *iso8583.Message) *iso8583.Message {
	g.t.Helper()
	resp, _, err := p.Send(context.Background(), m, true)
	require.NoError(g.t, err)
	require.Equal(g.t, "00", posclient.RC(resp))
	return resp
}

// account imports the frames' account with the given balance.
func (g *goldenRun) account(balanceFen int64, serial string) {
	g.t.Helper()
	_, _, err := g.db.ImportAccounts(context.Background(), []store.Account{{No: goldenAccountNo, Name: "Zhang San",
		StaffNo: "2023001234", CardNumber: goldenCard, CardSerial: serial, BalanceFen: balanceFen, Status: store.StatusActive}})
	require.NoError(g.t, err)
}

// blacklist adds the cards to the blacklist (or removes them), one
// version each, as a reported loss does, and tells the engine.
func (g *goldenRun) blacklist(add bool, cards ...string) {
	g.t.Helper()
	var ver uint32
	require.NoError(g.t, g.db.Update(context.Background(), func(tx *store.Tx) error {
		for _, c := range cards {
			v, err := tx.BlacklistAdd(c, add, g.clock())
			if err != nil {
				return err
			}
			ver = v
		}
		return nil
	}))
	g.eng.BlacklistChanged(ver)
}

// goldenStories answer every request frame. The frames tell one
// canteen's day; where two frames cannot both be true of one store (the
// kiosk's history shows other purchases than the canteen POS made) they
// are in separate stories.
var goldenStories = []struct {
	name string
	run  func(g *goldenRun)
}{
	{"canteen POS T0000001, batch 000001", func(g *goldenRun) {
		g.account(50000, "") // the physical card has not been tapped yet
		// Versions 1–10 of the blacklist; the terminal holds version 7.
		g.blacklist(true, "200001230001", "200001230002", "200001230003", "200001230004",
			"200001230005", "200001230006", "200001230007", "200001234501", "200001239876")
		g.blacklist(false, "200001230007")

		g.answer("12:30:01", "0800-signin")
		g.answer("12:30:03", "0800-blacklist")
		g.answer("12:30:05", "0820-echo")
		g.answer("12:30:08", "0100-balance-card")
		g.answer("12:30:10", "0100-cardsync")
		g.answer("12:30:12", "0100-balance-campuscode")

		// A loss reported during the sale: its answer asks the terminal to
		// download the blacklist, which it does when the sale is finished.
		g.at("12:30:14")
		g.blacklist(true, "200001230011")
		g.answer("12:30:16", "0200-purchase-card")
		g.at("12:30:17")
		p := g.pos("T0000001")
		p.Batch, p.STAN = 1, 900 // the frames' STANs are the sale's; 0800 has no idempotency key
		dl := p.New(800, -1, 390)
		require.NoError(g.t, dl.SetBytes(62, []byte{0, 0, 0, 10}))
		resp, _, err := p.Send(context.Background(), dl, false)
		require.NoError(g.t, err)
		require.Equal(g.t, "00", posclient.RC(resp))
		require.Equal(g.t, []byte{0, 0, 0, 11, 0, 0x20, 0x00, 0x01, 0x23, 0x00, 0x11, 1}, resp.Bytes(62))

		g.answer("12:30:21", "0200-purchase-campuscode")
		g.answer("12:30:58", "0200-purchase-alipay")
		g.answer("12:30:58", "0200-purchase-wechat")
		g.answer("12:30:58", "0200-purchase-unionpay")
		g.answer("12:35:11", "0200-refund")
		g.answer("12:50:01", "0220-offline")
		g.answer("12:52:10", "0400-reversal")
		// Debits: 12.50 card, 8.00 campus code, 15.00 + 22.00 + 30.00
		// payment codes, 6.50 offline; credits: the 5.00 refund.
		g.answer("18:00:02", "0500-settlement-balanced")
		g.answer("18:01:02", "0820-signout")
	}},
	{"settlement POS S0000001, small-wallet load", func(g *goldenRun) {
		g.account(48450, goldenSerial)
		// The wallet was last loaded to 10.00 and 3.50 of water has been
		// drawn since; the card's online counter is 7. Only a load by the
		// engine sets this, so it is written through the store.
		require.NoError(g.t, g.db.Update(context.Background(), func(tx *store.Tx) error {
			a, ok, err := tx.Account(goldenAccountNo)
			if err != nil || !ok {
				return errors.Join(err, errors.New("no account"))
			}
			a.Wallet = store.Wallet{Balance: 650, Counter: 7, LastLoadBalance: 1000, Loaded: true,
				LastLoadAt: time.Date(2026, 11, 20, 9, 0, 0, 0, goldenZone)}
			return tx.PutAccount(&a)
		}))
		g.at("12:40:00")
		g.signedIn("S0000001", 1)
		g.answer("12:40:06", "0200-load-water")
	}},
	{"kiosk K0000001, history, top-up and fees", func(g *goldenRun) {
		g.account(38850, "")
		g.at("2026-11-25 18:30:00")
		k := g.signedIn("K0000001", 1)
		g.at("2026-11-25 18:30:44")
		up := k.New(200, txn.PCTopUp, 0)
		posclient.SetCard(up, goldenCard)
		require.NoError(g.t, up.SetDigits(22, []byte("031")))
		posclient.SetAmount(up, 10000)
		require.NoError(g.t, up.SetString(62, "281234567890123456"))
		g.approved(k, up) // 488.50

		g.at("12:30:01")
		p := g.signedIn("T0000001", 1)
		g.at("12:30:15")
		buy := p.CardPurchase(goldenCard, 1250, nil)
		g.approved(p, buy) // 476.00
		stan, err := buy.STAN()
		require.NoError(g.t, err)
		g.at("12:35:10")
		g.approved(p, p.Refund(goldenCard, 500, 1, stan, 1126)) // 481.00

		g.answer("12:45:02", "0100-recent")
		g.answer("12:45:14", "0200-topup")
		g.answer("12:45:52", "0200-fee-net")
		g.answer("12:45:52", "0200-fee-elec")
	}},
	{"canteen POS T0000002, batch 000003", func(g *goldenRun) {
		g.account(50000, "")
		g.at("17:00:00")
		p := g.signedIn("T0000002", 3)
		g.at("17:20:00")
		// The gateway saw one purchase of this batch; the terminal
		// counts ten.
		g.approved(p, p.CardPurchase(goldenCard, 1200, nil))
		g.answer("18:03:02", "0500-settlement-unbalanced")
	}},
	{"canteen POS T0000003, double-length MAK", func(g *goldenRun) {
		g.account(50000, "")
		// The sign-in draws PIK (16) and MAK (16) from the fixed source,
		// which repeats: the MAK is 0123456789ABCDEF 89ABCDEF01234567.
		g.answer("12:30:01", "0800-signin-double")
		g.answer("12:30:16", "0200-purchase-double")
	}},
}

// goldenRand is the fixed random source: the frames' PIK and MAK, over
// and over.
type goldenRand struct {
	mu  sync.Mutex
	off int
}

func (r *goldenRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range p {
		p[i] = goldenWorkKeys[r.off]
		r.off = (r.off + 1) % len(goldenWorkKeys)
	}
	return len(p), nil
}

// goldenChannel is a payment channel that takes every payment at once.
// The frames refund and reverse nothing paid by a channel, so anything but
// Pay is an error (and a 91 or 96 in an answer the test compares).
type goldenChannel struct{}

var errGoldenChannel = errors.New("golden channel: only Pay is expected")

func (goldenChannel) Pay(_ context.Context, r txn.PayRequest) (txn.PayResult, error) {
	return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH" + r.TradeNo}, nil
}

func (goldenChannel) Query(context.Context, string) (txn.PayResult, error) {
	return txn.PayResult{}, errGoldenChannel
}

func (goldenChannel) Cancel(context.Context, string) error { return errGoldenChannel }

func (goldenChannel) Refund(context.Context, string, string, int64) (txn.PayResult, error) {
	return txn.PayResult{}, errGoldenChannel
}

func goldenHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
