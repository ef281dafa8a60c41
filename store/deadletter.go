package store

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Forwarding helpers: reading one journal record by sequence, the outbox's
// length and oldest entry (for metrics), and the dead letters — records a
// receiver rejected for good, moved aside with the reason and never
// dropped (promise 3).
//
//	deadletter: seq (u64) · sink name -> time (i64 unix nanos) · reason
//
// The bucket is created on first use, so a store written before it
// existed opens unchanged.
var bktDeadLetter = []byte("deadletter")

// MaxDeadLetterReason bounds a stored reason (a receiver's text).
const MaxDeadLetterReason = 200

// DeadLetter is a record a sink rejected for good.
type DeadLetter struct {
	Seq    uint64
	Sink   string // the forwarder's sink name ("centre", "jetstream", ...)
	At     time.Time
	Reason string
}

// JournalRecord returns the journal record with this sequence number.
func (tx *Tx) JournalRecord(seq uint64) (Record, bool, error) {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return Record{}, false, err
	}
	v := j.Get(u64key(seq))
	if v == nil {
		return Record{}, false, nil
	}
	var r Record
	if err := decodeRecord(v, &r); err != nil {
		return Record{}, false, fmt.Errorf("journal %d: %w", seq, err)
	}
	return r, true, nil
}

// OutboxLen is the number of records not yet delivered by the forwarder.
func (tx *Tx) OutboxLen() (int, error) {
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return 0, err
	}
	return out.Stats().KeyN, nil
}

// PutDeadLetter keeps a rejected record's sequence number with the
// reason. It does not touch the outbox (the caller removes the entry, or
// moves its own position past it).
func (tx *Tx) PutDeadLetter(d DeadLetter) error {
	if d.Seq == 0 || d.Sink == "" || len(d.Sink) > 64 {
		return ErrBadKey
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktDeadLetter)
	if err != nil {
		return err
	}
	if len(d.Reason) > MaxDeadLetterReason {
		d.Reason = d.Reason[:MaxDeadLetterReason]
	}
	k := append(u64key(d.Seq), d.Sink...)
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(d.Reason)), uint64(d.At.UTC().UnixNano()))
	v = append(v, d.Reason...)
	return b.Put(k, v)
}

// DeadLetters calls fn for every dead letter in sequence order.
func (tx *Tx) DeadLetters(fn func(DeadLetter) error) error {
	b := tx.btx.Bucket(bktDeadLetter)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(k) <= 8 || len(v) < 8 {
			return fmt.Errorf("%w: dead letter", ErrCorruptValue)
		}
		return fn(DeadLetter{
			Seq:    binary.BigEndian.Uint64(k),
			Sink:   string(k[8:]),
			At:     time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(),
			Reason: string(v[8:]),
		})
	})
}

// RequeueDeadLetter puts a dead letter of the primary forwarder back into
// the outbox (after the receiver was fixed) and removes it from the dead
// letters. It reports false if there was no such dead letter.
func (tx *Tx) RequeueDeadLetter(seq uint64, sink string) (bool, error) {
	b := tx.btx.Bucket(bktDeadLetter)
	if b == nil {
		return false, nil
	}
	k := append(u64key(seq), sink...)
	if b.Get(k) == nil {
		return false, nil
	}
	r, ok, err := tx.JournalRecord(seq)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("%w: dead letter %d has no journal record", ErrCorruptValue, seq)
	}
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return false, err
	}
	if err := out.Put(u64key(seq), u64key(r.Account)); err != nil {
		return false, err
	}
	return true, b.Delete(k)
}
