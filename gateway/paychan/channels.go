package paychan

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// Channels is the engine's txn.Payments when a channel adapter is
// configured: it routes each trade to its channel's adapter (fallback for
// the others: the centre or payments.url, or nil), and decorates a paid
// purchase with the payer's campus account, or reverses it and answers
// PayNotBound when the payer is bound to none.
//
// Query, Cancel and Refund name only the trade number, so Pay records the
// trade's channel (and whether it is a purchase) in the store first; a
// trade never recorded goes to the fallback.
type Channels struct {
	db       *store.DB
	direct   map[store.Channel]txn.Payments
	fallback txn.Payments
	log      *slog.Logger
	now      func() time.Time
}

// New builds Channels; direct maps a channel to its adapter.
func New(db *store.DB, direct map[store.Channel]txn.Payments, fallback txn.Payments, log *slog.Logger) *Channels {
	if log == nil {
		log = slog.Default()
	}
	return &Channels{db: db, direct: direct, fallback: fallback, log: log, now: time.Now}
}

var _ txn.Payments = (*Channels)(nil)

// trade is what Pay remembers of a trade.
type trade struct {
	ch       store.Channel
	purchase bool
}

func (c *Channels) remember(ctx context.Context, no string, t trade) error {
	kind := "purchase"
	if !t.purchase {
		kind = "topup"
	}
	return c.db.Update(ctx, func(tx *store.Tx) error {
		return tx.PutServiceResult(kindTrade, no, []byte(string(t.ch)+":"+kind))
	})
}

func (c *Channels) recall(no string) (trade, txn.Payments) {
	var t trade
	_ = c.db.View(func(tx *store.Tx) error {
		v, ok, err := tx.ServiceResult(kindTrade, no)
		if ok {
			ch, kind, _ := strings.Cut(string(v), ":")
			t = trade{ch: store.Channel(ch), purchase: kind == "purchase"}
		}
		return err
	})
	if a, ok := c.direct[t.ch]; ok {
		return t, a
	}
	return t, c.fallback
}

// Pay routes the payment; a paid purchase is checked for its binding.
func (c *Channels) Pay(ctx context.Context, r txn.PayRequest) (txn.PayResult, error) {
	a, ok := c.direct[r.Channel]
	if !ok {
		if c.fallback == nil {
			return txn.PayResult{}, fmt.Errorf("%w: no payment service for %s", txn.ErrPayUnreachable, r.Channel)
		}
		return c.fallback.Pay(ctx, r)
	}
	t := trade{ch: r.Channel, purchase: r.Account == 0}
	if err := c.remember(ctx, r.TradeNo, t); err != nil {
		return txn.PayResult{}, fmt.Errorf("%w: recording the trade: %v", txn.ErrPayUnreachable, err)
	}
	res, err := a.Pay(ctx, r)
	return c.checkBound(ctx, a, r.TradeNo, t, res, err)
}

// Query asks the trade's channel; a purchase found paid is checked for its
// binding like a paid Pay.
func (c *Channels) Query(ctx context.Context, tradeNo string) (txn.PayResult, error) {
	t, a := c.recall(tradeNo)
	if a == nil {
		return txn.PayResult{}, fmt.Errorf("%w: no payment service", txn.ErrPayUnreachable)
	}
	res, err := a.Query(ctx, tradeNo)
	if _, direct := c.direct[t.ch]; !direct {
		return res, err
	}
	return c.checkBound(ctx, a, tradeNo, t, res, err)
}

// Cancel routes to the trade's channel.
func (c *Channels) Cancel(ctx context.Context, tradeNo string) error {
	_, a := c.recall(tradeNo)
	if a == nil {
		return fmt.Errorf("%w: no payment service", txn.ErrPayUnreachable)
	}
	return a.Cancel(ctx, tradeNo)
}

// Refund routes to the trade's channel.
func (c *Channels) Refund(ctx context.Context, tradeNo, refundNo string, amount int64) (txn.PayResult, error) {
	_, a := c.recall(tradeNo)
	if a == nil {
		return txn.PayResult{}, fmt.Errorf("%w: no payment service", txn.ErrPayUnreachable)
	}
	return a.Refund(ctx, tradeNo, refundNo, amount)
}

// ReverseTimeout bounds the reversal of an unbound payer's payment.
const ReverseTimeout = 15 * time.Second

// checkBound: a paid purchase whose payer is bound gets the account; one
// whose payer is not is reversed at the channel and answered PayNotBound.
func (c *Channels) checkBound(ctx context.Context, a txn.Payments, no string, t trade, res txn.PayResult, err error) (txn.PayResult, error) {
	if err != nil || res.Status != txn.PayPaid || !t.purchase {
		return res, err
	}
	var acct uint64
	var found bool
	if res.Payer != "" {
		if verr := c.db.View(func(tx *store.Tx) error {
			var e error
			acct, found, e = Lookup(tx, t.ch, res.Payer)
			return e
		}); verr != nil {
			return txn.PayResult{}, verr
		}
	}
	if found {
		res.Account = acct
		return res, nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReverseTimeout)
	defer cancel()
	reason := "payer not bound; payment reversed"
	if rerr := a.Cancel(rctx, no); rerr != nil {
		reason = "payer not bound; REVERSAL FAILED, reconcile"
		c.log.Error("an unbound payer's payment could not be reversed; it must be reconciled", "trade", no, "channel", t.ch, "err", rerr)
	} else {
		c.log.Info("payment by an unbound payer reversed", "trade", no, "channel", t.ch)
	}
	return txn.PayResult{Status: txn.PayNotBound, ChannelTxn: res.ChannelTxn, Payer: res.Payer, Reason: reason}, nil
}
