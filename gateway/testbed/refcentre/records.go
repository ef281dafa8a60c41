package refcentre

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
)

// recOutcome is what delivering one record did, for the counters.
type recOutcome uint8

const (
	recAcked recOutcome = iota
	recApplied
	recDuplicate
	recRejected
)

// Deliver stores a batch of journal records, deduplicated by idempotency
// key, in one transaction. A record the centre already knows (it
// authorized that key online, or the record came before) is acknowledged
// and nothing more. Any other approved record that moves campus money is
// applied now, exactly once (centre.RecordEffect): the gateway decided it
// on its own — a top-up paid through a channel, an offline advice, a
// purchase approved in stand-in, the water consumed from a small wallet —
// so the account takes it even below zero. An approved reversal the
// centre did not authorize undoes its original. Everything else is kept
// as delivered and acknowledged.
func (c *Centre) Deliver(recs []centre.WireRecord) ([]centre.WireDeliveryResult, error) {
	if len(recs) > centre.MaxDelivery {
		return nil, fmt.Errorf("%w: at most %d records a batch", ErrBadRequest, centre.MaxDelivery)
	}
	res := make([]centre.WireDeliveryResult, len(recs))
	outs := make([]recOutcome, len(recs))
	err := c.db.Batch(func(tx *bolt.Tx) error {
		l := ledgerTx{tx: tx, now: c.now()}
		for i := range recs {
			r := &recs[i]
			res[i] = centre.WireDeliveryResult{Seq: r.Seq, OK: true}
			out, reason, err := l.deliver(r)
			if err != nil {
				return err
			}
			outs[i] = out
			switch out {
			case recRejected:
				res[i] = centre.WireDeliveryResult{Seq: r.Seq, Permanent: true, Reason: reason}
			case recApplied:
				res[i].Applied = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, o := range outs {
		switch o {
		case recApplied:
			c.stats.recApplied.Add(1)
		case recDuplicate:
			c.stats.recDuplicate.Add(1)
		case recRejected:
			c.stats.recRejected.Add(1)
		default:
			c.stats.recAcked.Add(1)
		}
	}
	return res, nil
}

func (l ledgerTx) deliver(r *centre.WireRecord) (recOutcome, string, error) {
	if r.Key.Terminal == "" || len(r.Key.Terminal) > 16 {
		return recRejected, "bad idempotency key", nil
	}
	if r.Kind == "" {
		return recRejected, "record has no kind", nil
	}
	key := centre.KeyString(r.Key.IdemKey())
	if held, ok, err := l.op(key); err != nil {
		return 0, "", err
	} else if ok {
		return l.settle(key, r, &held)
	}
	// The op's time is the transaction's (the gateway's clock), not the
	// delivery's: a record delivered after an outage still falls in the
	// period it belongs to when the two ledgers are reconciled.
	when := r.Time.UTC()
	if when.IsZero() {
		when = l.now
	}
	o := op{Source: srcRecord, Kind: r.Kind, Account: r.Account, Amount: r.Amount, Time: when,
		Result: centre.WireAuthResult{RC: txn.RC(r.Resp), Account: r.Account}}
	out := recAcked
	switch {
	case txn.RC(r.Resp) != txn.RCApproved:
	case r.Kind == centre.KindReversal && r.Orig != nil:
		origKey := centre.KeyString(r.Orig.IdemKey())
		o.Orig = origKey
		if _, ok, err := l.op(origKey); err != nil {
			return 0, "", err
		} else if !ok {
			// The original may still be on its way: remember the reversal
			// so that it is not applied when it comes.
			if err := l.tombstone(origKey); err != nil {
				return 0, "", err
			}
		} else {
			// Whether the original was authorized online or applied from
			// a record, this reversal (approved while the centre was
			// silent) undoes it now.
			if _, undone, err := l.undo(origKey); err != nil {
				return 0, "", err
			} else if undone {
				out = recApplied
			}
		}
	default:
		rec := r.Record()
		eff, ok := centre.RecordEffect(&rec)
		if !ok {
			break
		}
		if l.tombstoned(key) {
			break // reversed before it arrived: nothing to apply
		}
		old, found, err := l.account(r.Account)
		if err != nil {
			return 0, "", err
		}
		if !found {
			return recRejected, string(r.Kind) + " record for an unknown account", nil
		}
		a := old
		a.BalanceFen += eff.Balance
		a.WalletFen = max(a.WalletFen+eff.Wallet, 0)
		o.Delta, o.Wallet = eff.Balance, eff.Wallet
		if err := l.put(&a, &old); err != nil {
			return 0, "", err
		}
		o.Result = a.result(txn.RC(r.Resp))
		out = recApplied
	}
	return out, "", l.putOp(key, &o)
}

// rcDuplicateTransmission is the answer to a request that reuses an
// earlier request's key with other content (docs/protocol.md).
const rcDuplicateTransmission txn.RC = "94"

// settle handles the record of a key the centre already holds. A record
// delivered before, or the record of an authorization whose answer the
// gateway got, is a duplicate: nothing more. But the gateway's record is
// its final word on what the terminal was told, and when the answer to an
// online authorization was lost (a timeout, a broken connection, a body
// that was not JSON) the gateway decided on its own: a purchase approved
// in stand-in that the centre had declined is applied now; anything the
// centre had approved that the gateway declined (91 for a fee or a load
// with the centre silent) is undone. A record answered 94 is about
// another request that reused the key: it never settles anything.
func (l ledgerTx) settle(key string, r *centre.WireRecord, held *op) (recOutcome, string, error) {
	gwOK, centreOK := txn.RC(r.Resp) == txn.RCApproved, held.Result.RC == txn.RCApproved
	if held.Source != srcAuth || held.Reversed || gwOK == centreOK || txn.RC(r.Resp) == rcDuplicateTransmission {
		return recDuplicate, "", nil
	}
	if centreOK {
		if _, undone, err := l.undo(key); err != nil || !undone {
			return recDuplicate, "", err
		}
		return recApplied, "", nil
	}
	rec := r.Record()
	eff, ok := centre.RecordEffect(&rec)
	if !ok || l.tombstoned(key) {
		return recDuplicate, "", nil // nothing to apply, or reversed before
	}
	old, found, err := l.account(r.Account)
	if err != nil {
		return 0, "", err
	}
	if !found {
		return recRejected, string(r.Kind) + " record for an unknown account", nil
	}
	a := old
	a.BalanceFen += eff.Balance
	a.WalletFen = max(a.WalletFen+eff.Wallet, 0)
	held.Account, held.Delta, held.Wallet = a.No, eff.Balance, eff.Wallet
	if err := l.put(&a, &old); err != nil {
		return 0, "", err
	}
	held.Result = a.result(txn.RCApproved)
	return recApplied, "", l.putOp(key, held)
}
