package txn

import (
	"ecardgw/gateway/ledger"
	"ecardgw/store"
)

// refund: 0200/200000 names the original purchase of this terminal in field
// 61 and may be partial; refunds of one purchase never exceed it (13).
func (e *Engine) refund(c *call) error {
	amt, ok := c.amount(0)
	if !ok {
		return nil
	}
	f61, err := c.w.req.F61()
	if err != nil {
		c.decline(RCFormat)
		return nil
	}
	orig := store.IdemKey{Terminal: c.term.ID, Batch: f61.Batch, STAN: f61.STAN, MTI: mti0200}
	c.rec.Orig = &orig
	ts, found, err := c.tx.Txn(orig)
	if err != nil {
		return err
	}
	if !found || ts.Reversed || ts.Kind != store.KindPurchase {
		c.decline(RCNoOriginal)
		return nil
	}
	c.rec.Account = ts.Account
	if ts.Channel != "" && ts.Channel != store.ChannelCampus {
		return e.thirdPartyRefund(c, &ts, amt)
	}
	if amt > ts.Amount-ts.Refunded {
		c.decline(RCBadAmount)
		return nil
	}
	a, ok, err := c.tx.Account(ts.Account)
	if err != nil {
		return err
	}
	if !ok {
		c.decline(RCUnknownCard)
		return nil
	}
	if c.refused(ledger.GiveBack(&a, amt, c.now)) {
		return nil
	}
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	ts.Refunded += amt
	if err := c.tx.PutTxn(&ts); err != nil {
		return err
	}
	c.rc = RCApproved
	c.hasBal, c.bal = true, a.BalanceFen
	c.rec.BalanceAfter = a.BalanceFen
	c.channel = store.ChannelCampus
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindRefund,
		ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now, Orig: &orig})
}

// reversal: 0400 undoes the original request (same terminal, batch and
// STAN, MTI 0200) whatever it was. An unknown original is approved and
// remembered (a tombstone), so that a late original is declined 25.
//
// The journal record of a reversal that names its account carries as
// Amount the signed change it made to the balance (positive: given back,
// negative: taken back, 0: nothing to undo), so that an account's balance
// is the sum of its records. One whose original is unknown or was
// declined names no account and keeps the amount the terminal sent.
func (e *Engine) reversal(c *call) error {
	orig := store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	c.rec.Orig = &orig
	if v, err := c.w.req.Amount(); err == nil {
		c.rec.Amount = v
	}
	if c.w.req.Has(39) {
		c.rec.Note = "reason " + string(c.w.req.Bytes(39))
	}
	c.rc = RCApproved
	ts, found, err := c.tx.Txn(orig)
	if err != nil {
		return err
	}
	if !found {
		_, answered, err := c.tx.Idem(orig)
		if err != nil {
			return err
		}
		if answered {
			// The original was declined: there is nothing to undo.
			c.rec.Note += "; original declined"
			return nil
		}
		c.rec.Note += "; original unknown, remembered"
		return c.tx.PutTombstone(orig, c.now)
	}
	c.rec.Account = ts.Account
	if ts.Reversed {
		c.rec.Note += "; already reversed"
		c.rec.Amount = 0
		return nil
	}
	if ts.Channel != "" && ts.Channel != store.ChannelCampus {
		switch ts.Kind {
		case store.KindPurchase:
			return e.thirdPartyReversal(c, &ts)
		case store.KindRefund:
			// The money went back to the payer's wallet at the channel,
			// not to the campus account: nothing here to take back.
			c.rec.Note += "; a channel refund cannot be taken back: it stands (reconcile with the channel's bill)"
			c.rec.Exception = true
			c.rec.Amount = 0
			return nil
		}
	}
	undo := ts.Amount - ts.Refunded
	a, ok, err := c.tx.Account(ts.Account)
	if err != nil {
		return err
	}
	if !ok {
		c.decline(RCUnknownCard)
		return nil
	}
	switch ts.Kind {
	case store.KindPurchase, store.KindFee:
		if undo > 0 && c.refused(ledger.GiveBack(&a, undo, c.now)) {
			return nil
		}
	case store.KindLoad:
		if loadTakenSince(&a, ts.Key) {
			// A later load came since, at a higher online counter: the card
			// took this one. The reversal is answered but gives nothing
			// back.
			c.rec.Note += "; the card took this load (a later load followed it), nothing to undo"
			c.rec.Exception = true
			undo = 0
			break
		}
		if c.refused(ledger.GiveBack(&a, ts.Amount, c.now)) {
			return nil
		}
		undo = ts.Amount
		// The card says nothing yet: its next load tells whether it took
		// this one.
		awaitNextLoad(&a, &ts)
	case store.KindRefund:
		undone, err := e.unrefund(c, &ts)
		if err != nil {
			return err
		}
		if !undone {
			// The purchase was reversed since: its reversal gave back only
			// what this refund had not, so the customer is whole for it and
			// there is nothing left to take back.
			c.rec.Note += "; purchase already reversed, nothing to undo"
			undo = 0
			break
		}
		negative, err := ledger.TakeBack(&a, ts.Amount, c.now)
		if c.refused(err) {
			return nil
		}
		undo = -ts.Amount
		c.rec.Exception = negative
	case store.KindTopUp:
		return e.topUpReversal(c, &ts, &a)
	default:
		c.rec.Note += "; nothing to undo for " + string(ts.Kind)
		c.rec.Amount = 0
		return nil
	}
	a.Updated = c.now
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	ts.Reversed = true
	if err := c.tx.PutTxn(&ts); err != nil {
		return err
	}
	c.rec.Amount = undo
	c.rec.BalanceAfter = a.BalanceFen
	c.hasBal, c.bal = true, a.BalanceFen
	return nil
}

// unrefund gives a reversed refund back to its purchase's refundable
// amount. It reports false when the purchase was reversed meanwhile: that
// reversal gave back only the part not refunded, so the refund stands and
// its reversal moves no money.
//
// The rules, for a purchase of amount A with refunds r1, r2, ... (see
// docs/protocol.md, 9.2): refunded R = the sum of the refunds not reversed,
// always in [0, A]; reversing the purchase gives back A − R and ends it
// (no refund after that: 25); reversing a refund takes r back and makes it
// refundable again, unless the purchase is reversed. So the customer's net
// for the purchase, −A + R + (A − R if reversed), stays in [−A, 0].
func (e *Engine) unrefund(c *call, refund *store.TxnState) (bool, error) {
	if refund.Orig == nil {
		return true, nil
	}
	p, ok, err := c.tx.Txn(*refund.Orig)
	if err != nil || !ok {
		return true, err
	}
	if p.Reversed {
		return false, nil
	}
	p.Refunded -= refund.Amount
	if p.Refunded < 0 {
		p.Refunded = 0
	}
	return true, c.tx.PutTxn(&p)
}
