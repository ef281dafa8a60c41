package refcentre

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
)

// MaxTopUp is the largest top-up (rules.md: at most 999.00 a time).
const MaxTopUp = 99900

// Authorize decides and applies one online request, once per key: a
// retry of the same key gets the stored answer and moves no money. The
// second result reports such a replay.
func (c *Centre) Authorize(r *centre.WireAuthRequest) (centre.WireAuthResult, bool, error) {
	if err := checkAuth(r); err != nil {
		return centre.WireAuthResult{}, false, err
	}
	key := centre.KeyString(r.Key.IdemKey())
	var (
		res    centre.WireAuthResult
		replay bool
	)
	// Batch: concurrent authorizations share one fsync. The function may
	// run again, so it assigns its results afresh each time.
	err := c.db.Batch(func(tx *bolt.Tx) error {
		l := ledgerTx{tx: tx, now: c.now()}
		prev, ok, err := l.op(key)
		if err != nil {
			return err
		}
		if ok {
			res, replay = prev.Result, true
			return nil
		}
		replay = false
		o := op{Source: srcAuth, Kind: r.Kind, Amount: r.Amount, Time: l.now}
		if err := l.decide(r, key, &o); err != nil {
			return err
		}
		res = o.Result
		return l.putOp(key, &o)
	})
	if err == nil {
		c.stats.auths.Add(1)
		if replay {
			c.stats.authReplays.Add(1)
		}
	}
	return res, replay, err
}

func checkAuth(r *centre.WireAuthRequest) error {
	if r.Key.Terminal == "" || len(r.Key.Terminal) > 16 {
		return fmt.Errorf("%w: key.terminal must be 1 to 16 characters", ErrBadRequest)
	}
	switch r.Kind {
	case centre.KindPurchase, centre.KindInquiry, centre.KindRefund, centre.KindReversal, centre.KindLoad,
		centre.KindTopUp, centre.KindFee, centre.KindAdvice, centre.KindSync:
	default:
		return fmt.Errorf("%w: unknown kind", ErrBadRequest)
	}
	if r.Amount < 0 {
		return fmt.Errorf("%w: negative amount", ErrBadRequest)
	}
	if (r.Kind == centre.KindRefund || r.Kind == centre.KindReversal) && r.Orig == nil {
		return fmt.Errorf("%w: %s needs orig", ErrBadRequest, r.Kind)
	}
	return nil
}

// decide fills o (answer and money moved) and writes the account.
func (l ledgerTx) decide(r *centre.WireAuthRequest, key string, o *op) error {
	decline := func(rc txn.RC, a *account) error {
		if a != nil {
			o.Account, o.Result = a.No, a.result(rc)
		} else {
			o.Result = centre.WireAuthResult{RC: rc}
		}
		return nil
	}
	if l.tombstoned(key) {
		// A reversal came first: the late original must not move money.
		return decline(txn.RCNoOriginal, nil)
	}
	switch r.Kind {
	case centre.KindReversal:
		return l.reverse(r, o)
	case centre.KindRefund:
		return l.refund(r, o)
	}
	old, ok, err := l.find(r.Account, r.Card)
	if err != nil {
		return err
	}
	if !ok {
		return decline(txn.RCUnknownCard, nil)
	}
	a := old
	o.Account = a.No
	if r.Kind != centre.KindAdvice && r.Kind != centre.KindTopUp {
		// An advice is goods already handed over: it is taken whatever the
		// state. A top-up brings money in.
		switch a.Status {
		case "active":
		case "lost":
			return decline(txn.RCLost, &a)
		default:
			return decline(txn.RCFrozen, &a)
		}
	} else if a.Status == "cancelled" {
		return decline(txn.RCFrozen, &a)
	}
	if r.CampusCode && !a.ECardActive {
		return decline(txn.RCInactive, &a)
	}
	switch r.Kind {
	case centre.KindInquiry:
		return decline(txn.RCApproved, &a)
	case centre.KindSync:
		a.ECardActive = true
		if s := r.Extra["card_serial"]; s != "" && len(s) <= 20 {
			a.CardSerial = s
		}
		if w, err := strconv.ParseInt(r.Extra["wallet_fen"], 10, 64); err == nil && w >= 0 {
			a.WalletFen = w
		}
	case centre.KindPurchase, centre.KindFee, centre.KindLoad:
		if r.Amount <= 0 {
			return decline(txn.RCBadAmount, &a)
		}
		if a.BalanceFen < r.Amount {
			return decline(txn.RCInsufficient, &a)
		}
		a.BalanceFen -= r.Amount
		o.Delta = -r.Amount
		if r.Kind == centre.KindLoad {
			a.WalletFen += r.Amount
			o.Wallet = r.Amount
		}
	case centre.KindAdvice:
		if r.Amount <= 0 {
			return decline(txn.RCBadAmount, &a)
		}
		a.BalanceFen -= r.Amount // may go below zero: reconciled later
		o.Delta = -r.Amount
	case centre.KindTopUp:
		if r.Amount <= 0 || r.Amount > MaxTopUp {
			return decline(txn.RCBadAmount, &a)
		}
		a.BalanceFen += r.Amount
		o.Delta = r.Amount
	}
	if err := l.put(&a, &old); err != nil {
		return err
	}
	o.Result = a.result(txn.RCApproved) // with the version put gave it
	return nil
}

// refund gives back part or all of an approved purchase.
func (l ledgerTx) refund(r *centre.WireAuthRequest, o *op) error {
	origKey := centre.KeyString(r.Orig.IdemKey())
	o.Orig = origKey
	p, ok, err := l.op(origKey)
	if err != nil {
		return err
	}
	if !ok || p.Reversed || p.Delta >= 0 || (p.Kind != centre.KindPurchase && p.Kind != centre.KindAdvice) {
		o.Result = centre.WireAuthResult{RC: txn.RCNoOriginal}
		return nil
	}
	old, found, err := l.account(p.Account)
	if err != nil {
		return err
	}
	if !found {
		o.Result = centre.WireAuthResult{RC: txn.RCUnknownCard}
		return nil
	}
	a := old
	o.Account = a.No
	if r.Amount <= 0 || r.Amount > -p.Delta-p.Refunded {
		o.Result = a.result(txn.RCBadAmount)
		return nil
	}
	p.Refunded += r.Amount
	if err := l.putOp(origKey, &p); err != nil {
		return err
	}
	a.BalanceFen += r.Amount
	o.Delta = r.Amount
	if err := l.put(&a, &old); err != nil {
		return err
	}
	o.Result = a.result(txn.RCApproved) // with the version put gave it
	return nil
}

// reverse undoes the original whatever it was. An unknown original is
// approved and remembered (a tombstone) so that it is refused if it
// arrives later, as the gateway does.
func (l ledgerTx) reverse(r *centre.WireAuthRequest, o *op) error {
	origKey := centre.KeyString(r.Orig.IdemKey())
	o.Orig = origKey
	p, ok, err := l.op(origKey)
	if err != nil {
		return err
	}
	if !ok {
		o.Result = centre.WireAuthResult{RC: txn.RCApproved}
		return l.tombstone(origKey)
	}
	a, undone, err := l.undo(origKey)
	if err != nil {
		return err
	}
	o.Account = p.Account
	if !undone {
		a, _, err = l.account(p.Account)
		if err != nil {
			return err
		}
	}
	o.Result = a.result(txn.RCApproved)
	return nil
}
