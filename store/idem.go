package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// An idempotency value holds the answer given to a request and, for an
// approved money movement, its transaction state (what a refund or
// reversal needs). Both live in one value under one key so that an
// approval dirties one random page of the file, not two: under load every
// bbolt page a commit touches is written and fsynced.
//
//	idem value: version (1) · fingerprint (16, version 3 only) · answer
//	            (u16 length + bytes; empty while the transaction is being
//	            decided) · state present (1) · state
//
// Version 2 values (written before fingerprints) are read with a zero
// fingerprint, which matches any request: they keep the behaviour they
// were written under.
const (
	idemV2 = 2
	idemV3 = 3
)

// Fingerprint is a digest of a request's content (everything that makes
// it the request it is: not its MAC, not its clock fields). A request
// whose idempotency key matches an earlier one is a retransmission only
// if its fingerprint matches too.
type Fingerprint [16]byte

// idemValue is a decoded idempotency value; slices alias the input.
type idemValue struct {
	fp     Fingerprint
	answer []byte
	state  []byte // a TxnState encoding, nil when none
}

func decodeIdemValue(b []byte) (idemValue, error) {
	var v idemValue
	d := dec{b: b}
	switch d.u8() {
	case idemV2:
	case idemV3:
		copy(v.fp[:], d.take(len(v.fp)))
	default:
		d.bad = true
	}
	v.answer = d.bytes()
	if d.bool() && !d.bad {
		v.state = d.b[d.off:]
		d.off = len(d.b)
	}
	if err := d.done(); err != nil {
		return idemValue{}, err
	}
	return v, nil
}

// appendIdemValue appends the stored encoding of v (always version 3).
func appendIdemValue(e *enc, v *idemValue) {
	e.u8(idemV3)
	e.b = append(e.b, v.fp[:]...)
	e.bytes(v.answer)
	e.bool(v.state != nil)
	e.b = append(e.b, v.state...)
}

func (tx *Tx) getIdem(k IdemKey) (idemValue, bool, error) {
	var kb [IdemKeySize]byte
	key, err := k.appendKey(kb[:0])
	if err != nil {
		return idemValue{}, false, err
	}
	raw, err := tx.idemRaw(key)
	if raw == nil || err != nil {
		return idemValue{}, false, err
	}
	v, err := decodeIdemValue(raw)
	return v, err == nil, err
}

// putIdem logs the value (see idemlog.go); a later commit merges it into
// the idem bucket.
func (tx *Tx) putIdem(k IdemKey, v idemValue) error {
	e := tx.scratch()
	var err error
	if e.b, err = k.appendKey(e.b); err != nil {
		return err
	}
	appendIdemValue(e, &v)
	if e.err != nil {
		return e.err
	}
	tx.keep(e)
	return tx.logIdem(e.b)
}

// Idem returns the exact answer frame recorded for request k (promise 2: a
// retransmission gets the original answer). The slice is a copy.
func (tx *Tx) Idem(k IdemKey) ([]byte, bool, error) {
	v, ok, err := tx.getIdem(k)
	if !ok || len(v.answer) == 0 {
		return nil, false, err
	}
	return append([]byte(nil), v.answer...), true, nil
}

// IdemAnswer returns the answer frame recorded for request k (a copy) and
// the fingerprint of the request it answered (zero for a record written
// before fingerprints, which matches any request).
func (tx *Tx) IdemAnswer(k IdemKey) ([]byte, Fingerprint, bool, error) {
	v, ok, err := tx.getIdem(k)
	if !ok || len(v.answer) == 0 {
		return nil, Fingerprint{}, false, err
	}
	return append([]byte(nil), v.answer...), v.fp, true, nil
}

// PutIdem records the answer frame for request k, keeping its transaction
// state and fingerprint if they were stored.
func (tx *Tx) PutIdem(k IdemKey, answer []byte) error {
	if len(answer) == 0 {
		return fmt.Errorf("%w: empty answer", ErrBadValue)
	}
	v, _, err := tx.getIdem(k)
	if err != nil {
		return err
	}
	v.answer = answer
	return tx.putIdem(k, v)
}

// PutIdemTxn records the answer frame for request k, the fingerprint of
// the request it answers, and its transaction state (nil: none) in one
// write: what an approval costs.
func (tx *Tx) PutIdemTxn(k IdemKey, fp Fingerprint, answer []byte, s *TxnState) error {
	if len(answer) == 0 {
		return fmt.Errorf("%w: empty answer", ErrBadValue)
	}
	v := idemValue{fp: fp, answer: answer}
	if s == nil {
		prev, _, err := tx.getIdem(k)
		if err != nil {
			return err
		}
		v.state = prev.state
		return tx.putIdem(k, v)
	}
	e := enc{}
	e.txn(s)
	if e.err != nil {
		return e.err
	}
	v.state = e.b
	return tx.putIdem(k, v)
}

// TxnState is an approved financial transaction, kept so a refund or
// reversal can find its original and how much of it is left.
type TxnState struct {
	Key      IdemKey
	Account  uint64
	Amount   int64
	Refunded int64
	Reversed bool
	Kind     Kind
	ProcCode uint32
	Channel  Channel
	Time     time.Time
	RRN      string
	Orig     *IdemKey // a refund's purchase (so a reversed refund can be given back to it)
}

const txnV1 = 1

func (e *enc) txn(s *TxnState) {
	e.u8(txnV1)
	e.u64(s.Account)
	e.i64(s.Amount)
	e.i64(s.Refunded)
	e.bool(s.Reversed)
	e.str(string(s.Kind))
	e.u32(s.ProcCode)
	e.str(string(s.Channel))
	e.time(s.Time)
	e.str(s.RRN)
	e.bool(s.Orig != nil)
	if s.Orig != nil {
		k, err := s.Orig.appendKey(nil)
		if err != nil && e.err == nil {
			e.err = err
		}
		e.bytes(k)
	}
}

// appendTxnState appends the stored encoding of s (Key is the bucket key,
// not part of the value).
func appendTxnState(dst []byte, s *TxnState) ([]byte, error) {
	e := enc{b: dst}
	e.txn(s)
	return e.b, e.err
}

// decodeTxnState decodes a stored TxnState value (Key is left as is).
func decodeTxnState(b []byte, s *TxnState) error {
	d := dec{b: b}
	d.version(txnV1)
	s.Account = d.u64()
	s.Amount = d.i64()
	s.Refunded = d.i64()
	s.Reversed = d.bool()
	s.Kind = Kind(d.str())
	s.ProcCode = d.u32()
	s.Channel = Channel(d.str())
	s.Time = d.time()
	s.RRN = d.str()
	if d.bool() {
		k, err := parseIdemKey(d.bytes())
		if err != nil {
			return err
		}
		s.Orig = &k
	}
	return d.done()
}

// Txn returns the approved transaction with key k.
func (tx *Tx) Txn(k IdemKey) (TxnState, bool, error) {
	v, ok, err := tx.getIdem(k)
	if !ok || v.state == nil {
		return TxnState{}, false, err
	}
	s := TxnState{Key: k}
	if err := decodeTxnState(v.state, &s); err != nil {
		return TxnState{}, false, err
	}
	return s, true, nil
}

// PutTxn stores s with the idempotency record of s.Key (the answer, if
// already recorded, is kept).
func (tx *Tx) PutTxn(s *TxnState) error {
	v, _, err := tx.getIdem(s.Key)
	if err != nil {
		return err
	}
	v.answer = append([]byte(nil), v.answer...)
	e := enc{}
	e.txn(s)
	if e.err != nil {
		return e.err
	}
	v.state = e.b
	return tx.putIdem(s.Key, v)
}

// TxnsOfBatch calls fn with every transaction state of one terminal's
// batch (settlement totals), in STAN order.
func (tx *Tx) TxnsOfBatch(term string, batch uint32, fn func(*TxnState) error) error {
	b, err := tx.bucket(bktIdem)
	if err != nil {
		return err
	}
	prefix, err := appendTerminal(make([]byte, 0, IdemKeySize), term)
	if err != nil {
		return err
	}
	prefix = binary.BigEndian.AppendUint32(prefix, batch)
	// The batch's values still in the idempotency log override and add to
	// the bucket's; both are walked in key order.
	logged, err := tx.idemOverlay(idemRange(prefix))
	if err != nil {
		return err
	}
	var extra []string
	for k := range logged {
		if bytes.HasPrefix([]byte(k), prefix) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	c := b.Cursor()
	inBatch := func(k, v []byte) ([]byte, []byte) {
		if k != nil && !bytes.HasPrefix(k, prefix) {
			return nil, nil
		}
		return k, v
	}
	k, raw := inBatch(c.Seek(prefix))
	for k != nil || len(extra) > 0 {
		var key, val []byte
		if len(extra) > 0 && (k == nil || extra[0] <= string(k)) {
			if k != nil && extra[0] == string(k) {
				k, raw = inBatch(c.Next()) // the logged value replaces the bucket's
			}
			key, val = []byte(extra[0]), logged[extra[0]]
			extra = extra[1:]
		} else {
			key, val = k, raw
			k, raw = inBatch(c.Next())
		}
		if err := batchState(key, val, fn); err != nil {
			return err
		}
	}
	return nil
}

// batchState calls fn with the transaction state in an idempotency value,
// if it has one.
func batchState(k, raw []byte, fn func(*TxnState) error) error {
	v, err := decodeIdemValue(raw)
	if err != nil {
		return err
	}
	if v.state == nil {
		return nil
	}
	key, err := parseIdemKey(k)
	if err != nil {
		return err
	}
	s := TxnState{Key: key}
	if err := decodeTxnState(v.state, &s); err != nil {
		return err
	}
	return fn(&s)
}

const tombV1 = 1

// Tombstone reports whether a reversal arrived for k before (or instead
// of) the original: the original must then be declined if it shows up.
func (tx *Tx) Tombstone(k IdemKey) (bool, error) {
	v, err := tx.get(bktTombstones, k)
	if v == nil || err != nil {
		return false, err
	}
	if _, err := decodeTombstone(v); err != nil {
		return false, err
	}
	return true, nil
}

// PutTombstone records a reversal of the unknown original k at time at.
func (tx *Tx) PutTombstone(k IdemKey, at time.Time) error {
	e := tx.scratch()
	e.u8(tombV1)
	e.time(at)
	tx.keep(e)
	return tx.put(bktTombstones, k, e.b)
}

// decodeTombstone returns the time stored in a tombstone value.
func decodeTombstone(b []byte) (time.Time, error) {
	d := dec{b: b}
	d.version(tombV1)
	t := d.time()
	return t, d.done()
}

// get reads bucket[k] (bbolt memory: valid inside the transaction).
func (tx *Tx) get(bucket []byte, k IdemKey) ([]byte, error) {
	var kb [IdemKeySize]byte
	key, err := k.appendKey(kb[:0])
	if err != nil {
		return nil, err
	}
	b, err := tx.bucket(bucket)
	if err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

func (tx *Tx) put(bucket []byte, k IdemKey, v []byte) error {
	key, err := k.key()
	if err != nil {
		return err
	}
	b, err := tx.bucket(bucket)
	if err != nil {
		return err
	}
	if err := b.Put(key, v); err != nil {
		return fmt.Errorf("store: put %s: %w", bucket, err)
	}
	return nil
}
