package txn_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// hookChannel is a payment channel whose every call a test decides.
type hookChannel struct {
	mu      sync.Mutex
	pay     func(txn.PayRequest) (txn.PayResult, error)
	query   func(string) (txn.PayResult, error)
	cancel  func(string) error
	refund  func(trade, refundNo string, amount int64) (txn.PayResult, error)
	cancels []string
	refunds []string
}

func (h *hookChannel) Pay(_ context.Context, r txn.PayRequest) (txn.PayResult, error) {
	return h.pay(r)
}
func (h *hookChannel) Query(_ context.Context, t string) (txn.PayResult, error) { return h.query(t) }
func (h *hookChannel) Cancel(_ context.Context, t string) error {
	err := error(nil)
	if h.cancel != nil {
		err = h.cancel(t)
	}
	if err == nil {
		h.mu.Lock()
		h.cancels = append(h.cancels, t)
		h.mu.Unlock()
	}
	return err
}
func (h *hookChannel) Refund(_ context.Context, t, no string, amt int64) (txn.PayResult, error) {
	res, err := txn.PayResult{Status: txn.PayRefunded}, error(nil)
	if h.refund != nil {
		res, err = h.refund(t, no, amt)
	}
	if err == nil && res.Status == txn.PayRefunded {
		h.mu.Lock()
		h.refunds = append(h.refunds, t+"/"+no)
		h.mu.Unlock()
	}
	return res, err
}

func (h *hookChannel) seen(list *[]string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), (*list)...)
}

func paying(txn.PayRequest) (txn.PayResult, error) { return txn.PayResult{Status: txn.PayPaying}, nil }
func stillPaying(string) (txn.PayResult, error)    { return txn.PayResult{Status: txn.PayPaying}, nil }
func paid(txn.PayRequest) (txn.PayResult, error) {
	return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH1"}, nil
}

func withHooks(h *hookChannel, mod func(*txn.Config)) func(*txn.Config) {
	return func(c *txn.Config) {
		c.Payments = h
		c.Poll = txn.PollPolicy{Limit: time.Hour, Interval: 5 * time.Millisecond}
		c.PayRetryMax = 20 * time.Millisecond
		if mod != nil {
			mod(c)
		}
	}
}

// async sends m through HandleAsync and returns a channel with the answer's
// response code; deferred reports whether the engine deferred it.
func async(t *testing.T, f *fixture, p *posclient.Terminal, m *iso8583.Message) (<-chan string, bool) {
	t.Helper()
	frame, err := iso8583.AppendFrame(nil, m, p.MAK)
	require.NoError(t, err)
	out := make(chan string, 1)
	rcOf := func(a []byte) string {
		var r iso8583.Message
		if iso8583.DecodeFrame(&r, a) != nil {
			return "undecodable"
		}
		return string(r.Bytes(39))
	}
	ans, deferred := f.eng.HandleAsync(context.Background(), nil, frame, func(a []byte) { out <- rcOf(a) })
	if !deferred {
		out <- rcOf(ans)
	}
	return out, deferred
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case rc := <-ch:
		return rc
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		return ""
	}
}

// A payment whose payer never finishes holds no caller: the engine defers
// it, answers card requests meanwhile, refuses payments past the bound at
// once (P4), and answers the hung one 98 at the poll limit, its trade
// cancelled from the retry queue.
func TestCodePaymentIsDeferredAndBounded(t *testing.T) {
	f := newFixture(t)
	h := &hookChannel{pay: paying, query: stillPaying}
	f.restart(withHooks(h, func(c *txn.Config) {
		c.Poll.Limit = 30 * time.Second
		c.MaxPendingPerTerminal = 1
	}))
	p := f.signedIn("T0000001", 1)
	hung, deferred := async(t, f, p, p.CodePurchase("134567890123456786", 1500))
	require.True(t, deferred, "a code payment never holds the caller")
	require.Eventually(t, func() bool { return f.eng.PendingPayments() == 1 }, 5*time.Second, time.Millisecond)

	card, _ := async(t, f, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", recv(t, card), "card requests do not wait behind a payment")

	busy, _ := async(t, f, p, p.CodePurchase("134567890123456786", 1500))
	require.Equal(t, "P4", recv(t, busy), "past the per-terminal bound: refused at once")
	q := f.signedIn("T0000002", 1)
	other, _ := async(t, f, q, q.CodePurchase("134567890123456780", 100))
	select {
	case <-other:
		t.Fatal("another terminal's payment is pending too, not answered yet")
	case <-time.After(20 * time.Millisecond):
	}

	f.advance(31 * time.Second)
	require.Equal(t, "98", recv(t, hung), "unresolved at the poll limit")
	require.Equal(t, "98", recv(t, other))
	require.Eventually(t, func() bool { return len(h.seen(&h.cancels)) == 2 }, 5*time.Second, time.Millisecond,
		"both trades cancelled at the channel")
	require.Zero(t, f.eng.PendingPayments())
	require.Eventually(t, func() bool {
		jobs, err := f.eng.PayRetryJobs()
		return err == nil && len(jobs) == 0
	}, 5*time.Second, time.Millisecond, "the queue is empty once the channel confirmed")
}

// A reversal of a payment still being paid is answered at once; the
// payment, paid after it, is refunded and never approved.
func TestPaidAfterReversalIsRefunded(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	queried := make(chan struct{}, 1)
	h := &hookChannel{pay: paying, query: func(string) (txn.PayResult, error) {
		select {
		case queried <- struct{}{}:
		default:
		}
		<-release // the poll is at the channel while the reversal comes
		return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH9"}, nil
	}}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	buy := p.CodePurchase("134567890123456785", 700)
	orig, _ := async(t, f, p, buy)
	<-queried
	rev, _ := async(t, f, p, p.Reversal(buy, "98"))
	require.Equal(t, "00", recv(t, rev))
	close(release)
	require.NotEqual(t, "00", recv(t, orig))
	stan, _ := buy.STAN()
	trade := "T0000001" + "000001" + padSTAN(stan) + "0200"
	require.Eventually(t, func() bool {
		for _, r := range h.seen(&h.refunds) {
			if r == trade+"/"+trade+"R" {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond, "paid after its reversal: refunded")
}

func padSTAN(s uint32) string {
	b := []byte("000000")
	for i := 5; i >= 0 && s > 0; i-- {
		b[i] = byte('0' + s%10)
		s /= 10
	}
	return string(b)
}

// A 0400 for an original the gateway never answered, with no card (a
// code payment), cancels the channel trade by its derived number.
func TestReversalOfUnknownCodePaymentCancelsTrade(t *testing.T) {
	f := newFixture(t)
	h := &hookChannel{pay: paid, query: stillPaying}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	buy := p.CodePurchase("134567890123456780", 700) // never sent
	resp, _ := send(t, p, p.Reversal(buy, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := buy.STAN()
	require.Eventually(t, func() bool {
		c := h.seen(&h.cancels)
		return len(c) == 1 && c[0] == "T0000001000001"+padSTAN(stan)+"0200"
	}, 5*time.Second, time.Millisecond)
	// The late original is refused and never charged.
	resp, _ = send(t, p, buy)
	require.Equal(t, "25", posclient.RC(resp))
}

// Regression (#16 item 7): two concurrent refunds of one third-party
// purchase: the amount is reserved before the channel is asked, so the
// second is refused and only one is paid out.
func TestConcurrentThirdPartyRefundsPayOutOnce(t *testing.T) {
	f := newFixture(t)
	gate := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := &hookChannel{pay: paid, query: stillPaying, refund: func(string, string, int64) (txn.PayResult, error) {
		entered <- struct{}{}
		<-gate
		return txn.PayResult{Status: txn.PayRefunded}, nil
	}}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	buy := p.CodePurchase("134567890123456780", 800)
	resp, _ := send(t, p, buy)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := buy.STAN()
	a, deferred := async(t, f, p, p.Refund("", 800, 1, stan, 1126))
	require.True(t, deferred)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first refund did not reach the channel")
	}
	b, _ := async(t, f, p, p.Refund("", 800, 1, stan, 1126))
	select {
	case rc := <-b:
		require.Equal(t, "13", rc, "the amount is reserved by the first refund")
	case <-entered:
		close(gate)
		t.Fatal("a second refund of the same amount reached the channel")
	case <-time.After(5 * time.Second):
		close(gate)
		t.Fatal("the second refund got no answer")
	}
	close(gate)
	require.Equal(t, "00", recv(t, a))
	require.Len(t, h.seen(&h.refunds), 1)
}

// A refund the channel refuses gives its reservation back.
func TestRefusedRefundReleasesReservation(t *testing.T) {
	f := newFixture(t)
	refuse := true
	h := &hookChannel{pay: paid, query: stillPaying, refund: func(string, string, int64) (txn.PayResult, error) {
		if refuse {
			return txn.PayResult{Status: txn.PayDeclined}, nil
		}
		return txn.PayResult{Status: txn.PayRefunded}, nil
	}}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	buy := p.CodePurchase("134567890123456780", 800)
	send(t, p, buy)
	stan, _ := buy.STAN()
	resp, _ := send(t, p, p.Refund("", 800, 1, stan, 1126))
	require.Equal(t, "P2", posclient.RC(resp))
	refuse = false
	resp, _ = send(t, p, p.Refund("", 800, 1, stan, 1126))
	require.Equal(t, "00", posclient.RC(resp), "the refused refund's reservation was given back")
}

// After a stop in the middle of payments, recovery ends every open trade
// at the channel: a paid one is refunded, a pending one cancelled, and the
// request, sent again, is answered 98.
func TestRecoveryEndsInterruptedPayments(t *testing.T) {
	f := newFixture(t)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	h := &hookChannel{pay: func(txn.PayRequest) (txn.PayResult, error) {
		<-block
		return txn.PayResult{}, txn.ErrPayUnreachable
	}, query: stillPaying}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	q := f.signedIn("T0000002", 1)
	b1 := p.CodePurchase("134567890123456780", 300)
	b2 := q.CodePurchase("134567890123456780", 400)
	_, d1 := async(t, f, p, b1)
	_, d2 := async(t, f, q, b2)
	require.True(t, d1 && d2)
	require.Eventually(t, func() bool { return f.eng.PendingPayments() == 2 }, 5*time.Second, time.Millisecond)
	n := 0
	require.Eventually(t, func() bool {
		n = 0
		_ = f.db.View(func(tx *store.Tx) error {
			return tx.PayIntents(func(store.PayIntent) error { n++; return nil })
		})
		return n == 2
	}, 5*time.Second, time.Millisecond, "the intents are durable before the channel is asked")

	s1, _ := b1.STAN()
	t1 := "T0000001000001" + padSTAN(s1) + "0200"
	h2 := &hookChannel{pay: paid, query: func(tr string) (txn.PayResult, error) {
		if tr == t1 {
			return txn.PayResult{Status: txn.PayPaid}, nil
		}
		return txn.PayResult{Status: txn.PayPaying}, nil
	}}
	f.eng.Close()
	f.restart(withHooks(h2, nil)) // as after a kill: the store is all there is
	got, err := f.eng.RecoverPayments(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, got)
	require.Eventually(t, func() bool {
		return len(h2.seen(&h2.refunds)) == 1 && len(h2.seen(&h2.cancels)) == 1
	}, 5*time.Second, time.Millisecond, "paid: refunded; pending: cancelled")
	require.Equal(t, t1+"/"+t1+"R", h2.seen(&h2.refunds)[0])

	p = f.pos("T0000001")
	p.MAK = nil
	_, err = p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	resp, _ := send(t, p, b1)
	require.Equal(t, "98", posclient.RC(resp), "the interrupted request, sent again, is unresolved")
	require.Equal(t, int64(10000), f.balance(1001))
}

// A cancel the channel fails is kept and retried with backoff until done.
func TestFailedCancelIsRetriedFromTheQueue(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	fails := 3
	h := &hookChannel{pay: func(txn.PayRequest) (txn.PayResult, error) { return txn.PayResult{}, txn.ErrPayUnreachable },
		query: stillPaying, cancel: func(string) error {
			mu.Lock()
			defer mu.Unlock()
			if fails > 0 {
				fails--
				return txn.ErrPayUnreachable
			}
			return nil
		}}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CodePurchase("134567890123456780", 300))
	require.Equal(t, "91", posclient.RC(resp))
	require.Eventually(t, func() bool { return len(h.seen(&h.cancels)) == 1 }, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		j, err := f.eng.PayRetryJobs()
		return err == nil && len(j) == 0
	}, 5*time.Second, time.Millisecond)
}

// A cancel the channel keeps refusing (past its reversal window, say) of a
// trade the channel says is paid becomes a refund of the whole trade (the
// refund number every whole-trade refund of it uses): the payer gets the
// money back instead of a cancel being retried for ever. A trade still
// being paid keeps its cancel (TestFailedCancelIsRetriedFromTheQueue).
func TestRefusedCancelOfAPaidTradeBecomesARefund(t *testing.T) {
	f := newFixture(t)
	h := &hookChannel{pay: func(txn.PayRequest) (txn.PayResult, error) { return txn.PayResult{}, txn.ErrPayUnreachable },
		query:  func(string) (txn.PayResult, error) { return txn.PayResult{Status: txn.PayPaid, ChannelTxn: "CH1"}, nil },
		cancel: func(string) error { return errors.New("reverse answered REVERSE_EXPIRE") }}
	f.restart(withHooks(h, nil))
	p := f.signedIn("T0000001", 1)
	m := p.CodePurchase("134567890123456780", 300)
	stan, _ := m.STAN()
	resp, _ := send(t, p, m)
	require.Equal(t, "91", posclient.RC(resp))
	trade := store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: stan, MTI: 200}.TradeNo()
	require.Eventually(t, func() bool { return len(h.seen(&h.refunds)) == 1 }, 10*time.Second, time.Millisecond)
	require.Equal(t, []string{trade + "/" + trade + "R"}, h.seen(&h.refunds))
	require.Empty(t, h.seen(&h.cancels))
	require.Eventually(t, func() bool {
		j, err := f.eng.PayRetryJobs()
		return err == nil && len(j) == 0
	}, 5*time.Second, time.Millisecond)
}
