package store

import (
	"encoding/binary"
	"fmt"
)

// MaxLastJournal caps LastJournal's n so a request cannot make the store
// allocate without bound.
const MaxLastJournal = 1000

// appendFill is the fill factor of buckets written in key order.
const appendFill = 0.95

// accountFill is the accounts bucket's: filled in key order at import,
// then rewritten in place (see Tx.PutAccount).
const accountFill = 0.9

// AppendJournal assigns the next sequence number to r (r.Seq is set),
// links it to the account's previous record (r.PrevSeq, Account.LastSeq),
// stores it and adds it to the outbox for the forwarder. It returns the
// sequence number. The journal and the outbox grow at their ends, so a
// commit of many records writes few pages.
func (tx *Tx) AppendJournal(r *Record) (uint64, error) {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return 0, err
	}
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return 0, err
	}
	// Both grow only at their ends: fill pages before splitting instead of
	// leaving every page half empty (bbolt's default), halving the pages a
	// commit writes and the file's growth.
	j.FillPercent, out.FillPercent = appendFill, appendFill
	seq, err := j.NextSequence()
	if err != nil {
		return 0, err
	}
	r.Seq = seq
	r.PrevSeq = 0
	var acct Account
	linked := false
	if r.Account != 0 {
		a, ok, err := tx.Account(r.Account)
		if err != nil {
			return 0, err
		}
		if ok {
			acct, linked = a, true
			r.PrevSeq = a.LastSeq
		}
	}
	e := tx.scratch()
	e.record(r)
	if e.err != nil {
		r.Seq = 0
		return 0, e.err
	}
	tx.keep(e)
	// The outbox value is the account so the forwarder can keep per-account
	// order without decoding every record.
	skey := u64key(seq)
	if err := j.Put(skey, e.b); err != nil {
		return 0, err
	}
	if !tx.db.opt.NoOutbox {
		if err := out.Put(skey, u64key(r.Account)); err != nil {
			return 0, err
		}
	}
	if linked {
		acct.LastSeq = seq
		if err := tx.PutAccount(&acct); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// accountChain calls fn with the account's records newest first, starting
// at seq and following PrevSeq, until fn returns false or the chain ends.
// It reports whether an older record remained.
func (tx *Tx) accountChain(account, seq uint64, fn func(*Record) (bool, error)) (bool, error) {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return false, err
	}
	start, err := tx.JournalStart()
	if err != nil {
		return false, err
	}
	var r Record
	for seq != 0 {
		if seq < start {
			return false, nil // the older records were archived and pruned
		}
		v := j.Get(u64key(seq))
		if v == nil {
			return false, fmt.Errorf("%w: journal chain of account %d dangles at %d", ErrCorruptValue, account, seq)
		}
		if err := decodeRecord(v, &r); err != nil {
			return false, err
		}
		if r.Account != account || r.PrevSeq >= seq {
			return false, fmt.Errorf("%w: journal chain of account %d broken at %d", ErrCorruptValue, account, seq)
		}
		seq = r.PrevSeq
		goOn, err := fn(&r)
		if err != nil || !goOn {
			return seq != 0, err
		}
	}
	return false, nil
}

// JournalSince calls fn for every record with Seq > afterSeq in order,
// stopping at the first error. The *Record is reused between calls.
func (tx *Tx) JournalSince(afterSeq uint64, fn func(*Record) error) error {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return err
	}
	if afterSeq == ^uint64(0) {
		return nil
	}
	var r Record
	c := j.Cursor()
	for k, v := c.Seek(u64key(afterSeq + 1)); k != nil; k, v = c.Next() {
		if err := decodeRecord(v, &r); err != nil {
			return fmt.Errorf("journal %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// LastJournal returns up to n records of the account, newest first,
// following the account's chain (no scan of the journal). Account 0 means
// every account. n is capped at MaxLastJournal.
func (tx *Tx) LastJournal(n int, account uint64) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, MaxLastJournal)
	var out []Record
	if account == 0 {
		j, err := tx.bucket(bktJournal)
		if err != nil {
			return nil, err
		}
		c := j.Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var r Record
			if err := decodeRecord(v, &r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	a, ok, err := tx.Account(account)
	if err != nil || !ok {
		return nil, err
	}
	_, err = tx.accountChain(account, a.LastSeq, func(r *Record) (bool, error) {
		out = append(out, *r)
		return len(out) < n, nil
	})
	return out, err
}

// JournalLen is the number of records ever appended (the journal is
// append-only, so it is also the last Seq).
func (tx *Tx) JournalLen() uint64 {
	j := tx.btx.Bucket(bktJournal)
	if j == nil {
		return 0
	}
	return j.Sequence()
}
