package store

import (
	"encoding/binary"
	"fmt"
	"math"
)

// BatchTotals are the gateway's own totals of one terminal batch, compared
// with the POS's at settlement (0500).
type BatchTotals struct {
	Terminal    string
	Batch       uint32
	DebitFen    int64
	DebitCount  int
	CreditFen   int64
	CreditCount int
	Closed      bool
}

const batchV1 = 1

func batchKey(dst []byte, term string, batch uint32) ([]byte, error) {
	dst, err := appendTerminal(dst, term)
	if err != nil {
		return dst, err
	}
	return binary.BigEndian.AppendUint32(dst, batch), nil
}

// appendBatchTotals appends the stored encoding of b (Terminal and Batch
// are the key, not part of the value).
func appendBatchTotals(dst []byte, b *BatchTotals) ([]byte, error) {
	if b.DebitCount < 0 || b.CreditCount < 0 || b.DebitCount > math.MaxUint32 || b.CreditCount > math.MaxUint32 {
		return dst, fmt.Errorf("%w: batch count", ErrBadValue)
	}
	e := enc{b: dst}
	e.u8(batchV1)
	e.i64(b.DebitFen)
	e.u32(uint32(b.DebitCount))
	e.i64(b.CreditFen)
	e.u32(uint32(b.CreditCount))
	e.bool(b.Closed)
	return e.b, e.err
}

// decodeBatchTotals decodes a stored batch value (Terminal and Batch left
// as is).
func decodeBatchTotals(v []byte, b *BatchTotals) error {
	d := dec{b: v}
	d.version(batchV1)
	b.DebitFen = d.i64()
	b.DebitCount = int(d.u32())
	b.CreditFen = d.i64()
	b.CreditCount = int(d.u32())
	b.Closed = d.bool()
	return d.done()
}

// Batch returns the totals of one terminal batch.
func (tx *Tx) Batch(term string, batch uint32) (BatchTotals, bool, error) {
	var kb [TerminalMax + 4]byte
	key, err := batchKey(kb[:0], term, batch)
	if err != nil {
		return BatchTotals{}, false, err
	}
	bk, err := tx.bucket(bktBatches)
	if err != nil {
		return BatchTotals{}, false, err
	}
	v := bk.Get(key)
	if v == nil {
		return BatchTotals{}, false, nil
	}
	t := BatchTotals{Terminal: term, Batch: batch}
	if err := decodeBatchTotals(v, &t); err != nil {
		return BatchTotals{}, false, err
	}
	return t, true, nil
}

// PutBatch stores b under (b.Terminal, b.Batch).
func (tx *Tx) PutBatch(b *BatchTotals) error {
	key, err := batchKey(nil, b.Terminal, b.Batch)
	if err != nil {
		return err
	}
	bk, err := tx.bucket(bktBatches)
	if err != nil {
		return err
	}
	v, err := appendBatchTotals(nil, b)
	if err != nil {
		return err
	}
	return bk.Put(key, v)
}
