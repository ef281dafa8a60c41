package store

import (
	"encoding/binary"
)

// Outbox calls fn for up to max outbox entries with Seq > afterSeq, in
// order: the journal records not yet delivered by the forwarder, with the
// account each belongs to (so per-account order can be kept without
// decoding the records). max <= 0 means no limit.
func (tx *Tx) Outbox(afterSeq uint64, max int, fn func(seq, account uint64) error) error {
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return err
	}
	if afterSeq == ^uint64(0) {
		return nil
	}
	c := out.Cursor()
	n := 0
	for k, v := c.Seek(u64key(afterSeq + 1)); k != nil && (max <= 0 || n < max); k, v = c.Next() {
		if len(k) != 8 || len(v) != 8 {
			return ErrCorruptValue
		}
		if err := fn(binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(v)); err != nil {
			return err
		}
		n++
	}
	return nil
}

// DeleteOutbox removes a delivered record from the outbox (the journal
// keeps it). Deleting an absent entry is not an error.
func (tx *Tx) DeleteOutbox(seq uint64) error {
	out, err := tx.bucket(bktOutbox)
	if err != nil {
		return err
	}
	return out.Delete(u64key(seq))
}
