package refcentre

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

// The payment channel simulator. The last digit of the payment code
// chooses what the "channel" does, so that tests pick their outcome:
//
//	0-4  paid at once
//	5    "user paying" (password entry), paid at the PayingPolls-th query (2)
//	6    "user paying" until cancelled
//	7    declined by the channel
//	8    not bound to a campus identity
//	9    paid after PayDelay (2 s): the pay call itself takes that long
//
// A payment code is 10 to 32 digits; anything else is declined.

// Outcome digits, named for the tests.
const (
	DigitPaid      = 0
	DigitPollPaid  = 5
	DigitPaying    = 6
	DigitDeclined  = 7
	DigitNotBound  = 8
	DigitSlowPaid  = 9
	minPayCodeLen  = 10
	maxPayCodeLen  = 32
	maxTradeNoLen  = 64
	outcomeInvalid = -1
)

// ErrUnknownTrade means a query or refund names a trade never paid here
// (answered 404).
var ErrUnknownTrade = errors.New("refcentre: unknown trade")

type trade struct {
	TradeNo    string        `json:"trade_no"`
	Channel    store.Channel `json:"channel"`
	CodeHash   string        `json:"code_hash"` // the code itself is not kept
	Outcome    int           `json:"outcome"`
	Amount     int64         `json:"amount"`
	Account    uint64        `json:"account"`
	Status     string        `json:"status"`
	Reason     string        `json:"reason,omitempty"`
	Polls      int           `json:"polls"`
	PaidAt     time.Time     `json:"paid_at"` // outcome 9: when it becomes paid
	ChannelTxn string        `json:"channel_txn"`
	Refunded   int64         `json:"refunded"`
	Created    time.Time     `json:"created"`
}

type refund struct {
	TradeNo string               `json:"trade_no"`
	Amount  int64                `json:"amount"`
	Result  centre.WirePayResult `json:"result"`
}

func (t *trade) result() centre.WirePayResult {
	return centre.WirePayResult{TradeNo: t.TradeNo, Status: t.Status, ChannelTxn: t.ChannelTxn, Reason: t.Reason}
}

func outcomeOf(code string) int {
	if len(code) < minPayCodeLen || len(code) > maxPayCodeLen {
		return outcomeInvalid
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return outcomeInvalid
		}
	}
	return int(code[len(code)-1] - '0')
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:8])
}

// advance moves a "user paying" trade on: query counts polls (outcome 5)
// and time passes (outcome 9).
func (c *Centre) advance(t *trade, query bool, now time.Time) {
	if t.Status != centre.PayStatusPaying {
		return
	}
	switch t.Outcome {
	case DigitPollPaid:
		if query {
			t.Polls++
		}
		if t.Polls >= c.opt.PayingPolls {
			t.Status = centre.PayStatusPaid
		}
	case DigitSlowPaid:
		if !now.Before(t.PaidAt) {
			t.Status = centre.PayStatusPaid
		}
	}
}

func getTrade(tx *bolt.Tx, no string) (trade, bool, error) {
	var t trade
	ok, err := getJSON(tx.Bucket(bktTrades), []byte(no), &t)
	return t, ok, err
}

func putTrade(tx *bolt.Tx, t *trade) error {
	return putJSON(tx.Bucket(bktTrades), []byte(t.TradeNo), t)
}

func checkTradeNo(no string) error {
	if no == "" || len(no) > maxTradeNoLen {
		return fmt.Errorf("%w: trade_no must be 1 to %d characters", ErrBadRequest, maxTradeNoLen)
	}
	return nil
}

// Pay starts (or, for a known trade number, reports) a payment.
func (c *Centre) Pay(ctx context.Context, p *centre.WirePayRequest) (centre.WirePayResult, error) {
	if err := checkTradeNo(p.TradeNo); err != nil {
		return centre.WirePayResult{}, err
	}
	if p.Amount <= 0 {
		return centre.WirePayResult{}, fmt.Errorf("%w: amount must be positive", ErrBadRequest)
	}
	var t trade
	err := c.db.Batch(func(tx *bolt.Tx) error {
		now := c.now()
		old, ok, err := getTrade(tx, p.TradeNo)
		if err != nil {
			return err
		}
		if ok {
			if old.Status != centre.PayStatusCancelled || old.CodeHash != "" {
				if old.CodeHash != codeHash(p.AuthCode) || old.Amount != p.Amount {
					return fmt.Errorf("%w: trade_no already used for another payment", ErrConflict)
				}
			}
			// A trade cancelled before its pay arrived stays cancelled.
			t = old
			c.advance(&t, false, now)
			return putTrade(tx, &t)
		}
		seq, err := tx.Bucket(bktTrades).NextSequence()
		if err != nil {
			return err
		}
		t = trade{TradeNo: p.TradeNo, Channel: p.Channel, CodeHash: codeHash(p.AuthCode),
			Outcome: outcomeOf(p.AuthCode), Amount: p.Amount, Account: p.Account, Created: now,
			ChannelTxn: fmt.Sprintf("SIM%s%08d", now.Format("20060102"), seq)}
		switch t.Outcome {
		case outcomeInvalid:
			t.Status, t.Reason = centre.PayStatusDeclined, "invalid payment code"
		case DigitPollPaid, DigitPaying:
			t.Status = centre.PayStatusPaying
		case DigitDeclined:
			t.Status, t.Reason = centre.PayStatusDeclined, "declined by channel (simulated)"
		case DigitNotBound:
			t.Status, t.Reason = centre.PayStatusNotBound, "wallet not bound to a campus identity (simulated)"
		case DigitSlowPaid:
			t.Status, t.PaidAt = centre.PayStatusPaying, now.Add(c.opt.PayDelay)
		default:
			t.Status = centre.PayStatusPaid
		}
		return putTrade(tx, &t)
	})
	if err != nil {
		return centre.WirePayResult{}, err
	}
	c.stats.pays.Add(1)
	if t.Outcome == DigitSlowPaid && t.Status == centre.PayStatusPaying {
		// The channel takes its time; the caller's timeout may cut it
		// short, and then it learns the outcome by querying.
		wait := time.NewTimer(time.Until(t.PaidAt))
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			return centre.WirePayResult{}, ctx.Err()
		}
		return c.touch(p.TradeNo, false)
	}
	return t.result(), nil
}

// Query reports a trade's state; each query of a code ending in 5 counts
// as one poll.
func (c *Centre) Query(tradeNo string) (centre.WirePayResult, error) {
	if err := checkTradeNo(tradeNo); err != nil {
		return centre.WirePayResult{}, err
	}
	return c.touch(tradeNo, true)
}

func (c *Centre) touch(tradeNo string, query bool) (centre.WirePayResult, error) {
	var t trade
	err := c.db.Update(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if t, ok, err = getTrade(tx, tradeNo); err != nil {
			return err
		} else if !ok {
			return ErrUnknownTrade
		}
		c.advance(&t, query, c.now())
		return putTrade(tx, &t)
	})
	return t.result(), err
}

// Cancel closes a trade: one being paid stops, one paid is given back in
// full. A trade not seen yet is remembered as cancelled so that a late
// pay request for it is refused.
func (c *Centre) Cancel(tradeNo string) (centre.WirePayResult, error) {
	if err := checkTradeNo(tradeNo); err != nil {
		return centre.WirePayResult{}, err
	}
	var t trade
	err := c.db.Update(func(tx *bolt.Tx) error {
		now := c.now()
		old, ok, err := getTrade(tx, tradeNo)
		if err != nil {
			return err
		}
		if !ok {
			t = trade{TradeNo: tradeNo, Status: centre.PayStatusCancelled, Reason: "cancelled before payment", Created: now}
			return putTrade(tx, &t)
		}
		t = old
		c.advance(&t, false, now)
		switch t.Status {
		case centre.PayStatusCancelled:
		case centre.PayStatusPaid, centre.PayStatusRefunded:
			t.Status, t.Reason = centre.PayStatusCancelled, "paid trade cancelled: money returned"
			t.Refunded = t.Amount
		default:
			t.Status, t.Reason = centre.PayStatusCancelled, ""
		}
		return putTrade(tx, &t)
	})
	return t.result(), err
}

// Refund gives back part of a paid trade, once per refund number.
func (c *Centre) Refund(r *centre.WireRefundRequest) (centre.WirePayResult, error) {
	if err := checkTradeNo(r.TradeNo); err != nil {
		return centre.WirePayResult{}, err
	}
	if r.RefundNo == "" || len(r.RefundNo) > maxTradeNoLen || r.Amount <= 0 {
		return centre.WirePayResult{}, fmt.Errorf("%w: refund_no and a positive amount are required", ErrBadRequest)
	}
	var res centre.WirePayResult
	err := c.db.Update(func(tx *bolt.Tx) error {
		var prev refund
		if ok, err := getJSON(tx.Bucket(bktRefunds), []byte(r.RefundNo), &prev); err != nil {
			return err
		} else if ok {
			if prev.TradeNo != r.TradeNo || prev.Amount != r.Amount {
				return fmt.Errorf("%w: refund_no already used for another refund", ErrConflict)
			}
			res = prev.Result
			return nil
		}
		t, ok, err := getTrade(tx, r.TradeNo)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUnknownTrade
		}
		c.advance(&t, false, c.now())
		res = centre.WirePayResult{TradeNo: t.TradeNo, ChannelTxn: t.ChannelTxn}
		switch {
		case t.Status != centre.PayStatusPaid:
			res.Status, res.Reason = centre.PayStatusDeclined, "trade is not paid"
		case r.Amount > t.Amount-t.Refunded:
			res.Status, res.Reason = centre.PayStatusDeclined, "refund exceeds what is left"
		default:
			t.Refunded += r.Amount
			if t.Refunded == t.Amount {
				t.Status = centre.PayStatusRefunded
			}
			res.Status = centre.PayStatusRefunded
			if err := putTrade(tx, &t); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bktRefunds), []byte(r.RefundNo), refund{TradeNo: r.TradeNo, Amount: r.Amount, Result: res})
	})
	return res, err
}
