package txn

import (
	"ecardgw/gateway/ledger"
	"strings"

	"ecardgw/store"
)

// topUp: 0200/210000 at a kiosk. Amount 0.01 to 999.00 (13 above), paid
// with the WeChat or Alipay code in field 62, credited to the card's account
// (field 2) only after the channel confirmed (c.pay, decided before this
// transaction). If the credit cannot be made the channel payment is marked
// for refund.
func (e *Engine) topUp(c *call) error {
	amt, ok := c.amount(e.limits().TopUpMaxFen)
	if !ok {
		return nil
	}
	ch := ClassifyCode(c.w.req.Bytes(62))
	if c.entryMode() != entryCode || !ch.ThirdParty() {
		c.decline(RCUnknownCode)
		return nil
	}
	c.channel = ch
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return err
	}
	if c.pay == nil {
		c.decline(RCCentreDown)
		return nil
	}
	c.rec.Note = "channel txn " + c.pay.channelTxn
	if c.pay.rc != RCApproved {
		c.decline(c.pay.rc)
		return nil
	}
	if c.refused(ledger.Receive(&a, amt, c.now)) {
		return nil // paid but not credited: refunded after the commit
	}
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	c.rc = RCApproved
	c.hasBal, c.bal = true, a.BalanceFen
	c.rec.BalanceAfter = a.BalanceFen
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindTopUp,
		ProcCode: c.proc, Channel: ch, Time: c.now, RRN: c.pay.channelTxn})
}

// topUpReversal takes a reversed top-up back off the account; the channel
// refund is the payment side's (an exception until it is confirmed).
func (e *Engine) topUpReversal(c *call, ts *store.TxnState, a *store.Account) error {
	if _, err := ledger.TakeBack(a, ts.Amount, c.now); c.refused(err) {
		return nil
	}
	c.rec.Exception = true // a negative balance, or only the refund due
	c.rec.Note += "; top-up reversed: channel refund due for " + ts.RRN
	if err := c.tx.PutAccount(a); err != nil {
		return err
	}
	ts.Reversed = true
	c.rec.Amount = -ts.Amount // taken back
	c.rec.BalanceAfter = a.BalanceFen
	c.hasBal, c.bal = true, a.BalanceFen
	return c.tx.PutTxn(ts)
}

// fee: 0200/170000, network (NET:<account>) or electricity
// (ELEC:<building>-<room>) fee from the campus account; a fee record for the
// utility is journaled with the target.
func (e *Engine) fee(c *call) error {
	amt, ok := c.amount(e.limits().TopUpMaxFen)
	if !ok {
		return nil
	}
	target := string(c.w.req.Bytes(63))
	if !ValidFeeTarget(target) {
		c.decline(RCFormat)
		c.rec.Note = "malformed fee target"
		return nil
	}
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return err
	}
	c.hasBal, c.bal = true, a.BalanceFen
	if c.refused(ledger.Spend(&a, amt, 0, c.now)) {
		return nil
	}
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	c.rc = RCApproved
	c.bal = a.BalanceFen
	c.channel = store.ChannelCampus
	c.rec.BalanceAfter = a.BalanceFen
	c.rec.Note = target
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindFee,
		ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now})
}

// ValidFeeTarget accepts NET:<account digits, 1–16> and
// ELEC:<building>-<room>, each 1–8 letters or digits.
func ValidFeeTarget(s string) bool {
	switch {
	case strings.HasPrefix(s, "NET:"):
		acct := s[4:]
		return len(acct) >= 1 && len(acct) <= 16 && allIn(acct, isDigit)
	case strings.HasPrefix(s, "ELEC:"):
		b, r, ok := strings.Cut(s[5:], "-")
		return ok && len(b) >= 1 && len(b) <= 8 && len(r) >= 1 && len(r) <= 8 &&
			allIn(b, isAlnum) && allIn(r, isAlnum)
	}
	return false
}

func isDigit(ch byte) bool { return ch >= '0' && ch <= '9' }
func isAlnum(ch byte) bool {
	return isDigit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
}

func allIn(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}
