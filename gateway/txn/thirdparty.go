package txn

import (
	"context"
	"errors"
	"time"

	"ecardgw/store"
)

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
	Channel  string
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
}

// ErrPayUnreachable is returned by a Payments implementation that cannot
// reach the centre or payment service.
var ErrPayUnreachable = errors.New("txn: payment service unreachable")

// payOutcome is the result of talking to the channel before the store
// transaction (that conversation may take up to the poll limit and must
// never hold the journal's group commit).
type payOutcome struct {
	rc         string
	status     PayStatus
	channelTxn string
	outcome    string // metrics label
}

// PollPolicy bounds the "user is paying" wait.
type PollPolicy struct {
	Limit    time.Duration // default 30 s, below the POS's own 60 s
	Interval time.Duration // default 1 s
}

// thirdPartyPurchase is the in-transaction half of a payment-code purchase:
// the channel has already decided (c.pay); journal it. The campus account
// is not touched.
func (e *Engine) thirdPartyPurchase(c *call, channel string) error {
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
	return c.putState(&store.TxnState{Key: c.key, Amount: c.rec.Amount, Kind: "purchase",
		ProcCode: c.proc, Channel: channel, Time: c.now, RRN: c.pay.channelTxn})
}

// thirdPartyRefund and thirdPartyReversal go back to the channel; without
// an outcome from it (no payment service, or unreachable) they are 91.
func (e *Engine) thirdPartyRefund(c *call, orig *store.TxnState, amt int64) error {
	c.channel = orig.Channel
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
	return c.putState(&store.TxnState{Key: c.key, Amount: amt, Kind: "refund", ProcCode: c.proc,
		Channel: orig.Channel, Time: c.now, Orig: &k, RRN: c.pay.channelTxn})
}

func (e *Engine) thirdPartyReversal(c *call, orig *store.TxnState) error {
	c.channel = orig.Channel
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
