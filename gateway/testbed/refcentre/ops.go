package refcentre

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

// Sources of an op.
const (
	srcAuth   = "auth"   // authorized online
	srcRecord = "record" // learnt from a delivered record
)

// op is what the centre did for one idempotency key: the answer it gave
// (returned again on a retry) and the money it moved, so that a refund or
// reversal can find and undo it.
type op struct {
	Source   string                `json:"source"`
	Kind     store.Kind            `json:"kind"`
	Account  uint64                `json:"account"`
	Amount   int64                 `json:"amount"`
	Delta    int64                 `json:"delta"`    // balance change applied (debit < 0)
	Wallet   int64                 `json:"wallet"`   // small-wallet change applied
	Refunded int64                 `json:"refunded"` // refunded since (purchases)
	Reversed bool                  `json:"reversed"` // undone by a reversal
	Orig     string                `json:"orig"`     // the original of a refund or reversal
	Result   centre.WireAuthResult `json:"result"`   // the answer given
	Time     time.Time             `json:"time"`
}

func (l ledgerTx) op(key string) (op, bool, error) {
	var o op
	ok, err := getJSON(l.tx.Bucket(bktOps), []byte(key), &o)
	return o, ok, err
}

func (l ledgerTx) putOp(key string, o *op) error {
	return putJSON(l.tx.Bucket(bktOps), []byte(key), o)
}

func (l ledgerTx) tombstoned(key string) bool {
	return l.tx.Bucket(bktTombs).Get([]byte(key)) != nil
}

func (l ledgerTx) tombstone(key string) error {
	return l.tx.Bucket(bktTombs).Put([]byte(key), []byte(l.now.Format(time.RFC3339Nano)))
}

// undo reverses the original op named by key (a reversal): the money it
// moved goes back, less what refunds already gave back. It reports
// whether there was anything to undo.
func (l ledgerTx) undo(key string) (account, bool, error) {
	o, ok, err := l.op(key)
	if err != nil || !ok || o.Reversed || (o.Delta == 0 && o.Wallet == 0) {
		return account{}, false, err
	}
	old, found, err := l.account(o.Account)
	if err != nil || !found {
		return account{}, false, err
	}
	a := old
	back := -o.Delta
	if o.Delta < 0 {
		back -= o.Refunded // a purchase: refunds already returned part of it
	}
	var purchase *op
	if o.Kind == centre.KindRefund && o.Orig != "" {
		if p, ok, err := l.op(o.Orig); err != nil {
			return account{}, false, err
		} else if ok {
			purchase = &p
		}
	}
	if purchase != nil && purchase.Reversed {
		// The purchase's reversal gave back only what this refund had not:
		// the customer is whole, the refund stands (the gateway's rule,
		// docs/protocol.md 9.2).
		back = 0
	}
	a.BalanceFen += back
	a.WalletFen -= o.Wallet
	if a.WalletFen < 0 {
		a.WalletFen = 0
	}
	if purchase != nil && !purchase.Reversed {
		// Undoing a refund makes that amount refundable again.
		purchase.Refunded -= o.Amount
		if err := l.putOp(o.Orig, purchase); err != nil {
			return account{}, false, err
		}
	}
	o.Reversed = true
	if err := l.putOp(key, &o); err != nil {
		return account{}, false, err
	}
	if err := l.put(&a, &old); err != nil {
		return account{}, false, err
	}
	return a, true, nil
}

// Ops reads one page of what the centre did, for reconciliation: the ops
// whose time is in [from, to), ordered by key, after the key after, at
// most limit. The reference centre walks every op to find them; a centre
// with millions of them a day would index them by time.
func (c *Centre) Ops(from, to time.Time, after string, limit int) (centre.WireOpsPage, error) {
	page := centre.WireOpsPage{Ops: []centre.WireOp{}}
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bktOps).Cursor()
		k, v := cur.First()
		if after != "" {
			k, v = cur.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = cur.Next()
			}
		}
		for ; k != nil; k, v = cur.Next() {
			var o op
			if err := json.Unmarshal(v, &o); err != nil {
				return ErrCorrupt
			}
			if o.Time.Before(from) || !o.Time.Before(to) {
				continue
			}
			if len(page.Ops) == limit {
				page.More = true
				return nil
			}
			page.Ops = append(page.Ops, centre.WireOp{Key: string(k), Kind: o.Kind, Account: o.Account,
				Amount: o.Amount, RC: o.Result.RC, Delta: o.Delta, Wallet: o.Wallet, Reversed: o.Reversed,
				Source: o.Source, Time: o.Time.UTC()})
		}
		return nil
	})
	return page, err
}
