package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// debitRange is what a card's account may have been debited by, given what
// its terminals were told: lo counts what was answered, hi adds what was
// left unanswered (the kill came between the commit and the answer, or
// before the commit).
type debitRange struct{ lo, hi int64 }

// reversal is an unanswered money request waiting for its 0400: a POS that
// lost the answer reverses the request once it is connected again. Once
// the reversal is answered the request certainly moved no money, so its
// uncertain part leaves hi.
type reversal struct {
	orig     *iso8583.Message
	acct     int
	dLo, dHi int64  // how the account's debit range narrows once reversed
	after    func() // the card side learns the load did not happen
}

// crashWorld is the state kept by the test (the terminals' side) across
// kill -9 cycles.
type crashWorld struct {
	mu       sync.Mutex
	debit    []debitRange
	lastReq  map[string][]byte // terminal -> last answered request
	lastAns  map[string][]byte
	pending  map[string][]reversal
	counts   map[string]int // "<kind> <rc>" -> answers, for the log
	terms    map[string]*posclient.Terminal
	devices  []*issuer.Device
	refundOK map[string][]*iso8583.Message // terminal -> approved purchases not yet refunded
	codes    int                           // payment codes used for top-ups
}

func (w *crashWorld) add(acct int, lo, hi int64) {
	w.mu.Lock()
	w.debit[acct].lo += lo
	w.debit[acct].hi += hi
	w.mu.Unlock()
}

func (w *crashWorld) count(kind, rc string) {
	w.mu.Lock()
	w.counts[kind+" "+rc]++
	w.mu.Unlock()
}

// walletCard is the card side of the small wallet (card.md).
type walletCard struct {
	acct    int
	serial  [10]byte
	key     [16]byte
	balance uint32
	counter uint16
	blocked bool // a load is unanswered: reverse it before the next one
}

var crashLoadTime = [7]byte{0x20, 0x26, 0x11, 0x26, 0x12, 0x30, 0x00}
var crashTermNo = [6]byte{0, 0, 0, 0, 0, 2}

func newWalletCard(t *testing.T, acct int) *walletCard {
	serial := "00000000" + cardOf(acct)
	c := &walletCard{acct: acct}
	for i := range c.serial {
		c.serial[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	mk, err := hex.DecodeString("0123456789ABCDEFFEDCBA9876543210") // writeGatewayFiles' wallet_master_load_key
	require.NoError(t, err)
	k, err := pboc.DeriveCardKey([16]byte(mk), c.serial[:])
	require.NoError(t, err)
	c.key = k
	return c
}

// loadRequest is a settlement POS's 0200/190000 with the card's INITIALIZE
// FOR LOAD answer in field 55.
func (c *walletCard) loadRequest(p *posclient.Terminal, amount uint32) *iso8583.Message {
	rnd := [4]byte{0xA1, 0xB2, byte(c.counter >> 8), byte(c.counter)}
	sk := pboc.SessionKey(c.key, rnd, c.counter)
	mac1 := pboc.MAC1(sk, c.balance, amount, crashTermNo)
	li := posclient.LoadInit{Serial: c.serial, Balance: c.balance, Counter: c.counter, Random: rnd, MAC1: mac1,
		KeyVersion: 0x01, AlgID: 0x00, DateTime: crashLoadTime, TermNo: crashTermNo}
	return p.WalletLoad(cardOf(c.acct), int64(amount), li.AppendF55(nil))
}

// syncRequest is the first tap of a physical card (0100/330000).
func syncRequest(p *posclient.Terminal, acct int) *iso8583.Message {
	serial := "00000000" + cardOf(acct)
	var s [10]byte
	for i := range s {
		s[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	b := tlv.Append(nil, 0xDF01, []byte{0x04, 0x11, 0x22, byte(acct)})
	b = tlv.Append(b, 0xDF02, s[:])
	b = tlv.Append(b, 0xDF04, []byte{0, 0, 0, 0})
	b = tlv.Append(b, 0xDF05, []byte{0, 0})
	m := p.New(100, 330000, 0)
	posclient.SetCard(m, cardOf(acct))
	_ = m.SetBytes(55, b)
	return m
}

// crashClient is one terminal's connection during one cycle.
type crashClient struct {
	t     *testing.T
	w     *crashWorld
	p     *posclient.Terminal
	first bool
}

// send sends a MAC'd request; ok is false when the connection died (the
// gateway was killed): the request is unanswered. It runs on the
// terminals' goroutines, so it reports with Errorf, never FailNow.
func (c *crashClient) send(kind string, m *iso8583.Message) (rc string, ok bool) {
	req, err := iso8583.AppendFrame(nil, m, c.p.MAK)
	if err != nil {
		c.t.Errorf("%s: encoding a %s: %v", c.p.ID, kind, err)
		return "", false
	}
	resp, raw, err := c.p.SendRaw(context.Background(), req, m, true)
	if err != nil {
		c.w.count(kind, "unanswered")
		return "", false
	}
	rc = posclient.RC(resp)
	if c.first && rc == "77" {
		c.t.Errorf("%s: signed out by a restart", c.p.ID)
	}
	c.first = false
	c.w.count(kind, rc)
	c.w.mu.Lock()
	c.w.lastReq[c.p.ID], c.w.lastAns[c.p.ID] = req, raw
	c.w.mu.Unlock()
	return rc, true
}

// reverseAll sends the reversals of what this terminal left unanswered.
func (c *crashClient) reverseAll() bool {
	for {
		c.w.mu.Lock()
		list := c.w.pending[c.p.ID]
		c.w.mu.Unlock()
		if len(list) == 0 {
			return true
		}
		r := list[0]
		rc, ok := c.send("reversal", c.p.Reversal(r.orig, "98"))
		if !ok {
			return false
		}
		if rc != "00" {
			c.t.Errorf("%s: reversal answered %s", c.p.ID, rc)
			return false
		}
		c.w.add(r.acct, r.dLo, r.dHi)
		if r.after != nil {
			r.after()
		}
		c.w.mu.Lock()
		c.w.pending[c.p.ID] = c.w.pending[c.p.ID][1:]
		c.w.mu.Unlock()
	}
}

// unanswered queues the reversal of an unanswered debit of amt.
func (c *crashClient) unanswered(orig *iso8583.Message, acct int, amt int64, after func()) {
	c.w.mu.Lock()
	c.w.pending[c.p.ID] = append(c.w.pending[c.p.ID], reversal{orig: orig, acct: acct, dHi: -amt, after: after})
	c.w.mu.Unlock()
}

// unansweredCredit queues the reversal of an unanswered credit of amt.
func (c *crashClient) unansweredCredit(orig *iso8583.Message, acct int, amt int64) {
	c.w.mu.Lock()
	c.w.pending[c.p.ID] = append(c.w.pending[c.p.ID], reversal{orig: orig, acct: acct, dLo: amt})
	c.w.mu.Unlock()
}

// topUpStep tops up the accounts of the canteen POS at a kiosk, paid with
// a WeChat payment code that the reference centre's channel simulator
// approves (last digit 0); a credit lowers the debit.
func (c *crashClient) topUpStep(n, accounts int) bool {
	acct := 1 + n%accounts
	amt := int64(100 + n%50)
	c.w.mu.Lock()
	c.w.codes++
	code := fmt.Sprintf("13%015d0", c.w.codes)
	c.w.mu.Unlock()
	m := c.p.New(200, 210000, 0)
	_ = m.SetDigits(2, []byte(cardOf(acct)))
	_ = m.SetUint(4, uint64(amt))
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	_ = m.SetString(62, code)
	rc, ok := c.send("topup", m)
	if !ok {
		c.w.add(acct, -amt, 0)
		c.unansweredCredit(m, acct, amt)
		return false
	}
	if rc != "00" {
		c.t.Errorf("%s: top-up answered %s", c.p.ID, rc)
		return true
	}
	c.w.add(acct, -amt, -amt)
	return true
}

// posStep runs the n-th step of a canteen POS serving account acct: card
// purchases, campus code purchases, purchases reversed at once (the
// reversal in flight when the kill comes), partial refunds and inquiries.
func (c *crashClient) posStep(n, acct int) bool {
	amt := int64(1 + (n*7+acct)%97)
	switch n % 5 {
	case 0, 2:
		m := c.p.CardPurchase(cardOf(acct), amt, nil)
		rc, ok := c.send("purchase", m)
		if !ok {
			c.w.add(acct, 0, amt)
			c.unanswered(m, acct, amt, nil)
			return false
		}
		if rc != "00" {
			c.t.Errorf("%s: purchase answered %s", c.p.ID, rc)
			return true
		}
		c.w.add(acct, amt, amt)
		if n%5 == 0 {
			c.w.mu.Lock()
			c.w.refundOK[c.p.ID] = append(c.w.refundOK[c.p.ID], m)
			c.w.mu.Unlock()
			return true
		}
		// Reversed at once: the amount is certainly back once answered.
		rc, ok = c.send("reversal", c.p.Reversal(m, "06"))
		if !ok {
			c.w.add(acct, -amt, 0)
			c.unanswered(m, acct, amt, nil)
			return false
		}
		if rc != "00" {
			c.t.Errorf("%s: reversal answered %s", c.p.ID, rc)
			return false
		}
		c.w.add(acct, -amt, -amt)
	case 1:
		code, err := c.w.devices[acct].Code(time.Now())
		if err != nil {
			c.t.Errorf("campus code: %v", err)
			return false
		}
		m := c.p.CodePurchase(code, amt)
		rc, ok := c.send("code", m)
		if !ok {
			c.w.add(acct, 0, amt)
			c.unanswered(m, acct, amt, nil)
			return false
		}
		if rc != "00" {
			c.t.Errorf("%s: campus code purchase answered %s", c.p.ID, rc)
			return true
		}
		c.w.add(acct, amt, amt)
	case 3:
		c.w.mu.Lock()
		list := c.w.refundOK[c.p.ID]
		var orig *iso8583.Message
		if len(list) > 0 {
			orig, c.w.refundOK[c.p.ID] = list[0], list[1:]
		}
		c.w.mu.Unlock()
		if orig == nil {
			return true
		}
		stan, _ := orig.STAN()
		f60, _ := orig.F60()
		date, _ := orig.Uint(13)
		a, _ := orig.Amount()
		r := max(a/2, 1)
		rc, ok := c.send("refund", c.p.Refund(cardOf(acct), r, f60.Batch, stan, uint16(date)))
		if !ok {
			c.w.add(acct, -r, 0)
			return false
		}
		if rc != "00" {
			c.t.Errorf("%s: refund answered %s", c.p.ID, rc)
			return false
		}
		c.w.add(acct, -r, -r)
	case 4:
		if _, ok := c.send("inquiry", c.p.CardInquiry(cardOf(acct))); !ok {
			return false
		}
	}
	return true
}

// settleStep loads the next wallet card of a settlement POS: each load
// puts back what the showers spent since the last one.
func (c *crashClient) settleStep(n int, cards []*walletCard) bool {
	wc := cards[n%len(cards)]
	c.w.mu.Lock()
	blocked := wc.blocked
	c.w.mu.Unlock()
	if blocked {
		return true
	}
	if wc.balance == 1000 {
		wc.balance -= uint32(1 + (n*13)%300) // water, spent offline
	}
	amt := 1000 - wc.balance
	m := wc.loadRequest(c.p, amt)
	rc, ok := c.send("load", m)
	if !ok {
		c.w.add(wc.acct, 0, int64(amt))
		c.w.mu.Lock()
		wc.blocked = true
		c.w.mu.Unlock()
		// CREDIT FOR LOAD never ran: the card keeps balance and counter,
		// and after the reversal the same counter loads again.
		c.unanswered(m, wc.acct, int64(amt), func() {
			c.w.mu.Lock()
			wc.blocked = false
			c.w.mu.Unlock()
		})
		return false
	}
	if rc != "00" {
		c.t.Errorf("%s: load answered %s", c.p.ID, rc)
		return true
	}
	c.w.add(wc.acct, int64(amt), int64(amt))
	wc.balance, wc.counter = 1000, wc.counter+1
	return true
}

// TestCrashKill9AllTypes extends TestCrashKill9 to every money-moving
// request of standalone mode: card and campus code purchases, reversals
// (sent at once, and after a restart for what was left unanswered),
// partial refunds, small-wallet loads at settlement POS and top-ups at a
// kiosk (paid through a payment channel simulator). The gateway is
// killed with SIGKILL at random moments under that load; card by card,
// what was answered ≤ what was debited ≤ answered + unanswered; after each
// restart the last answered request of every terminal, retransmitted, gets
// its original answer byte for byte, and no terminal has to sign in again.
func TestCrashKill9AllTypes(t *testing.T) {
	skipKill9InShort(t)
	const (
		posTerms    = 8
		settleTerms = 2
		walletCards = 6 // per settlement POS
		cycles      = 5
		balance     = int64(1_000_000)
	)
	accounts := posTerms + settleTerms*walletCards
	bin := buildGateway(t)
	dir := t.TempDir()

	key, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(t, err)
	var extra strings.Builder
	for s := 1; s <= settleTerms; s++ {
		fmt.Fprintf(&extra, "  - {id: S%07d, merchant: M00000000000002, type: settlement}\n", s)
	}
	extra.WriteString("  - {id: K0000001, merchant: M00000000000003, type: kiosk}\n")
	fmt.Fprintf(&extra, "campuscode:\n  algorithms: [ed25519]\n  issuers:\n    - {key_id: 1, algorithm: ed25519, public_key: %s}\n",
		hex.EncodeToString(key.PublicKey()))
	// Top-ups are paid through the reference centre's channel simulator,
	// which lives in this process and so survives the gateway's kills.
	_, payAddr := startCentre(t, 1, 0)
	fmt.Fprintf(&extra, "payments: {url: http://%s, poll_limit: 2s, poll_interval: 100ms}\n", payAddr)
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: posTerms, extra: extra.String()})
	keysPath := filepath.Join(dir, "keys.yaml")
	kb, err := os.ReadFile(keysPath)
	require.NoError(t, err)
	var settleKeys strings.Builder
	for s := 1; s <= settleTerms; s++ {
		fmt.Fprintf(&settleKeys, "  S%07d: %s\n", s, strings.ToUpper(hex.EncodeToString(tmk)))
	}
	fmt.Fprintf(&settleKeys, "  K0000001: %s\n", strings.ToUpper(hex.EncodeToString(tmk)))
	require.NoError(t, os.WriteFile(keysPath, []byte(strings.Replace(string(kb), "terminals:\n", "terminals:\n"+settleKeys.String(), 1)), 0o600))
	importAccounts(t, filepath.Join(dir, "gw.db"), accounts, balance)

	w := &crashWorld{debit: make([]debitRange, accounts+1), lastReq: map[string][]byte{}, lastAns: map[string][]byte{},
		pending: map[string][]reversal{}, counts: map[string]int{}, terms: map[string]*posclient.Terminal{},
		devices: make([]*issuer.Device, posTerms+1), refundOK: map[string][]*iso8583.Message{}}
	now := time.Now()
	for i := 1; i <= posTerms; i++ {
		id := termOf(i)
		w.terms[id] = &posclient.Terminal{ID: id, Merchant: "M00000000000001", TMK: tmk}
		w.devices[i], err = issuer.NewDevice(key, 1, uint64(i), now.Add(-time.Hour), now.Add(24*time.Hour), rand.Reader)
		require.NoError(t, err)
	}
	w.terms["K0000001"] = &posclient.Terminal{ID: "K0000001", Merchant: "M00000000000003", TMK: tmk}
	settleCards := make([][]*walletCard, settleTerms+1)
	for s := 1; s <= settleTerms; s++ {
		id := fmt.Sprintf("S%07d", s)
		w.terms[id] = &posclient.Terminal{ID: id, Merchant: "M00000000000002", TMK: tmk}
		for k := range walletCards {
			settleCards[s] = append(settleCards[s], newWalletCard(t, posTerms+(s-1)*walletCards+k+1))
		}
	}
	rng := mrand.New(mrand.NewPCG(3, 4))

	// Connections stay open across each kill until the restarted gateway
	// listens on the same ports (see TestCrashKill9).
	var held conns
	defer held.closeAll()
	for cycle := range cycles {
		p := startProc(t, bin, cfg)
		if cycle == 0 {
			pinListeners(t, cfg, p)
		}
		held.closeAll()
		if cycle > 0 {
			// Retransmissions after the restart get the original answers.
			for id, req := range w.lastReq {
				c, err := posclient.Dial(p.addr, 2*time.Second)
				require.NoError(t, err)
				ans, err := c.RoundTrip(context.Background(), req)
				_ = c.Close()
				require.NoError(t, err)
				require.Equal(t, w.lastAns[id], ans, "%s: retransmission after restart got a different answer", id)
			}
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for id, term := range w.terms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := posclient.Dial(p.addr, 2*time.Second)
				if err != nil {
					return
				}
				held.add(conn)
				term.T = conn
				c := &crashClient{t: t, w: w, p: term, first: true}
				if cycle == 0 {
					if _, err := term.SignIn(context.Background(), 1); err != nil {
						t.Errorf("sign-in %s: %v", id, err)
						return
					}
					c.first = false
					if id[0] == 'T' {
						acct := int(id[7] - '0')
						if rc, ok := c.send("sync", syncRequest(term, acct)); !ok || rc != "00" {
							t.Errorf("%s: card sync answered %q", id, rc)
							return
						}
					}
				}
				if !c.reverseAll() {
					return
				}
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					var ok bool
					switch id[0] {
					case 'T':
						ok = c.posStep(n, int(id[7]-'0'))
					case 'K':
						ok = c.topUpStep(n, posTerms)
					default:
						ok = c.settleStep(n, settleCards[int(id[7]-'0')])
					}
					if !ok || t.Failed() {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(500)) * time.Millisecond)
		p.kill9()
		close(stop)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	// A clean last run answers every pending reversal, then stops.
	p := startProc(t, bin, cfg)
	held.closeAll()
	for id, term := range w.terms {
		conn, err := posclient.Dial(p.addr, 2*time.Second)
		require.NoError(t, err)
		term.T = conn
		c := &crashClient{t: t, w: w, p: term, first: true}
		require.True(t, c.reverseAll(), id)
		_ = conn.Close()
	}
	p.term(t)

	db, err := store.Open(filepath.Join(dir, "gw.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		for i := 1; i <= accounts; i++ {
			a, ok, err := tx.Account(uint64(i))
			require.NoError(t, err)
			require.True(t, ok)
			debited := balance - a.BalanceFen
			r := w.debit[i]
			require.LessOrEqual(t, r.lo, debited, "account %d: an answered request was lost", i)
			require.LessOrEqual(t, debited, r.hi, "account %d: debited more than answered + unanswered", i)
		}
		return nil
	}))
	t.Logf("answers over %d kill -9 cycles: %v", cycles, w.counts)
	for _, kind := range []string{"purchase 00", "code 00", "reversal 00", "refund 00", "load 00", "topup 00"} {
		require.Positive(t, w.counts[kind], "no %q in the load", kind)
	}
}
