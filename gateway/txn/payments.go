package txn

import (
	"context"
	"time"

	"ecardgw/store"
)

// Third-party payments (WeChat Pay, Alipay, UnionPay QR): a payment code
// is a durable intent driven by the channel's answers and timers
// (paystate.go); a refund reserves its amount and asks the channel before
// its store transaction (prepay); the transaction journals what was
// decided (thirdPartyPurchase, thirdPartyRefund, thirdPartyReversal, and a
// kiosk's top-up in kiosk.go); the channel calls owed (cancels, refunds of
// a reversal or of a payment that ended refused) go to the retry queue
// with the answer (payjobs.go).

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
// and MTI, like the idempotency key, so a retried Pay is the same payment
// (store.IdemKey.TradeNo, which retention also derives it with).
func tradeNo(k store.IdemKey) string { return k.TradeNo() }

// prepay talks to the payment channel for a third-party refund before
// the store transaction: the amount is first reserved in the purchase's
// refundable amount (durably, with an intent), so that two refunds of one
// purchase can never both be paid out, then the channel is asked; the
// transaction keeps the reservation on approval and releases it on a
// refusal. The outcome is left in c.pay. It returns a stored answer when
// the request is a retransmission (nothing is refunded twice), or a
// refusal that is not stored while an earlier copy is still at the channel.
// (Payment codes go through codePayment; reversals queue their channel
// call with the answer, reversalPayments.)
func (e *Engine) prepay(ctx context.Context, c *call) ([]byte, bool) {
	if e.payments == nil || c.mti != mti0200 || c.proc != PCRefund {
		return nil, false
	}
	orig, ok := e.thirdPartyOriginal(c)
	if !ok {
		return nil, false
	}
	if ans, ok := e.storedAnswer(c); ok {
		return ans, true
	}
	amt, err := c.w.req.Amount()
	if err != nil || amt <= 0 {
		return nil, false // the transaction declines it (13)
	}
	var answered []byte
	busy := false
	err = e.db.Update(ctx, func(tx *store.Tx) error {
		answered, busy, c.reserved = nil, false, false
		if v, ok, err := tx.Idem(c.key); err != nil || ok {
			answered = append([]byte(nil), v...)
			return err
		}
		if _, ok, err := tx.PayIntent(c.key); err != nil || ok {
			busy = ok
			return err
		}
		ts, ok, err := tx.Txn(orig.Key)
		if err != nil || !ok || ts.Reversed || amt > ts.Amount-ts.Refunded {
			return err // the transaction declines it (13, 25)
		}
		ts.Refunded += amt
		if err := tx.PutTxn(&ts); err != nil {
			return err
		}
		k := orig.Key
		c.reserved = true
		return tx.PutPayIntent(&store.PayIntent{Key: c.key, Kind: store.KindRefund, Trade: tradeNo(orig.Key),
			RefundNo: tradeNo(c.key), Channel: orig.Channel, Amount: amt, Orig: &k, Created: c.now})
	})
	switch {
	case err != nil:
		c.reserved = false
		return nil, false // the transaction fails the same way (96)
	case answered != nil:
		return answered, true
	case busy:
		// An earlier copy is still at the channel: say so without storing
		// anything, the terminal asks again.
		return e.plainAnswer(c.w, RCCentreDown, c.st.macKey), true
	case !c.reserved:
		return nil, false
	}
	c.payIntent = true
	c.pay = e.refundAtChannel(ctx, c, &orig, amt)
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

// refundAtChannel asks the channel to refund a reserved amount. An
// answer that leaves the outcome unknown keeps the reservation and queues
// the refund (same refund number: the channel does it once) until the
// channel confirms or refuses it.
func (e *Engine) refundAtChannel(ctx context.Context, c *call, orig *store.TxnState, amt int64) *payOutcome {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), payCallTimeout)
	res, err := e.payments.Refund(cctx, tradeNo(orig.Key), tradeNo(c.key), amt)
	cancel()
	out := &payOutcome{status: res.Status, channelTxn: res.ChannelTxn}
	switch {
	case err != nil:
		out.rc, out.outcome = RCCentreDown, "unavailable"
		k := orig.Key
		c.payJob = &store.PayJob{Op: store.PayJobRefund, Trade: tradeNo(orig.Key), RefundNo: tradeNo(c.key),
			Amount: amt, Channel: orig.Channel, Orig: &k, Reason: "refund outcome unknown"}
		e.log.Warn("payment channel did not answer a refund: queued for retry", "trade", tradeNo(orig.Key), "err", err)
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
// is not touched. A purchase reversed while it was being paid is refused
// (25); if the channel took the money meanwhile it is given back
// (paymentEffects).
func (e *Engine) thirdPartyPurchase(c *call, channel store.Channel) error {
	c.channel = channel
	if _, ok := c.amount(c.e.limits().SingleTxnMax); !ok {
		return nil
	}
	if c.pay == nil {
		c.decline(RCCentreDown)
		return nil
	}
	if dead, err := c.tx.Tombstone(c.key); err != nil {
		return err
	} else if dead {
		c.decline(RCNoOriginal)
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

// thirdPartyRefund journals a third-party refund the channel answered.
// Its amount was reserved in the purchase before the channel was asked
// (prepay): an approval keeps it, a refusal gives it back, an unknown
// outcome keeps it for the queued retry. Without an outcome (no payment
// service) it is 91.
func (e *Engine) thirdPartyRefund(c *call, orig *store.TxnState, amt int64) error {
	c.channel = orig.Channel
	if err := c.showBalance(); err != nil {
		return err
	}
	if c.reserved && c.pay != nil {
		c.rc = c.pay.rc
		switch {
		case c.rc == RCApproved:
			k := orig.Key
			return c.putState(&store.TxnState{Key: c.key, Amount: amt, Kind: store.KindRefund, ProcCode: c.proc,
				Channel: orig.Channel, Time: c.now, Orig: &k, RRN: c.pay.channelTxn})
		case c.payJob == nil:
			orig.Refunded -= amt
			if orig.Refunded < 0 {
				orig.Refunded = 0
			}
			return c.tx.PutTxn(orig)
		}
		c.rec.Exception = true
		c.rec.Note = "refund outcome unknown: retried from the queue"
		return nil
	}
	if amt > orig.Amount-orig.Refunded {
		c.decline(RCBadAmount)
		return nil
	}
	c.decline(RCCentreDown)
	return nil
}

// thirdPartyReversal undoes a third-party purchase: the channel refund was
// queued with this answer (reversalPayments), so the reversal is approved
// at once and the POS stops retrying it.
func (e *Engine) thirdPartyReversal(c *call, orig *store.TxnState) error {
	c.channel = orig.Channel
	if err := c.showBalance(); err != nil {
		return err
	}
	c.rec.Note += "; channel refund queued"
	c.rec.Amount = 0 // the campus account does not move: the channel refunds the payer
	orig.Reversed = true
	return c.tx.PutTxn(orig)
}
