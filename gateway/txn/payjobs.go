package txn

import (
	"context"
	"sort"
	"sync"
	"time"

	"ecardgw/store"
)

// The retry queue: channel cancels and refunds the gateway owes (a
// payment unresolved at the poll limit, a trade whose outcome is unknown,
// a reversal, a payment that ended refused) are written with the answer
// that owes them and retried with backoff until the channel confirms. They
// run on their own goroutine, never on a request's.

// PayFlowObserver is an optional part of the Observer: the outcome of
// each attempt of a queued channel call (op cancel or refund; result done,
// retry or refused), the number of pending code payments when it changes
// and the retry queue's length after each pass.
type PayFlowObserver interface {
	PayRetry(op, result string)
	PaymentsPending(n int)
	PayRetryQueue(n int)
}

// jobRunner runs the queue: one pass at a time, a timer for the next due
// job.
type jobRunner struct {
	mu         sync.Mutex
	running    bool
	again      bool
	closed     bool
	timer      *time.Timer
	maxBackoff time.Duration
}

// jobParallel is how many channel calls of the queue run at once.
const jobParallel = 8

// kickJobs runs the due jobs now (on another goroutine).
func (e *Engine) kickJobs() {
	r := &e.jobs
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.running {
		r.again = true
		return
	}
	r.running = true
	go e.runJobs()
}

// Close stops the retry queue's timers and the pending payments' next
// steps from starting new work; what is in the store is resumed at the
// next start (RecoverPayments).
func (e *Engine) Close() {
	r := &e.jobs
	r.mu.Lock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
}

func (e *Engine) runJobs() {
	for {
		next := e.jobPass()
		if o, ok := e.obs.(PayFlowObserver); ok {
			n := 0
			_ = e.db.View(func(tx *store.Tx) error {
				return tx.PayJobs(func(store.PayJob) error { n++; return nil })
			})
			o.PayRetryQueue(n)
		}
		r := &e.jobs
		r.mu.Lock()
		if r.again && !r.closed {
			r.again = false
			r.mu.Unlock()
			continue
		}
		r.running = false
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		if !next.IsZero() && !r.closed {
			r.timer = time.AfterFunc(max(time.Until(next), 10*time.Millisecond), e.kickJobs)
		}
		r.mu.Unlock()
		return
	}
}

// jobPass runs every due job once and returns when the next one is due
// (zero: none left).
func (e *Engine) jobPass() time.Time {
	now := time.Now().UTC()
	var due []store.PayJob
	var next time.Time
	if err := e.db.View(func(tx *store.Tx) error {
		return tx.PayJobs(func(j store.PayJob) error {
			if !j.NextAt.After(now) {
				due = append(due, j)
			} else if next.IsZero() || j.NextAt.Before(next) {
				next = j.NextAt
			}
			return nil
		})
	}); err != nil {
		e.log.Error("reading the payment retry queue", "err", err)
		return now.Add(time.Second)
	}
	sem := make(chan struct{}, jobParallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func(j store.PayJob) {
			defer func() { <-sem; wg.Done() }()
			if at := e.runJob(j); !at.IsZero() {
				mu.Lock()
				if next.IsZero() || at.Before(next) {
					next = at
				}
				mu.Unlock()
			}
		}(due[i])
	}
	wg.Wait()
	return next
}

// runJob makes one attempt and records its result; it returns when the
// job is due again (zero: it is done).
func (e *Engine) runJob(j store.PayJob) time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), payCallTimeout)
	var err error
	refused, refundInstead := false, false
	switch j.Op {
	case store.PayJobCancel:
		err = e.payments.Cancel(ctx, j.Trade)
		if err != nil && j.Amount > 0 {
			// A channel refuses a cancel past its reversal window (WeChat
			// Pay reverses trades of the last 7 days only) and takes a
			// refund much later: a trade it says is paid is given back by
			// a refund of the whole trade instead, so that a cancel
			// refused for good does not keep the payer's money.
			if res, qerr := e.payments.Query(ctx, j.Trade); qerr == nil && res.Status == PayPaid {
				refundInstead = true
			}
		}
	case store.PayJobRefund:
		var res PayResult
		res, err = e.payments.Refund(ctx, j.Trade, j.RefundNo, j.Amount)
		if err == nil && res.Status != PayRefunded && res.Status != PayCancelled {
			refused = true
		}
	}
	cancel()
	result := "done"
	var at time.Time
	uerr := e.db.Update(context.Background(), func(tx *store.Tx) error {
		switch {
		case err == nil && !refused:
			result = "done"
			return tx.DeletePayJob(j.ID())
		case refundInstead:
			// The same refund number as every other whole-trade refund
			// of it (paystate.go, RecoverPayments): the channel makes it
			// once whichever path asked.
			result = "retry"
			at = time.Now().UTC()
			r := store.PayJob{Op: store.PayJobRefund, Trade: j.Trade, RefundNo: j.Trade + "R", Amount: j.Amount,
				Channel: j.Channel, Reason: j.Reason + "; paid, its cancel failed", NextAt: at, Created: j.Created}
			if err := tx.DeletePayJob(j.ID()); err != nil {
				return err
			}
			return tx.PutPayJob(&r)
		case refused:
			// The channel refuses the refund for good: a reservation it
			// held is given back and the trade is left to reconciliation.
			result = "refused"
			if j.Orig != nil {
				ts, ok, err := tx.Txn(*j.Orig)
				if err != nil {
					return err
				}
				if ok {
					ts.Refunded = max(ts.Refunded-j.Amount, 0)
					if err := tx.PutTxn(&ts); err != nil {
						return err
					}
				}
			}
			return tx.DeletePayJob(j.ID())
		}
		result = "retry"
		j.Attempts++
		j.LastError = err.Error()
		if len(j.LastError) > 200 {
			j.LastError = j.LastError[:200]
		}
		at = time.Now().UTC().Add(e.jobBackoff(j.Attempts))
		j.NextAt = at
		return tx.PutPayJob(&j)
	})
	if o, ok := e.obs.(PayFlowObserver); ok {
		o.PayRetry(j.Op, result)
	}
	switch {
	case uerr != nil:
		e.log.Error("recording a payment retry", "trade", j.Trade, "err", uerr)
		return time.Now().Add(time.Second)
	case result == "refused":
		e.log.Error("the payment channel refused a queued refund: reconcile", "trade", j.Trade, "refund", j.RefundNo, "amount", j.Amount)
	case refundInstead:
		e.log.Warn("a channel cancel of a paid trade failed: refunded instead", "trade", j.Trade, "amount", j.Amount, "err", err)
	case result == "retry" && j.Attempts == 1:
		e.log.Warn("a channel "+j.Op+" failed: retried from the queue", "trade", j.Trade, "reason", j.Reason, "err", err)
	}
	return at
}

// jobBackoff is 1 s doubling per attempt, up to the configured maximum.
func (e *Engine) jobBackoff(attempts int) time.Duration {
	d := time.Second
	for i := 1; i < attempts && d < e.jobs.maxBackoff; i++ {
		d *= 2
	}
	return min(d, e.jobs.maxBackoff)
}

// PayRetryJobs lists the queued channel calls, oldest first (ecardgw
// status).
func (e *Engine) PayRetryJobs() ([]store.PayJob, error) {
	var out []store.PayJob
	err := e.db.View(func(tx *store.Tx) error {
		return tx.PayJobs(func(j store.PayJob) error { out = append(out, j); return nil })
	})
	sort.Slice(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out, err
}

// RecoverPayments drives to an end what a stop left at the channel: every
// intent still in the store was never answered, so its trade is queried
// and ended (a paid one refunded, as the POS has reversed or will; any
// other cancelled), and the intent is closed so that the request, if it
// comes again, is answered 98. A refund left at the channel is queued
// (its reservation kept until the channel confirms or refuses it). Then
// the retry queue runs. Call it once at start, before terminals connect.
func (e *Engine) RecoverPayments(ctx context.Context) (int, error) {
	if e.payments == nil {
		n := 0
		err := e.db.View(func(tx *store.Tx) error {
			return tx.PayIntents(func(p store.PayIntent) error {
				if !p.Closed {
					n++
				}
				return nil
			})
		})
		if n > 0 {
			e.log.Error("payments left unanswered at a stop, but no payment service is configured to end them: "+
				"configure payments.url (or the centre) again, or reconcile them with the channel", "count", n)
		}
		return 0, err
	}
	var open []store.PayIntent
	var stale []store.IdemKey
	cut := time.Now().UTC().Add(-7 * 24 * time.Hour)
	if err := e.db.View(func(tx *store.Tx) error {
		return tx.PayIntents(func(p store.PayIntent) error {
			switch {
			case !p.Closed:
				open = append(open, p)
			case p.Created.Before(cut):
				stale = append(stale, p.Key)
			}
			return nil
		})
	}); err != nil {
		return 0, err
	}
	for _, p := range open {
		j := store.PayJob{Op: store.PayJobCancel, Trade: p.Trade, Amount: p.Amount, Channel: p.Channel,
			Reason: "unanswered at a stop"}
		outcome := "unknown"
		if p.Kind == store.KindRefund {
			j = store.PayJob{Op: store.PayJobRefund, Trade: p.Trade, RefundNo: p.RefundNo, Amount: p.Amount,
				Channel: p.Channel, Orig: p.Orig, Reason: "refund unanswered at a stop"}
			outcome = "refund"
		} else {
			qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			res, err := e.payments.Query(qctx, p.Trade)
			cancel()
			switch {
			case err != nil:
			case res.Status == PayPaid:
				outcome = "paid"
				j = store.PayJob{Op: store.PayJobRefund, Trade: p.Trade, RefundNo: p.Trade + "R", Amount: p.Amount,
					Channel: p.Channel, Reason: "paid but unanswered at a stop"}
			case res.Status == PayPaying:
				outcome = "paying"
			default:
				outcome = "ended"
			}
		}
		now := time.Now().UTC()
		err := e.db.Update(ctx, func(tx *store.Tx) error {
			p.Closed = true
			if err := tx.PutPayIntent(&p); err != nil {
				return err
			}
			if outcome == "ended" {
				return nil
			}
			j.Created, j.NextAt = now, now
			return tx.PutPayJob(&j)
		})
		if err != nil {
			return 0, err
		}
		e.log.Warn("payment left unanswered at a stop: ended at the channel", "terminal", p.Key.Terminal,
			"trade", p.Trade, "found", outcome)
	}
	if len(stale) > 0 {
		if err := e.db.Update(ctx, func(tx *store.Tx) error {
			for _, k := range stale {
				if err := tx.DeletePayIntent(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return 0, err
		}
	}
	e.kickJobs()
	return len(open), nil
}
