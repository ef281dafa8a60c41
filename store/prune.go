package store

import (
	"encoding/binary"
	"fmt"
)

// Journal retention: records archived elsewhere (an export file) may be
// deleted from the journal, oldest first. The journal then starts at a
// later sequence number; sequence numbers are never reused (JournalLen
// stays the count ever appended), and an account's chain of records ends
// where the pruned part begins.

// metaJournalStart is the settings key of the first sequence number not
// pruned (u64; absent: 1).
const metaJournalStart = "journal.start"

// JournalStart is the first sequence number the journal may still hold:
// everything below it was pruned.
func (tx *Tx) JournalStart() (uint64, error) { return tx.metaSeq(metaJournalStart, 1) }

// metaSeq reads a sequence number kept in the settings bucket (dflt when
// absent).
func (tx *Tx) metaSeq(key string, dflt uint64) (uint64, error) {
	v, err := tx.Meta(key)
	if err != nil || v == nil {
		return dflt, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: %s", ErrCorruptValue, key)
	}
	return binary.BigEndian.Uint64(v), nil
}

// PruneJournal deletes the journal records with from <= Seq <= to, at
// most max of them (max <= 0: no limit), and moves JournalStart past to.
// from must be JournalStart (records are pruned oldest first, with no
// gaps) and no record of the range may be in the outbox or the dead
// letters. It returns how many records it deleted and the last sequence
// number it got to; call it again from there + 1 until that is to.
func (tx *Tx) PruneJournal(from, to uint64, max int) (n int, last uint64, err error) {
	start, err := tx.JournalStart()
	if err != nil {
		return 0, 0, err
	}
	if from != start || to < from {
		return 0, 0, fmt.Errorf("%w: prune %d..%d: the journal starts at %d", ErrBadKey, from, to, start)
	}
	if first, ok, err := tx.firstOutbox(); err != nil {
		return 0, 0, err
	} else if ok && first <= to {
		return 0, 0, fmt.Errorf("%w: prune %d..%d: record %d is not delivered yet", ErrBadKey, from, to, first)
	}
	if b := tx.btx.Bucket(bktDeadLetter); b != nil {
		c := b.Cursor()
		if k, _ := c.Seek(u64key(from)); k != nil && binary.BigEndian.Uint64(k) <= to {
			return 0, 0, fmt.Errorf("%w: prune %d..%d: record %d is a dead letter", ErrBadKey, from, to, binary.BigEndian.Uint64(k))
		}
	}
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return 0, 0, err
	}
	last = from - 1
	c := j.Cursor()
	for k, _ := c.Seek(u64key(from)); k != nil; k, _ = c.Seek(u64key(last + 1)) {
		seq := binary.BigEndian.Uint64(k)
		if seq > to || (max > 0 && n == max) {
			break
		}
		if err := c.Delete(); err != nil {
			return n, last, err
		}
		n++
		last = seq
	}
	if n < max || max <= 0 {
		last = to // nothing else in the range
	}
	return n, last, tx.PutMeta(metaJournalStart, u64key(last+1))
}

// firstOutbox is the lowest sequence number in the outbox.
func (tx *Tx) firstOutbox() (uint64, bool, error) {
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return 0, false, err
	}
	k, _ := out.Cursor().First()
	if k == nil {
		return 0, false, nil
	}
	return binary.BigEndian.Uint64(k), true, nil
}

// Idempotency retention: the idempotency records of requests whose
// journal records are old enough may be deleted, oldest first, following
// the journal with a cursor of their own. A request whose record is gone
// is a new request again: a retransmission of it would be decided anew,
// a refund of it is answered 25, and its terminal may reuse its batch and
// STAN. The journal records stay (until journal retention), so nothing a
// reconciliation needs is lost.

// metaIdemPruned is the settings key of the last journal sequence number
// whose request's idempotency record was pruned (u64; absent: 0).
const metaIdemPruned = "idem.pruned"

// IdemPruned is the last journal sequence number up to which idempotency
// records were pruned (0: none).
func (tx *Tx) IdemPruned() (uint64, error) { return tx.metaSeq(metaIdemPruned, 0) }

// PruneIdem deletes the idempotency records of the requests journaled
// after IdemPruned up to sequence number to, visiting at most max records
// (max <= 0: no limit), and moves IdemPruned to the last one done, which
// it returns with how many records it deleted. It stops before a request
// whose newest value is still in the idempotency log (idemlog.go: not
// merged into the bucket yet), so that a later call deletes it once it
// is merged; records the journal no longer holds are passed over.
func (tx *Tx) PruneIdem(to uint64, max int) (n int, last uint64, err error) {
	if last, err = tx.IdemPruned(); err != nil {
		return 0, 0, err
	}
	if to <= last {
		return 0, last, nil
	}
	b, err := tx.bucket(bktIdem)
	if err != nil {
		return 0, 0, err
	}
	visited, stopped := 0, false
	var kb [IdemKeySize]byte
	err = tx.JournalSince(last, func(r *Record) error {
		if r.Seq > to {
			return errStopWalk
		}
		if max > 0 && visited == max {
			stopped = true
			return errStopWalk
		}
		key, err := r.Key.appendKey(kb[:0])
		if err == nil {
			_, pending := tx.pending[string(key)]
			_, logged := tx.db.mem.ranges[idemRange(key)].get(key)
			if pending || logged {
				stopped = true
				return errStopWalk
			}
			if b.Get(key) != nil {
				if err := b.Delete(key); err != nil {
					return err
				}
				n++
			}
			if err := tx.forgetTrade(r); err != nil {
				return err
			}
		} // else: not a terminal's request (its key names no terminal)
		visited++
		last = r.Seq
		return nil
	})
	if err != nil && err != errStopWalk {
		return n, last, err
	}
	if !stopped {
		last = to // nothing else in the range
	}
	return n, last, tx.PutMeta(metaIdemPruned, u64key(last))
}

// forgetTrade deletes the channel router's record of the payment-code
// trade of r's request (KindPayTrade), unless a cancel or refund of that
// trade is still owed: the retry queue routes by it. Only WeChat and Alipay
// trades have one (the direct adapters); UnionPay's always go through the
// centre.
func (tx *Tx) forgetTrade(r *Record) error {
	if r.Channel != ChannelWeChat && r.Channel != ChannelAlipay {
		return nil
	}
	svc := tx.btx.Bucket(bktService)
	if svc == nil {
		return nil
	}
	trade := r.Key.TradeNo()
	k, err := serviceKey(KindPayTrade, trade)
	if err != nil || svc.Get(k) == nil || tx.payJobOwed(trade) {
		return nil // no such record (not a direct channel's trade), or still routed by
	}
	return svc.Delete(k)
}

// errStopWalk ends a journal walk early.
var errStopWalk = fmt.Errorf("store: stop")
