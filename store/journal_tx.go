package store

import (
	"encoding/binary"
	"fmt"
)

// MaxLastJournal caps LastJournal's n so a request cannot make the store
// allocate without bound.
const MaxLastJournal = 1000

// AppendJournal assigns the next sequence number to r (r.Seq is set),
// stores it, adds it to the per-account index and to the outbox for the
// forwarder. It returns the sequence number.
func (tx *Tx) AppendJournal(r *Record) (uint64, error) {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return 0, err
	}
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return 0, err
	}
	seq, err := j.NextSequence()
	if err != nil {
		return 0, err
	}
	r.Seq = seq
	e := tx.scratch()
	e.record(r)
	if e.err != nil {
		r.Seq = 0
		return 0, e.err
	}
	tx.keep(e)
	// The outbox value is the account so the forwarder can keep per-account
	// order without decoding every record; the index key is account | seq.
	var small [24]byte
	binary.BigEndian.PutUint64(small[0:], r.Account)
	binary.BigEndian.PutUint64(small[8:], r.Account)
	binary.BigEndian.PutUint64(small[16:], seq)
	acct, key := small[0:8:8], small[8:24]
	skey := u64key(seq)
	if err := j.Put(skey, e.b); err != nil {
		return 0, err
	}
	if err := out.Put(skey, acct); err != nil {
		return 0, err
	}
	if r.Account != 0 {
		ix, err := tx.bucket(bktAcctJrnl)
		if err != nil {
			return 0, err
		}
		if err := ix.Put(key, nil); err != nil {
			return 0, err
		}
	}
	return seq, nil
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
		if err := DecodeRecord(v, &r); err != nil {
			return fmt.Errorf("journal %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// LastJournal returns up to n records of the account, newest first, from
// the per-account index (no scan of the journal). Account 0 means every
// account. n is capped at MaxLastJournal.
func (tx *Tx) LastJournal(n int, account uint64) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, MaxLastJournal)
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return nil, err
	}
	var out []Record
	add := func(v []byte) error {
		if v == nil {
			return fmt.Errorf("%w: journal index dangles", ErrCorruptValue)
		}
		var r Record
		if err := DecodeRecord(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}
	if account == 0 {
		c := j.Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			if err := add(v); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	ix, err := tx.bucket(bktAcctJrnl)
	if err != nil {
		return nil, err
	}
	c := ix.Cursor()
	var k []byte
	if account == ^uint64(0) {
		k, _ = c.Last()
	} else {
		// Seek to the first key of the next account and step back.
		k, _ = c.Seek(u64key(account + 1))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	}
	for ; k != nil && len(out) < n; k, _ = c.Prev() {
		if len(k) != 16 {
			return nil, ErrCorruptValue
		}
		if binary.BigEndian.Uint64(k) != account {
			break
		}
		if err := add(j.Get(k[8:])); err != nil {
			return nil, err
		}
	}
	return out, nil
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
