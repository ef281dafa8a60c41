package txn

import (
	"ecardgw/gateway/ledger"
	"ecardgw/store"
)

// purchase: 0200/000000 by card or campus code (third-party codes go to the
// payment channel).
func (e *Engine) purchase(c *call) error {
	if third := c.thirdPartyCode(); third != "" {
		return e.thirdPartyPurchase(c, third)
	}
	amt, ok := c.amount(e.limits().SingleTxnMax)
	if !ok {
		return nil
	}
	if dead, err := c.tx.Tombstone(c.key); err != nil {
		return err
	} else if dead {
		// A reversal for this request came first: the late original is
		// refused so that nothing is taken after it was undone.
		c.decline(RCNoOriginal)
		return nil
	}
	a, ok, err := c.payer()
	if err != nil || !ok {
		return err
	}
	c.hasBal, c.bal = true, a.BalanceFen
	if c.refused(ledger.Spend(&a, amt, e.limits().DailyFen, c.now)) {
		return nil
	}
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	c.bal = a.BalanceFen
	c.rc = RCApproved
	c.rec.BalanceAfter = a.BalanceFen
	if c.channel == "" {
		c.channel = store.ChannelCampus
	}
	if err := c.consumeCode(); err != nil {
		return err
	}
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindPurchase,
		ProcCode: c.proc, Channel: c.channel, Time: c.now})
}

// inquiry: 0100/310000, the balance of the card's or campus code's account.
func (e *Engine) inquiry(c *call) error {
	if c.thirdPartyCode() != "" {
		c.declineWhy(RCNotAllowed, "no balance inquiry with a third-party payment code")
		return nil
	}
	a, ok, err := c.payer()
	if err != nil || !ok {
		return err
	}
	c.rc = RCApproved
	c.hasBal, c.bal = true, a.BalanceFen
	if a.Wallet.Loaded || a.CardSerial != "" {
		c.hasWal, c.wal = true, a.Wallet.Balance
	}
	c.rec.BalanceAfter = a.BalanceFen
	return c.consumeCode()
}

// inquiryReadOnly answers a balance inquiry from a read transaction when
// the journal cannot be written; nothing is recorded.
func (e *Engine) inquiryReadOnly(c *call) ([]byte, bool) {
	if c.proc != PCBalance {
		return nil, false
	}
	var ans []byte
	err := e.db.View(func(tx *store.Tx) error {
		c.reset(tx)
		c.readOnly = true
		if err := e.inquiry(c); err != nil {
			return err
		}
		w := c.w
		req, r := &w.req, &w.resp
		r.SetResponseFrom(req, 2, 3, 11, 25, 41, 42, 60)
		r.Header = req.Header.Reply(procNone)
		e.stampTime(r)
		_ = r.SetString(39, string(c.rc))
		if c.hasBal {
			_ = r.SetBytes(54, appendBalances(nil, c))
		}
		out, err := encodeRespKey(w, c.st.macKey)
		ans = out
		return err
	})
	return ans, err == nil && ans != nil
}
