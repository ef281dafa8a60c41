package daemon_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/ledgercheck"
	"ecardgw/store"
)

// The randomized money test: thousands of mixed requests — purchases,
// refunds, reversals of either, retransmissions with the same and with
// changed content, kiosk top-ups and fees, offline advices, small-wallet
// loads (some reversed, the card taking some of those anyway), service
// API top-ups and fees, sign-ins in the same batch — from several
// terminals against a gateway process, killed with SIGKILL between
// phases and restarted. After every phase the store, opened read-only, is
// checked against the invariants of the ledger:
//
//   - every account's balance moved by exactly the sum of its journal
//     records (moneyEffect);
//   - for every purchase, refunded ∈ [0, amount] and the customer's net
//     for it ∈ [−amount, 0], exactly 0 once reversed.
//
// The seed is ECARDGW_MONEY_SEED (default 1), logged, so that a failure
// is reproduced by running the test again with it.

// moneyWorld is the terminals' side of the test.
type moneyWorld struct {
	t     *testing.T
	rng   *mrand.Rand
	seed  uint64
	op    int
	terms map[string]*posclient.Terminal
	pos   []string // canteen POS ids
	// sent are answered financial requests, for retransmissions and
	// reversals: the request and the response code it got.
	sent      []sentReq
	purchases []sentReq // approved card purchases
	refunds   []sentReq // approved refunds
	wallets   []*walletCard
	books     map[int]*cardBook
	loads     []walletLoad // approved loads that may still be reversed
	service   string       // service API address
	noService bool         // connected mode: the service API moves no money
	codes     int
	trades    int
	accounts  int
}

type sentReq struct {
	term string
	m    *iso8583.Message
	rc   string
	acct int
}

// took is what a card really took from loads; unsettled the part of it
// the gateway gave back on a reversal and will learn about at the card's
// next load.
type cardBook struct{ took, unsettled int64 }

type walletLoad struct {
	req  sentReq
	card *walletCard
	amt  uint32
}

func moneySeed(t *testing.T) uint64 {
	s := os.Getenv("ECARDGW_MONEY_SEED")
	if s == "" {
		return 1
	}
	v, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, "ECARDGW_MONEY_SEED")
	return v
}

// send sends m from terminal id and returns the response code; the
// connection is the terminal's own, kept across requests.
func (w *moneyWorld) send(id string, m *iso8583.Message) string {
	w.t.Helper()
	p := w.terms[id]
	resp, _, err := p.Send(context.Background(), m, true)
	require.NoError(w.t, err, "seed %d op %d: %s", w.seed, w.op, id)
	return posclient.RC(resp)
}

func (w *moneyWorld) expect(want string, got string, what string) {
	w.t.Helper()
	require.Equal(w.t, want, got, "seed %d op %d: %s", w.seed, w.op, what)
}

func (w *moneyWorld) expectIn(got string, what string, want ...string) {
	w.t.Helper()
	require.Contains(w.t, want, got, "seed %d op %d: %s", w.seed, w.op, what)
}

func (w *moneyWorld) acct() int { return 1 + w.rng.IntN(w.accounts) }

func (w *moneyWorld) posTerm() string { return w.pos[w.rng.IntN(len(w.pos))] }

// step runs one random operation.
func (w *moneyWorld) step() {
	w.op++
	switch r := w.rng.IntN(100); {
	case r < 28:
		w.purchase()
	case r < 38:
		w.refund()
	case r < 47:
		w.reversal()
	case r < 54:
		w.retransmit()
	case r < 58:
		w.changedContent()
	case r < 65:
		w.kioskTopUp()
	case r < 70:
		w.kioskFee()
	case r < 76:
		w.advice()
	case r < 86:
		w.walletLoad()
	case r < 90:
		w.walletLoadReversal()
	case r < 94 && !w.noService:
		w.serviceTopUp()
	case r < 98 && !w.noService:
		w.serviceFee()
	case r < 98:
		w.purchase()
	default:
		w.signInAgain()
	}
}

func (w *moneyWorld) remember(id string, m *iso8583.Message, rc string, acct int) sentReq {
	s := sentReq{term: id, m: m, rc: rc, acct: acct}
	w.sent = append(w.sent, s)
	return s
}

func (w *moneyWorld) purchase() {
	id, a := w.posTerm(), w.acct()
	m := w.terms[id].CardPurchase(cardOf(a), 1+w.rng.Int64N(3000), nil)
	rc := w.send(id, m)
	w.expectIn(rc, "purchase", "00", "51")
	s := w.remember(id, m, rc, a)
	if rc == "00" {
		w.purchases = append(w.purchases, s)
	}
}

func (w *moneyWorld) refund() {
	if len(w.purchases) == 0 {
		return
	}
	p := w.purchases[w.rng.IntN(len(w.purchases))]
	amt, _ := p.m.Amount()
	stan, _ := p.m.STAN()
	f60, _ := p.m.F60()
	date, _ := p.m.Uint(13)
	r := 1 + w.rng.Int64N(amt+amt/4) // sometimes more than is left
	m := w.terms[p.term].Refund(cardOf(p.acct), r, f60.Batch, stan, uint16(date))
	rc := w.send(p.term, m)
	w.expectIn(rc, "refund", "00", "13", "25")
	s := w.remember(p.term, m, rc, p.acct)
	if rc == "00" {
		w.refunds = append(w.refunds, s)
	}
}

// reversal reverses an earlier purchase or refund (approved or not) of
// the same terminal, possibly for the second time.
func (w *moneyWorld) reversal() {
	var list []sentReq
	if w.rng.IntN(3) == 0 {
		list = w.refunds
	} else {
		list = w.purchases
	}
	if len(list) == 0 {
		return
	}
	o := list[w.rng.IntN(len(list))]
	m := w.terms[o.term].Reversal(o.m, "98")
	rc := w.send(o.term, m)
	w.expect("00", rc, "reversal")
	w.remember(o.term, m, rc, o.acct)
}

// retransmit sends an answered request again, unchanged but for its
// clock fields: it gets the original response code and moves nothing.
func (w *moneyWorld) retransmit() {
	if len(w.sent) == 0 {
		return
	}
	o := w.sent[w.rng.IntN(len(w.sent))]
	var m iso8583.Message
	o.m.Copy(&m)
	_ = m.SetUint(12, uint64(w.rng.IntN(235959)))
	rc := w.send(o.term, &m)
	w.expect(o.rc, rc, "retransmission of a "+strconv.Itoa(int(o.m.MTI)))
}

// changedContent reuses an answered request's key with another amount:
// 94, nothing done.
func (w *moneyWorld) changedContent() {
	if len(w.sent) == 0 {
		return
	}
	o := w.sent[w.rng.IntN(len(w.sent))]
	amt, err := o.m.Amount()
	if err != nil || o.m.MTI == 400 {
		return // a reversal's key is its original's: not what this step checks
	}
	var m iso8583.Message
	o.m.Copy(&m)
	posclient.SetAmount(&m, amt+1+w.rng.Int64N(100))
	w.expect("94", w.send(o.term, &m), "same key, other amount")
}

func (w *moneyWorld) kioskRequest(proc int, a int, amt int64) *iso8583.Message {
	m := w.terms["K0000001"].New(200, proc, 0)
	_ = m.SetDigits(2, []byte(cardOf(a)))
	_ = m.SetUint(4, uint64(amt))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	return m
}

func (w *moneyWorld) kioskTopUp() {
	a := w.acct()
	w.codes++
	m := w.kioskRequest(210000, a, 1+w.rng.Int64N(99900))
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetString(62, fmt.Sprintf("13%015d0", w.seed*1_000_000+uint64(w.codes))) // paid at once
	rc := w.send("K0000001", m)
	w.expect("00", rc, "kiosk top-up")
	w.remember("K0000001", m, rc, a)
}

func (w *moneyWorld) kioskFee() {
	a := w.acct()
	m := w.kioskRequest(170000, a, 1+w.rng.Int64N(5000))
	_ = m.SetString(63, "NET:"+strconv.Itoa(a))
	rc := w.send("K0000001", m)
	w.expectIn(rc, "kiosk fee", "00", "51")
	w.remember("K0000001", m, rc, a)
}

func (w *moneyWorld) advice() {
	id, a := w.posTerm(), w.acct()
	m := w.terms[id].CardPurchase(cardOf(a), 1+w.rng.Int64N(25000), nil)
	m.MTI = 220
	rc := w.send(id, m)
	amt, _ := m.Amount()
	if amt > 20000 {
		w.expect("13", rc, "advice over the cap")
	} else {
		w.expect("00", rc, "advice")
	}
	w.remember(id, m, rc, a)
}

// walletLoad loads a wallet card back to 10.00 after showers spent some.
func (w *moneyWorld) walletLoad() {
	c := w.wallets[w.rng.IntN(len(w.wallets))]
	if c.balance == 1000 {
		c.balance -= uint32(1 + w.rng.IntN(400))
	}
	amt := 1000 - c.balance
	m := c.loadRequest(w.terms["S0000001"], amt)
	rc := w.send("S0000001", m)
	w.expectIn(rc, "load", "00", "51")
	s := w.remember("S0000001", m, rc, c.acct)
	book := w.books[c.acct]
	book.unsettled = 0 // this load's counter told the gateway
	if rc != "00" {
		return
	}
	w.loads = append(w.loads, walletLoad{req: s, card: c, amt: amt})
	if w.rng.IntN(3) > 0 {
		c.balance, c.counter = 1000, c.counter+1 // CREDIT FOR LOAD done
		book.took += int64(amt)
		return
	}
	// CREDIT FOR LOAD failed or its answer was lost: the POS reverses.
	// Half the time the card had taken the money all the same.
	if w.rng.IntN(2) == 0 {
		c.balance, c.counter = 1000, c.counter+1
		book.took += int64(amt)
		book.unsettled = int64(amt)
	}
	w.loads = w.loads[:len(w.loads)-1]
	rev := w.terms["S0000001"].Reversal(m, "06")
	w.expect("00", w.send("S0000001", rev), "load reversal")
	w.remember("S0000001", rev, "00", c.acct)
}

// walletLoadReversal reverses an older load: one the card has taken (a
// later load may have followed it).
func (w *moneyWorld) walletLoadReversal() {
	if len(w.loads) == 0 {
		return
	}
	i := w.rng.IntN(len(w.loads))
	l := w.loads[i]
	w.loads = append(w.loads[:i], w.loads[i+1:]...)
	if last := w.lastLoad(l.card); last == l.req.m {
		// The card's last load: the gateway cannot tell yet that the card
		// took it, and gives it back until the next load.
		w.books[l.card.acct].unsettled = int64(l.amt)
	}
	rev := w.terms["S0000001"].Reversal(l.req.m, "98")
	w.expect("00", w.send("S0000001", rev), "late load reversal")
	w.remember("S0000001", rev, "00", l.card.acct)
}

// lastLoad is the last approved load request of card c, or nil.
func (w *moneyWorld) lastLoad(c *walletCard) *iso8583.Message {
	for i := len(w.sent) - 1; i >= 0; i-- {
		s := w.sent[i]
		if s.term == "S0000001" && s.m.MTI == 200 && s.rc == "00" && s.acct == c.acct {
			return s.m
		}
	}
	return nil
}

// charged is what the gateway should have charged each account for its
// card's loads: what the card took, less what awaits the next load.
func (w *moneyWorld) charged() map[uint64]int64 {
	out := map[uint64]int64{}
	for a, b := range w.books {
		out[uint64(a)] = b.took - b.unsettled
	}
	return out
}

func (w *moneyWorld) post(path, body string) int {
	w.t.Helper()
	return servicePost(w.t, w.service, path, body)
}

// servicePost posts a JSON body to the service API at addr with the test
// gateways' service token and returns the HTTP status.
func servicePost(t *testing.T, addr, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("t", 40))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, path)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (w *moneyWorld) serviceTopUp() {
	w.trades++
	st := w.post("/v1/topups", fmt.Sprintf(`{"trade_no":"T%d-%d","channel":"alipay","amount_fen":%d,"account":"%d"}`,
		w.seed, w.trades, 1+w.rng.Int64N(99900), w.acct()))
	require.Equal(w.t, http.StatusOK, st, "seed %d op %d: service top-up", w.seed, w.op)
}

func (w *moneyWorld) serviceFee() {
	w.trades++
	a := w.acct()
	st := w.post("/v1/fees", fmt.Sprintf(`{"request_id":"F%d-%d","account":"%d","type":"net","target":"NET:%d","amount_fen":%d}`,
		w.seed, w.trades, a, a, 1+w.rng.Int64N(5000)))
	require.Contains(w.t, []int{http.StatusOK, http.StatusUnprocessableEntity}, st, "seed %d op %d: service fee", w.seed, w.op)
}

// signInAgain signs a canteen POS in again in the same batch: its later
// retransmissions are answered under the new keys.
func (w *moneyWorld) signInAgain() {
	id := w.posTerm()
	_, err := w.terms[id].SignIn(context.Background(), 1)
	if err != nil && strings.Contains(err.Error(), "answered 96") {
		return // the sign-in storm limit: the session goes on as it was
	}
	require.NoError(w.t, err, "seed %d op %d: sign-in", w.seed, w.op)
}

// connect gives every terminal a connection to addr.
func (w *moneyWorld) connect(addr string, held *conns) {
	for _, p := range w.terms {
		c, err := dialRetry(addr, 5*time.Second)
		require.NoError(w.t, err)
		held.add(c)
		p.T = c
	}
}

// moneyEffect is what a journal record did to its account's balance: the
// rules written in docs/operations.md (journal export) and held by
// gateway/ledger.
func moneyEffect(r *store.Record) int64 {
	if r.Resp != "00" || r.Account == 0 {
		return 0
	}
	campus := r.Channel == "" || r.Channel == store.ChannelCampus
	switch r.Kind {
	case store.KindPurchase:
		if campus {
			return -r.Amount
		}
	case store.KindFee, store.KindLoad, store.KindAdvice:
		return -r.Amount
	case store.KindTopUp:
		return r.Amount
	case store.KindRefund:
		if campus {
			return r.Amount
		}
	case store.KindReversal:
		return r.Amount
	}
	return 0
}

// checkMoneyInvariants opens the store at path read-only and checks the
// ledger's invariants against the accounts' opening balances.
//
// loads, when not nil, is what each account must have paid in all for its
// card's small-wallet loads (the settlement POS S0000001's loads and their
// reversals).
func checkMoneyInvariants(t *testing.T, path string, opening map[uint64]int64, terms []string, loads map[uint64]int64, what string) {
	t.Helper()
	db, err := store.Open(path, store.Options{ReadOnly: true, SkipCheck: true})
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		moved := map[uint64]int64{}
		paidLoads := map[uint64]int64{}
		purchases := map[store.IdemKey]int64{} // approved campus purchase -> amount
		refundOf := map[store.IdemKey]store.IdemKey{}
		net := map[store.IdemKey]int64{}
		var records []store.Record
		if err := tx.JournalSince(0, func(r *store.Record) error {
			moved[r.Account] += moneyEffect(r)
			if r.Key.Terminal == "S0000001" && (r.Kind == store.KindLoad || r.Kind == store.KindReversal) {
				paidLoads[r.Account] -= moneyEffect(r)
			}
			records = append(records, *r)
			return nil
		}); err != nil {
			return err
		}
		for _, r := range records {
			if r.Resp != "00" {
				continue
			}
			switch {
			case r.Kind == store.KindPurchase && r.Orig == nil:
				purchases[r.Key] = r.Amount
				net[r.Key] -= r.Amount
			case r.Kind == store.KindRefund && r.Orig != nil:
				refundOf[r.Key] = *r.Orig
				net[*r.Orig] += r.Amount
			}
		}
		for _, r := range records {
			if r.Kind != store.KindReversal || r.Resp != "00" || r.Orig == nil || r.Account == 0 {
				continue
			}
			if _, ok := purchases[*r.Orig]; ok {
				net[*r.Orig] += r.Amount
			} else if p, ok := refundOf[*r.Orig]; ok {
				net[p] += r.Amount
			}
		}
		for no, open := range opening {
			a, ok, err := tx.Account(no)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, open+moved[no], a.BalanceFen,
				"%s: account %d: the balance moved by other than the sum of its journal records", what, no)
		}
		for no, want := range loads {
			require.Equal(t, want, paidLoads[no],
				"%s: account %d: paid for its card's loads other than what the card took", what, no)
		}
		for _, term := range terms {
			if err := tx.TxnsOfBatch(term, 1, func(s *store.TxnState) error {
				if s.Kind != store.KindPurchase {
					return nil
				}
				require.GreaterOrEqual(t, s.Refunded, int64(0), "%s: %v refunded", what, s.Key)
				require.LessOrEqual(t, s.Refunded, s.Amount, "%s: %v refunded more than its amount", what, s.Key)
				if a, ok := purchases[s.Key]; ok {
					n := net[s.Key]
					require.GreaterOrEqual(t, n, -a, "%s: %v: the customer paid more than the purchase", what, s.Key)
					require.LessOrEqual(t, n, int64(0), "%s: %v: the customer gained money", what, s.Key)
					if s.Reversed {
						require.Zero(t, n, "%s: %v: reversed, yet the customer's net is not 0", what, s.Key)
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}))
}

func freeLoopbackPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func TestMoneyInvariantsRandomized(t *testing.T) {
	skipKill9InShort(t)
	for _, mode := range []string{"standalone", "connected"} {
		t.Run(mode, func(t *testing.T) { testMoneyInvariants(t, mode) })
	}
}

// testMoneyInvariants runs the randomized money test in one mode. In
// connected mode the reference centre (in this process, so it survives the
// kills) is the ledger of record and pays the top-ups; after every phase
// the outbox is drained and the gateway's balances must equal the
// centre's, with `ecardgw reconcile`'s comparison finding nothing. The
// service API is read-only there, so its steps are left out.
func testMoneyInvariants(t *testing.T, mode string) {
	const (
		posTerms = 4
		accounts = 8
		phases   = 4
		balance  = int64(200_000)
	)
	seed := moneySeed(t)
	t.Logf("seed %d (ECARDGW_MONEY_SEED=%d reproduces this run)", seed, seed)
	bin := buildGateway(t)
	dir := t.TempDir()
	centre, centreAddr := startCentre(t, accounts, balance)
	service := freeLoopbackPort(t)
	extra := "  - {id: S0000001, merchant: M00000000000002, type: settlement}\n" +
		"  - {id: K0000001, merchant: M00000000000003, type: kiosk}\n"
	if mode == "connected" {
		extra += fmt.Sprintf("centre: {url: http://%s, timeout: 1s}\n", centreAddr)
	} else {
		extra += fmt.Sprintf("payments: {url: http://%s, poll_limit: 2s, poll_interval: 100ms}\n", centreAddr)
	}
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: posTerms, extra: extra, mode: mode})
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(b, []byte("service: 127.0.0.1:0"), []byte("service: "+service), 1), 0o600))
	keysPath := filepath.Join(dir, "keys.yaml")
	kb, err := os.ReadFile(keysPath)
	require.NoError(t, err)
	k := strings.ToUpper(hex.EncodeToString(tmk))
	adminToken := strings.Repeat("a", 40)
	kb = append(bytes.Replace(kb, []byte("terminals:\n"), []byte("terminals:\n  S0000001: "+k+"\n  K0000001: "+k+"\n"), 1),
		[]byte("admin_tokens: ["+adminToken+"]\n")...)
	require.NoError(t, os.WriteFile(keysPath, kb, 0o600))
	dbPath := filepath.Join(dir, "gw.db")
	importAccounts(t, dbPath, accounts, balance)
	opening := map[uint64]int64{}
	for i := 1; i <= accounts; i++ {
		opening[uint64(i)] = balance
	}

	w := &moneyWorld{t: t, rng: mrand.New(mrand.NewPCG(seed, 0x6d6f6e6579)), seed: seed, service: service,
		terms: map[string]*posclient.Terminal{}, accounts: accounts, noService: mode == "connected"}
	var ids []string
	for i := 1; i <= posTerms; i++ {
		w.pos = append(w.pos, termOf(i))
		w.terms[termOf(i)] = &posclient.Terminal{ID: termOf(i), Merchant: "M00000000000001", TMK: tmk}
	}
	w.terms["S0000001"] = &posclient.Terminal{ID: "S0000001", Merchant: "M00000000000002", TMK: tmk}
	w.terms["K0000001"] = &posclient.Terminal{ID: "K0000001", Merchant: "M00000000000003", TMK: tmk}
	for id := range w.terms {
		ids = append(ids, id)
	}
	w.books = map[int]*cardBook{}
	for a := 1; a <= accounts; a++ {
		w.wallets = append(w.wallets, newWalletCard(t, a))
		w.books[a] = &cardBook{}
	}

	var held conns
	defer held.closeAll()
	from := time.Now().Add(-time.Hour)
	for phase := range phases {
		p := startProc(t, bin, cfg)
		if phase == 0 {
			pinListeners(t, cfg, p)
		}
		held.closeAll()
		w.connect(p.addr, &held)
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp", service)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		}, 5*time.Second, 20*time.Millisecond)
		if phase == 0 {
			for _, id := range ids {
				_, err := w.terms[id].SignIn(context.Background(), 1)
				require.NoError(t, err)
			}
		}
		n := 400 + w.rng.IntN(300)
		for range n {
			w.step()
		}
		what := fmt.Sprintf("seed %d phase %d (op %d)", seed, phase, w.op)
		if mode == "connected" {
			// Every record delivered and applied, the replica refreshed.
			ledgercheck.RequireBalancesEqualAdmin(t, p.admin, adminToken, centre, 30*time.Second)
		}
		p.kill9()
		checkMoneyInvariants(t, dbPath, opening, ids, w.charged(), what)
		if mode == "connected" {
			db, err := store.Open(dbPath, store.Options{ReadOnly: true, SkipCheck: true})
			require.NoError(t, err)
			snap, err := ledgercheck.Compare(db, centre)
			require.NoError(t, err)
			require.True(t, snap.OK(), "%s: gateway and centre differ:\n%s", what, snap)
			ledgercheck.RequireReconciled(t, db, "http://"+centreAddr, from, time.Now().Add(time.Hour))
			require.NoError(t, db.Close())
		}
	}
	t.Logf("seed %d: %d operations, %d answered requests kept, %d purchases, %d refunds", seed, w.op, len(w.sent),
		len(w.purchases), len(w.refunds))
}
