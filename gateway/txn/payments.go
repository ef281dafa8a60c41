package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ecardgw/store"
)

// Third-party payments (WeChat Pay, Alipay, UnionPay QR): the channel is
// asked before the store transaction (prepay), the transaction journals
// what it decided (thirdPartyPurchase, thirdPartyRefund,
// thirdPartyReversal, and a kiosk's top-up in kiosk.go), and a top-up paid
// but not credited is refunded after it (refundAfterFailedCredit).

// Payments is the payment part of the centre interface: the gateway never
// holds channel credentials, it asks the centre (or, standalone, the
// service at payments.url) to pay, query, cancel and refund.
type Payments interface {
	Pay(ctx context.Context, p PayRequest) (PayResult, error)
	Query(ctx context.Context, tradeNo string) (PayResult, error)
	Cancel(ctx context.Context, tradeNo string) error
	Refund(ctx context.Context, tradeNo string, refundNo string, amount int64) (PayResult, error)
}

// PayRequest asks a channel to take amount from the scanned payment code.
type PayRequest struct {
	TradeNo  string // ours, unique: terminal, batch, STAN, MTI
	Channel  store.Channel
	AuthCode string // the scanned payment code
	Amount   int64
	Subject  string
	Terminal string
	Account  uint64 // the campus account to credit, for top-ups
}

// PayStatus is a channel's verdict.
type PayStatus uint8

const (
	PayPaid     PayStatus = iota + 1 // money taken
	PayPaying                        // the person is entering a password
	PayNotBound                      // no campus identity bound to that wallet (P1)
	PayDeclined                      // declined by the channel (P2)
	PayCancelled
	PayRefunded
)

// PayResult is a channel's answer.
type PayResult struct {
	Status     PayStatus
	ChannelTxn string // the channel's trade number
	Reason     string
	// Payer is the channel's id of who paid (WeChat openid, Alipay user
	// id), when the channel says.
	Payer string
	// Account is the campus account bound to Payer (0: none known); a
	// paid purchase is journalled on it so it shows in that history.
	Account uint64
}

// payOutcome is the result of talking to the channel before the store
// transaction (that conversation may take up to the poll limit and must
// never hold the journal's group commit).
type payOutcome struct {
	rc         RC
	status     PayStatus
	channelTxn string
	outcome    string // metrics label
	account    uint64 // the campus account bound to the payer (0: none)
}

// PollPolicy bounds the "user is paying" wait.
type PollPolicy struct {
	Limit    time.Duration // default 30 s, below the POS's own 60 s
	Interval time.Duration // default 1 s
}

// tradeNo names a request at the channel: unique per terminal, batch, STAN
// and MTI, like the idempotency key, so a retried Pay is the same payment.
func tradeNo(k store.IdemKey) string {
	return fmt.Sprintf("%s%06d%06d%04d", k.Terminal, k.Batch%1000000, k.STAN%1000000, k.MTI)
}

// prepay talks to the payment channel for requests that need it, before the
// store transaction: a payment-code purchase or top-up is paid (polling
// while the person enters a password, cancelled at the limit), a refund or
// reversal of a third-party purchase goes back to the channel. The outcome
// is left in c.pay for the transaction to journal. It returns a stored
// answer when the request is a retransmission (nothing is paid twice).
func (e *Engine) prepay(ctx context.Context, c *call) ([]byte, bool) {
	if e.payments == nil {
		return nil, false
	}
	switch {
	case c.mti == mti0200 && (c.proc == PCPurchase || c.proc == PCTopUp):
		ch := c.thirdPartyCode()
		if ch == "" {
			return nil, false
		}
		if ans, ok := e.storedAnswer(c.key); ok {
			return ans, true
		}
		amt, err := c.w.req.Amount()
		if err != nil || amt <= 0 || (c.proc == PCTopUp && amt > e.limits.TopUpMaxFen) {
			return nil, false // the transaction declines it (13)
		}
		var acct uint64
		if c.proc == PCTopUp {
			a, ok := e.topUpTarget(c)
			if !ok {
				return nil, false // declined in the transaction, nothing charged
			}
			acct = a
		}
		c.pay = e.pay(ctx, PayRequest{TradeNo: tradeNo(c.key), Channel: ch, AuthCode: string(c.scanned()),
			Amount: amt, Subject: subjectOf(c.proc), Terminal: c.term.ID, Account: acct})
	case (c.mti == mti0200 && c.proc == PCRefund) || c.mti == mti0400:
		orig, ok := e.thirdPartyOriginal(c)
		if !ok {
			return nil, false
		}
		if ans, ok := e.storedAnswer(c.key); ok {
			return ans, true
		}
		c.pay = e.undoPayment(ctx, c, &orig)
	}
	return nil, false
}

func subjectOf(proc uint32) string {
	if proc == PCTopUp {
		return "campus card top-up"
	}
	return "campus purchase"
}

// topUpTarget checks, before anyone is charged, that the card in field 2
// names an account that can be credited.
func (e *Engine) topUpTarget(c *call) (uint64, bool) {
	if !c.w.req.Has(2) {
		return 0, false
	}
	card := c.w.req.Digits(2)
	var no uint64
	_ = e.db.View(func(tx *store.Tx) error {
		a, ok, err := tx.AccountByCard(card)
		if ok && (a.Status == store.StatusActive || a.Status == store.StatusLost) {
			no = a.No
		}
		return err
	})
	return no, no != 0
}

// thirdPartyOriginal finds the third-party purchase a refund (field 61) or
// reversal (same STAN) names.
func (e *Engine) thirdPartyOriginal(c *call) (store.TxnState, bool) {
	orig := store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	if c.mti == mti0200 {
		f61, err := c.w.req.F61()
		if err != nil {
			return store.TxnState{}, false
		}
		orig.Batch, orig.STAN = f61.Batch, f61.STAN
	}
	var ts store.TxnState
	var found bool
	_ = e.db.View(func(tx *store.Tx) error {
		var err error
		ts, found, err = tx.Txn(orig)
		return err
	})
	if !found || ts.Reversed || ts.Channel == "" || ts.Channel == store.ChannelCampus || ts.Kind != store.KindPurchase {
		return store.TxnState{}, false
	}
	return ts, true
}

// pay asks the channel to take the money and waits, within the poll limit,
// while the person is still entering a password.
func (e *Engine) pay(ctx context.Context, r PayRequest) *payOutcome {
	start := e.now()
	res, err := e.payments.Pay(ctx, r)
	for err == nil && res.Status == PayPaying {
		if e.now().Sub(start) >= e.poll.Limit {
			// The POS will give up at 60 s: cancel below that and say so.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			cerr := e.payments.Cancel(cctx, r.TradeNo)
			cancel()
			if cerr != nil {
				e.log.Error("cancelling an unresolved payment failed; it must be reconciled", "trade", r.TradeNo, "err", cerr)
			}
			e.obs.Payment(r.Channel, "timed_out")
			return &payOutcome{rc: RCPayUnresolved, status: PayCancelled, channelTxn: res.ChannelTxn, outcome: "timed_out"}
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(e.poll.Interval):
			res, err = e.payments.Query(ctx, r.TradeNo)
		}
	}
	out := &payOutcome{status: res.Status, channelTxn: res.ChannelTxn, account: res.Account}
	switch {
	case err != nil:
		out.rc, out.outcome = RCCentreDown, "unavailable"
		if !errors.Is(err, ErrPayUnreachable) && !errors.Is(err, context.DeadlineExceeded) {
			out.rc, out.outcome = RCSystem, "error"
		}
		e.log.Warn("payment channel did not answer", "trade", r.TradeNo, "err", err)
	case res.Status == PayPaid:
		out.rc, out.outcome = RCApproved, "approved"
	case res.Status == PayNotBound:
		out.rc, out.outcome = RCNotBound, "not_bound"
	default:
		out.rc, out.outcome = RCChannelDecline, "declined"
	}
	e.obs.Payment(r.Channel, out.outcome)
	return out
}

// undoPayment refunds (refund) or cancels (reversal) a third-party purchase
// at its channel.
func (e *Engine) undoPayment(ctx context.Context, c *call, orig *store.TxnState) *payOutcome {
	amt := orig.Amount - orig.Refunded
	if c.mti == mti0200 {
		v, err := c.w.req.Amount()
		if err != nil || v <= 0 || v > amt {
			return nil // the transaction declines it (13)
		}
		amt = v
	}
	res, err := e.payments.Refund(ctx, tradeNo(orig.Key), tradeNo(c.key), amt)
	out := &payOutcome{status: res.Status, channelTxn: res.ChannelTxn}
	switch {
	case err != nil:
		out.rc, out.outcome = RCCentreDown, "unavailable"
	case res.Status == PayRefunded || res.Status == PayCancelled || res.Status == PayPaid:
		out.rc, out.outcome = RCApproved, "refunded"
	default:
		out.rc, out.outcome = RCChannelDecline, "declined"
	}
	e.obs.Payment(orig.Channel, out.outcome)
	return out
}

// thirdPartyPurchase is the in-transaction half of a payment-code purchase:
// the channel has already decided (c.pay); journal it. The campus account
// is not touched.
func (e *Engine) thirdPartyPurchase(c *call, channel store.Channel) error {
	c.channel = channel
	if _, ok := c.amount(c.e.limits.SingleTxnMax); !ok {
		return nil
	}
	if c.pay == nil {
		c.decline(RCCentreDown)
		return nil
	}
	c.rc = c.pay.rc
	c.rec.Note = "channel txn " + c.pay.channelTxn
	if c.rc != RCApproved {
		return nil
	}
	// A payer bound to a campus account: the purchase (and its refund)
	// shows in that person's history. The account's balance is untouched.
	c.rec.Account = c.pay.account
	if err := c.showBalance(); err != nil {
		return err
	}
	return c.putState(&store.TxnState{Key: c.key, Amount: c.rec.Amount, Kind: store.KindPurchase,
		ProcCode: c.proc, Channel: channel, Time: c.now, RRN: c.pay.channelTxn, Account: c.rec.Account})
}

// showBalance: a third-party record journalled on a bound payer's account
// shows that account's (unchanged) balance, like every other record of it.
func (c *call) showBalance() error {
	if c.rec.Account == 0 {
		return nil
	}
	a, ok, err := c.tx.Account(c.rec.Account)
	if err != nil || !ok {
		c.rec.Account = 0
		return err
	}
	c.rec.BalanceAfter = a.BalanceFen
	return nil
}

// thirdPartyRefund and thirdPartyReversal go back to the channel; without
// an outcome from it (no payment service, or unreachable) they are 91.
func (e *Engine) thirdPartyRefund(c *call, orig *store.TxnState, amt int64) error {
	c.channel = orig.Channel
	if err := c.showBalance(); err != nil {
		return err
	}
	if amt > orig.Amount-orig.Refunded {
		c.decline(RCBadAmount)
		return nil
	}
	if c.pay == nil {
		c.decline(RCCentreDown)
		return nil
	}
	c.rc = c.pay.rc
	if c.rc != RCApproved {
		return nil
	}
	orig.Refunded += amt
	if err := c.tx.PutTxn(orig); err != nil {
		return err
	}
	k := orig.Key
	return c.putState(&store.TxnState{Key: c.key, Amount: amt, Kind: store.KindRefund, ProcCode: c.proc,
		Channel: orig.Channel, Time: c.now, Orig: &k, RRN: c.pay.channelTxn})
}

func (e *Engine) thirdPartyReversal(c *call, orig *store.TxnState) error {
	c.channel = orig.Channel
	if err := c.showBalance(); err != nil {
		return err
	}
	if c.pay == nil || c.pay.rc != RCApproved {
		// The channel payment could not be undone now: the reversal is
		// still approved to the POS (it must stop retrying) and the record
		// is an exception for reconciliation.
		c.rec.Exception = true
		c.rec.Note += "; channel payment not cancelled yet"
		return nil
	}
	orig.Reversed = true
	return c.tx.PutTxn(orig)
}

// refundAfterFailedCredit gives a top-up's channel payment back when the
// account could not be credited after the channel took the money.
func (e *Engine) refundAfterFailedCredit(ctx context.Context, c *call) {
	if c.pay == nil || c.pay.rc != RCApproved || c.rc == RCApproved || c.proc != PCTopUp {
		return
	}
	k := tradeNo(c.key)
	res, err := e.payments.Refund(context.WithoutCancel(ctx), k, k+"R", c.rec.Amount)
	if err != nil || (res.Status != PayRefunded && res.Status != PayCancelled) {
		e.log.Error("top-up was paid but not credited, and the channel refund failed: reconcile", "trade", k, "err", err)
		return
	}
	e.log.Warn("top-up could not be credited; the channel payment was refunded", "trade", k, "rc", c.rc)
}
