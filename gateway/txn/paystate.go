package txn

import (
	"context"
	"errors"
	"sync"
	"time"

	"ecardgw/store"
)

// A payment-code purchase or top-up is a small state machine, not a
// waiting goroutine:
//
//	intent written (fsync) → Pay → "user paying": a timer, Query → ... →
//	paid / declined / the poll limit → the answer, journaled with the
//	intent's removal (and any channel call owed) in one transaction.
//
// Between the channel's answers nothing waits: the next step is a timer.
// The number of payments in this state is bounded, in all and per
// terminal; past the bound a new code payment is refused at once (P4).

// RCPayBusy refuses a payment code at once when too many payments are
// already waiting for their channel (all terminals, or this terminal).
const RCPayBusy RC = "P4"

// payCallTimeout bounds one call to the payment channel.
const payCallTimeout = 10 * time.Second

// Default bounds of pending payments.
const (
	DefaultMaxPendingPayments    = 1024
	DefaultMaxPendingPerTerminal = 2
)

// isCodePayment reports whether the request is a payment-code purchase or
// top-up that the payment channel decides.
func (e *Engine) isCodePayment(c *call) bool {
	return e.payments != nil && c.mti == mti0200 && (c.proc == PCPurchase || c.proc == PCTopUp) &&
		c.thirdPartyCode() != ""
}

// payment is one code payment waiting for its channel.
type payment struct {
	e        *Engine
	c        *call
	req      PayRequest
	start    time.Time // the request's arrival (Observer.Request)
	deadline time.Time // the poll limit, on the engine's clock
	wall     time.Time // the poll limit, on the wall clock (call timeouts)

	fp store.Fingerprint // the request's content: a copy with other content is 94

	mu       sync.Mutex
	waiters  []func([]byte) // the request's done, then retransmissions'
	reversed bool           // a reversal named it: cancel at the next step
	started  bool           // its intent is written and the channel asked
	stop     bool           // StopPayments came before it started
	ended    bool
}

// payRegistry holds the pending payments by request.
type payRegistry struct {
	mu      sync.Mutex
	byKey   map[store.IdemKey]*payment
	perTerm map[string]int
	max     int
	maxTerm int
	stopped bool // StopPayments: no new payment starts
}

// add registers p unless a bound is reached.
func (r *payRegistry) add(p *payment) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := p.c.term.ID
	if r.stopped || len(r.byKey) >= r.max || r.perTerm[t] >= r.maxTerm {
		return false
	}
	if r.byKey == nil {
		r.byKey, r.perTerm = map[store.IdemKey]*payment{}, map[string]int{}
	}
	r.byKey[p.c.key] = p
	r.perTerm[t]++
	return true
}

// pendingChanged reports the number of pending payments.
func (e *Engine) pendingChanged() {
	if o, ok := e.obs.(PayFlowObserver); ok {
		o.PaymentsPending(e.pays.count())
	}
}

// remove drops p and returns the waiters to answer.
func (r *payRegistry) remove(p *payment) []func([]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey[p.c.key] == p {
		delete(r.byKey, p.c.key)
		t := p.c.term.ID
		if r.perTerm[t]--; r.perTerm[t] <= 0 {
			delete(r.perTerm, t)
		}
	}
	p.mu.Lock()
	w := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	return w
}

// join makes a retransmission wait for the pending payment of its key.
func (r *payRegistry) join(k store.IdemKey, fp store.Fingerprint, done func([]byte)) (joined, other bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.byKey[k]
	if p == nil {
		return false, false
	}
	if p.fp != fp {
		return false, true // the key of a pending payment, other content
	}
	p.mu.Lock()
	p.waiters = append(p.waiters, done)
	p.mu.Unlock()
	return true, false
}

// markReversed stops the pending payment of k, if any, at its next step.
func (r *payRegistry) markReversed(k store.IdemKey) {
	r.mu.Lock()
	p := r.byKey[k]
	r.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.reversed = true
		p.mu.Unlock()
	}
}

// count is the number of pending payments.
func (r *payRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byKey)
}

// StopPayments is the first step of a stop: no new code payment starts
// (P4), and every pending one is answered 98 now, its trade cancelled
// from the retry queue (at once, or at the next start), instead of the
// stop waiting for the poll limit.
func (e *Engine) StopPayments() {
	r := &e.pays
	r.mu.Lock()
	r.stopped = true
	list := make([]*payment, 0, len(r.byKey))
	for _, p := range r.byKey {
		list = append(list, p)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		p.mu.Lock()
		started := p.started
		p.stop = true
		p.mu.Unlock()
		if !started {
			continue // its own goroutine ends it as soon as its intent is written
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, outcome: "timed_out"},
				&store.PayJob{Op: store.PayJobCancel, Trade: p.req.TradeNo, Amount: p.req.Amount,
					Channel: p.req.Channel, Reason: "pending when the gateway stopped"})
		}()
	}
	wg.Wait()
}

// PendingPayments is the number of code payments waiting for their
// channel.
func (e *Engine) PendingPayments() int { return e.pays.count() }

// codePayment starts a payment-code purchase or top-up; done gets the
// answer when the payment resolves. It runs on the caller's goroutine
// only until the first channel call is made.
func (e *Engine) codePayment(ctx context.Context, c *call, start time.Time, done func([]byte)) {
	finish := func(answer []byte, rc RC, retrans bool) {
		done(e.answered(c.w, c.mti, rc, retrans, start, answer))
	}
	if ans, ok := e.storedAnswer(c); ok {
		finish(ans, storedRC(c.w, ans), c.retrans)
		return
	}
	switch joined, other := e.pays.join(c.key, c.fp, done); {
	case joined:
		// A retransmission while the first copy is at the channel: it
		// gets the same answer when the payment resolves.
		e.work.Put(c.w)
		return
	case other:
		// The key of a payment still at the channel, with other content:
		// 94 like any reused key (retransmit.go); nothing is paid.
		c.declineWhy(RCDuplicate, "key of a pending payment, other content")
		finish(e.plainAnswer(c.w, RCDuplicate, c.st.macKey), RCDuplicate, false)
		return
	}
	ch := c.thirdPartyCode()
	amt, err := c.w.req.Amount()
	valid := err == nil && amt > 0 && (c.proc != PCTopUp || amt <= e.limits().TopUpMaxFen)
	var acct uint64
	if valid && c.proc == PCTopUp {
		acct, valid = e.topUpTarget(c)
	}
	if !valid {
		finish(e.commit(ctx, c)) // declined in the transaction, nothing charged
		return
	}
	now := e.now()
	p := &payment{e: e, c: c, fp: c.fp, start: start, deadline: now.Add(e.poll.Limit), wall: time.Now().Add(e.poll.Limit),
		waiters: []func([]byte){done},
		req: PayRequest{TradeNo: tradeNo(c.key), Channel: ch, AuthCode: string(c.scanned()),
			Amount: amt, Subject: subjectOf(c.proc), Terminal: c.term.ID, Account: acct}}
	added := e.pays.add(p)
	e.pendingChanged()
	if !added {
		e.log.Warn("too many payments pending: code payment refused", "terminal", c.term.ID, "pending", e.pays.count())
		e.obs.Payment(ch, "busy")
		c.pay = &payOutcome{rc: RCPayBusy, outcome: "busy"}
		finish(e.commit(ctx, c))
		return
	}
	kind := store.KindPurchase
	if c.proc == PCTopUp {
		kind = store.KindTopUp
	}
	var answered []byte
	closed, dead := false, false
	err = e.db.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		answered, closed, dead = nil, false, false
		if v, ok, err := tx.Idem(c.key); err != nil || ok {
			answered = append([]byte(nil), v...)
			return err
		}
		if old, ok, err := tx.PayIntent(c.key); err != nil || (ok && old.Closed) {
			closed = ok
			return err
		}
		if d, err := tx.Tombstone(c.key); err != nil || d {
			dead = d
			return err
		}
		return tx.PutPayIntent(&store.PayIntent{Key: c.key, Kind: kind, Trade: p.req.TradeNo, Channel: ch,
			Amount: amt, Account: acct, Created: c.now})
	})
	switch {
	case err != nil:
		e.pays.remove(p)
		e.pendingChanged()
		answer, rc := e.notCommitted(c, err)
		finish(answer, rc, false)
	case answered != nil:
		e.pays.remove(p)
		e.pendingChanged()
		finish(answered, storedRC(c.w, answered), true)
	case closed:
		// Recovery already ended this trade at the channel.
		c.payIntent = true
		p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, outcome: "timed_out"}, nil)
	case dead:
		// Reversed before it arrived: never charged.
		p.resolve(&payOutcome{rc: RCNoOriginal, outcome: "reversed"}, nil)
	default:
		p.mu.Lock()
		c.payIntent, p.started = true, true
		stop := p.stop
		p.mu.Unlock()
		if stop {
			p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, outcome: "timed_out"},
				&store.PayJob{Op: store.PayJobCancel, Trade: p.req.TradeNo, Amount: p.req.Amount,
					Channel: p.req.Channel, Reason: "pending when the gateway stopped"})
			return
		}
		p.call(false)
	}
}

// call asks the channel: Pay first, then Query while the person is still
// entering a password.
func (p *payment) call(query bool) {
	e := p.e
	timeout := min(max(time.Until(p.wall), time.Second), payCallTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	var res PayResult
	var err error
	if query {
		res, err = e.payments.Query(ctx, p.req.TradeNo)
	} else {
		res, err = e.payments.Pay(ctx, p.req)
	}
	cancel()
	p.step(res, err, query)
}

// step moves the payment on after a channel answer.
func (p *payment) step(res PayResult, err error, query bool) {
	e := p.e
	p.mu.Lock()
	reversed := p.reversed
	p.mu.Unlock()
	cancelJob := func(reason string) *store.PayJob {
		return &store.PayJob{Op: store.PayJobCancel, Trade: p.req.TradeNo, Amount: p.req.Amount,
			Channel: p.req.Channel, Reason: reason}
	}
	switch {
	case reversed && err == nil && res.Status == PayPaid:
		// Paid after its reversal: given back.
		p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, outcome: "reversed"},
			&store.PayJob{Op: store.PayJobRefund, Trade: p.req.TradeNo, RefundNo: p.req.TradeNo + "R",
				Amount: p.req.Amount, Channel: p.req.Channel, Reason: "paid after its reversal"})
	case reversed:
		p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, outcome: "reversed"}, cancelJob("reversed while being paid"))
	case err != nil && !query:
		// The outcome is unknown: the channel may have taken the money.
		// The trade is cancelled (queued, retried until done) and the
		// terminal told the channel is unavailable.
		out := &payOutcome{rc: RCCentreDown, outcome: "unavailable"}
		if !errors.Is(err, ErrPayUnreachable) && !errors.Is(err, context.DeadlineExceeded) {
			out.rc, out.outcome = RCSystem, "error"
		}
		e.log.Warn("payment channel did not answer: the trade is cancelled", "trade", p.req.TradeNo, "err", err)
		p.resolve(out, cancelJob("pay outcome unknown"))
	case err == nil && res.Status == PayPaid:
		p.resolve(&payOutcome{rc: RCApproved, status: res.Status, channelTxn: res.ChannelTxn, outcome: "approved",
			account: res.Account}, nil)
	case err == nil && res.Status == PayNotBound:
		p.resolve(&payOutcome{rc: RCNotBound, status: res.Status, channelTxn: res.ChannelTxn, outcome: "not_bound"}, nil)
	case err == nil && res.Status != PayPaying:
		p.resolve(&payOutcome{rc: RCChannelDecline, status: res.Status, channelTxn: res.ChannelTxn, outcome: "declined"}, nil)
	case !e.now().Before(p.deadline):
		// The POS gives up at 60 s: cancel below that and say so.
		p.resolve(&payOutcome{rc: RCPayUnresolved, status: PayCancelled, channelTxn: res.ChannelTxn, outcome: "timed_out"},
			cancelJob("unresolved at the poll limit"))
	default:
		if err != nil {
			e.log.Debug("payment query failed; polling on", "trade", p.req.TradeNo, "err", err)
		}
		time.AfterFunc(e.poll.Interval, func() { p.call(true) })
	}
}

// resolve answers the payment: the store transaction journals the outcome,
// removes the intent and queues the channel call owed, then every copy of
// the request gets the answer.
func (p *payment) resolve(out *payOutcome, job *store.PayJob) {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.mu.Unlock()
	e, c := p.e, p.c
	c.pay, c.payJob = out, job
	e.obs.Payment(p.req.Channel, out.outcome)
	answer, rc, retrans := e.commit(context.Background(), c)
	waiters := e.pays.remove(p)
	e.pendingChanged()
	answer = e.answered(c.w, c.mti, rc, retrans, p.start, answer)
	for _, w := range waiters[min(1, len(waiters)):] {
		w(append([]byte(nil), answer...))
	}
	if len(waiters) > 0 {
		waiters[0](answer)
	}
}

// paymentEffects runs in a financial request's transaction after its rule:
// it removes the request's payment intent, queues the channel call the
// outcome owes, and gives back a payment the channel took for a request
// that ends refused (reversed meanwhile, a top-up that could not be
// credited).
func (e *Engine) paymentEffects(c *call) error {
	if c.payIntent {
		if err := c.tx.DeletePayIntent(c.key); err != nil {
			return err
		}
	}
	if j := c.payJob; j != nil {
		if err := e.queueJob(c, *j); err != nil {
			return err
		}
	}
	if c.pay != nil && c.pay.rc == RCApproved && c.rc != RCApproved && c.mti == mti0200 &&
		(c.proc == PCPurchase || c.proc == PCTopUp) {
		amt, _ := c.w.req.Amount()
		k := tradeNo(c.key)
		c.rec.Exception = true
		c.rec.Note += "; paid but refused: channel refund queued"
		return e.queueJob(c, store.PayJob{Op: store.PayJobRefund, Trade: k, RefundNo: k + "R", Amount: amt,
			Channel: c.thirdPartyCode(), Reason: "paid but refused " + string(c.rc)})
	}
	return nil
}

// queueJob writes a channel call owed, due now.
func (e *Engine) queueJob(c *call, j store.PayJob) error {
	j.Created, j.NextAt = time.Now().UTC(), time.Now().UTC()
	c.jobs = true
	return c.tx.PutPayJob(&j)
}

// reversalPayments runs in a reversal's transaction before its rule
// (standalone and connected): the channel trade of a third-party original
// is given back, queued with the answer so that the reversal is answered
// at once. An original that is unknown (never answered) but was, or may
// have been, a code payment (an intent exists, or the reversal carries no
// card) is cancelled at the channel by its derived trade number, so a
// late payment cannot stay paid.
func (e *Engine) reversalPayments(c *call) error {
	if e.payments == nil || c.mti != mti0400 {
		return nil
	}
	orig := store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	ts, found, err := c.tx.Txn(orig)
	if err != nil {
		return err
	}
	if found {
		if ts.Reversed || ts.Kind != store.KindPurchase || ts.Channel == "" || ts.Channel == store.ChannelCampus {
			return nil
		}
		if left := ts.Amount - ts.Refunded; left > 0 {
			return e.queueJob(c, store.PayJob{Op: store.PayJobRefund, Trade: tradeNo(orig), RefundNo: tradeNo(c.key),
				Amount: left, Channel: ts.Channel, Reason: "reversal"})
		}
		return nil
	}
	if _, answered, err := c.tx.Idem(orig); err != nil || answered {
		return err
	}
	intent, has, err := c.tx.PayIntent(orig)
	if err != nil {
		return err
	}
	proc := c.proc
	if !has && (c.w.req.Has(2) || (proc != PCPurchase && proc != PCTopUp)) {
		return nil // a card's request: no channel trade
	}
	j := store.PayJob{Op: store.PayJobCancel, Trade: tradeNo(orig), Reason: "reversal of an unknown original"}
	if has {
		j.Amount, j.Channel = intent.Amount, intent.Channel
	}
	return e.queueJob(c, j)
}
