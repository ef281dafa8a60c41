package store

import (
	"bytes"
	"fmt"
	"time"
)

// The service API (gateway/service) keeps the outcome of each top-up and
// fee payment under the caller's idempotency id (the channel trade number,
// the request id), so that a retried call gets the original answer and
// money never moves twice:
//
//	service: kind (u8 length · kind) · id -> opaque value (the service's encoding)
//
// The bucket is created on first use, so a store written before the
// service API existed opens unchanged.
var bktService = []byte("service")

// KindPayTrade is the service-result kind under which the channel router
// (gateway/paychan) records, by trade number (IdemKey.TradeNo), which
// channel a payment-code trade went to: "CHANNEL:purchase" or
// "CHANNEL:topup". PruneIdem removes it with the request's idempotency
// record.
const KindPayTrade = "paytrade"

// MaxServiceID bounds an idempotency id (a channel trade number is at most
// 64 characters).
const MaxServiceID = 128

func serviceKey(kind, id string) ([]byte, error) {
	if kind == "" || len(kind) > 32 || id == "" || len(id) > MaxServiceID {
		return nil, ErrBadKey
	}
	k := make([]byte, 0, 1+len(kind)+len(id))
	k = append(k, byte(len(kind)))
	k = append(k, kind...)
	return append(k, id...), nil
}

// ServiceResult returns the value stored for (kind, id) by
// PutServiceResult. The slice is a copy.
func (tx *Tx) ServiceResult(kind, id string) ([]byte, bool, error) {
	k, err := serviceKey(kind, id)
	if err != nil {
		return nil, false, err
	}
	b := tx.btx.Bucket(bktService)
	if b == nil {
		return nil, false, nil
	}
	v := b.Get(k)
	if v == nil {
		return nil, false, nil
	}
	return bytes.Clone(v), true, nil
}

// PutServiceResult stores v under (kind, id), replacing what was there.
func (tx *Tx) PutServiceResult(kind, id string, v []byte) error {
	k, err := serviceKey(kind, id)
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: nil service result", ErrBadValue)
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktService)
	if err != nil {
		return err
	}
	// bbolt keeps the value until commit: store a copy the caller cannot
	// change underneath it.
	return b.Put(k, bytes.Clone(v))
}

// ServiceResults calls fn with the id and value of every result stored
// under kind, in id order, until fn returns an error. The value is valid
// only during the call.
func (tx *Tx) ServiceResults(kind string, fn func(id string, v []byte) error) error {
	if kind == "" || len(kind) > 32 {
		return ErrBadKey
	}
	b := tx.btx.Bucket(bktService)
	if b == nil {
		return nil
	}
	prefix := append([]byte{byte(len(kind))}, kind...)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(string(k[len(prefix):]), v); err != nil {
			return err
		}
	}
	return nil
}

// DeleteServiceResult removes the result stored under (kind, id);
// removing an absent one is not an error.
func (tx *Tx) DeleteServiceResult(kind, id string) error {
	k, err := serviceKey(kind, id)
	if err != nil {
		return err
	}
	b := tx.btx.Bucket(bktService)
	if b == nil {
		return nil
	}
	return b.Delete(k)
}

// AccountJournal calls fn with the records of account, newest first,
// starting below sequence number before (0: from the newest). It stops when
// fn returns false or an error; more then reports whether older records of
// the account remain. The *Record is reused between calls. This pages a
// person's history without scanning the whole journal.
func (tx *Tx) AccountJournal(account, before uint64, fn func(*Record) (bool, error)) (more bool, err error) {
	if account == 0 {
		return false, fmt.Errorf("%w: account 0", ErrBadKey)
	}
	a, ok, err := tx.Account(account)
	if err != nil || !ok {
		return false, err
	}
	start := a.LastSeq
	if before != 0 {
		// Page on from the record the caller saw last when it is this
		// account's (the usual case: O(page)); otherwise walk the chain.
		start = 0
		if before <= a.LastSeq {
			if v := tx.btx.Bucket(bktJournal).Get(u64key(before)); v != nil {
				var r Record
				if err := decodeRecord(v, &r); err != nil {
					return false, err
				}
				if r.Account == account {
					start = r.PrevSeq
				}
			}
			if start == 0 {
				_, err := tx.accountChain(account, a.LastSeq, func(r *Record) (bool, error) {
					if r.Seq < before {
						start = r.Seq
						return false, nil
					}
					return true, nil
				})
				if err != nil {
					return false, err
				}
			}
		} else {
			start = a.LastSeq
		}
	}
	return tx.accountChain(account, start, fn)
}

// ImportAccounts is DB.ImportAccounts inside a caller's transaction, so that
// the service API can journal an import in the same commit as the import
// itself. It has the same rules: one all-or-nothing change, idempotent by
// account number, the balance set only when an account is created.
func (tx *Tx) ImportAccounts(rows []Account, now time.Time) (created, updated int, err error) {
	cards, err := tx.bucket(bktCards)
	if err != nil {
		return 0, 0, err
	}
	// Pass 1: free the old card numbers of accounts that change card, so
	// that a card moving within the list is not refused as in use.
	for i := range rows {
		old, ok, err := tx.Account(rows[i].No)
		if err != nil {
			return 0, 0, err
		}
		if ok && old.CardNumber != "" && old.CardNumber != rows[i].CardNumber {
			if err := deleteIfPoints(cards, []byte(old.CardNumber), u64key(old.No)); err != nil {
				return 0, 0, err
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		a, ok, err := tx.Account(r.No)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			a = Account{No: r.No, BalanceFen: r.BalanceFen}
		} else if sameImported(&a, r) {
			continue
		}
		a.Name, a.StaffNo, a.Status = r.Name, r.StaffNo, r.Status
		a.CardNumber, a.CardSerial = r.CardNumber, r.CardSerial
		a.Updated = now.UTC()
		if err := tx.PutAccount(&a); err != nil {
			return 0, 0, fmt.Errorf("import account %d: %w", r.No, err)
		}
		if ok {
			updated++
		} else {
			created++
		}
	}
	return created, updated, nil
}
