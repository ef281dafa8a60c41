package txn

import (
	"strconv"

	"ecardgw/gateway/ledger"
	"ecardgw/store"
)

// advice: 0220, a card purchase the POS completed while it could not reach
// the gateway. The goods are gone, so it is always journaled and answered
// 00; whatever would have declined it (balance, loss, frozen, unknown card)
// flags it as an exception for reconciliation instead. The account may go
// negative. A duplicate gets the original answer (idempotency record).
// One advice above limits.advice_max_fen is not a sale a POS makes offline:
// it is answered 13 and journaled as an exception, nothing debited.
func (e *Engine) advice(c *call) error {
	c.rc = RCApproved
	amt, err := c.w.req.Amount()
	if err != nil || amt <= 0 {
		c.rec.Exception = true
		c.rec.Note = "advice without a valid amount"
		return nil
	}
	c.rec.Amount = amt
	if amt > e.limits().AdviceMaxFen {
		c.decline(RCBadAmount)
		c.rec.Exception = true
		c.rec.Note = "advice over the offline limit of " + strconv.FormatInt(e.limits().AdviceMaxFen, 10) + " fen: not debited"
		return nil
	}
	a, ok, err := c.cardAccount()
	if err != nil {
		return err
	}
	if !ok {
		if a.No == 0 {
			c.rec.Exception = true
			c.rec.Note = "advice for an unknown card (" + string(c.rc) + ")"
			c.rc = RCApproved
			return nil
		}
		c.rec.Exception = true
		c.rec.Note = "advice for a card that would be declined " + string(c.rc)
		c.rc = RCApproved
	}
	uncovered, err := ledger.SpendOffline(&a, amt, c.now)
	if err != nil {
		c.rc = RCApproved
		c.rec.Exception = true
		c.rec.Note = "advice not debited: " + err.Error()
		return nil
	}
	if uncovered {
		c.rec.Exception = true
		if c.rec.Note == "" {
			c.rec.Note = "advice exceeds the balance"
		}
	}
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	c.hasBal, c.bal = true, a.BalanceFen
	c.rec.BalanceAfter = a.BalanceFen
	c.channel = store.ChannelCampus
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindPurchase,
		ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now})
}
