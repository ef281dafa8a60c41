package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"ecardgw/store"
)

// errFull stops a journal scan once a batch is full.
var errFull = errors.New("forward: batch full")

// positionKey is the store setting that holds a named forwarder's last
// handled sequence number.
func positionKey(name string) string { return "forward.position." + name }

// head reads the next batch: from the outbox (the primary forwarder) or
// from the journal after the forwarder's own position (a second sink).
func (f *Forwarder) head(tx *store.Tx, n int) ([]store.Record, error) {
	recs := make([]store.Record, 0, n)
	if f.o.Position == "" {
		err := tx.Outbox(0, n, func(seq, _ uint64) error {
			r, ok, err := tx.JournalRecord(seq)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: outbox entry %d has no journal record", store.ErrCorruptValue, seq)
			}
			recs = append(recs, r)
			return nil
		})
		return recs, err
	}
	pos, err := position(tx, f.o.Position)
	if err != nil {
		return nil, err
	}
	err = tx.JournalSince(pos, func(r *store.Record) error {
		recs = append(recs, *r)
		if len(recs) == n {
			return errFull
		}
		return nil
	})
	if errors.Is(err, errFull) {
		err = nil
	}
	return recs, err
}

func position(tx *store.Tx, name string) (uint64, error) {
	v, err := tx.Meta(positionKey(name))
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, store.ErrCorruptValue
	}
	return binary.BigEndian.Uint64(v), nil
}

// done records the outcome of a batch durably: delivered records leave the
// outbox (or the position moves past them) and refused ones become dead
// letters, in one transaction.
func (f *Forwarder) done(tx *store.Tx, acked []uint64, dead []store.DeadLetter) error {
	for _, d := range dead {
		if err := tx.PutDeadLetter(d); err != nil {
			return err
		}
	}
	if f.o.Position != "" {
		last := uint64(0)
		for _, s := range acked {
			last = max(last, s)
		}
		for _, d := range dead {
			last = max(last, d.Seq)
		}
		return tx.PutMeta(positionKey(f.o.Position), binary.BigEndian.AppendUint64(nil, last))
	}
	for _, s := range acked {
		if err := tx.DeleteOutbox(s); err != nil {
			return err
		}
	}
	for _, d := range dead {
		if err := tx.DeleteOutbox(d.Seq); err != nil {
			return err
		}
	}
	return nil
}

// backlog reports the undelivered records and the time of the oldest.
func (f *Forwarder) backlog(tx *store.Tx) (int, time.Time, error) {
	if f.o.Position != "" {
		pos, err := position(tx, f.o.Position)
		if err != nil {
			return 0, time.Time{}, err
		}
		last := tx.JournalLen()
		if last <= pos {
			return 0, time.Time{}, nil
		}
		r, _, err := tx.JournalRecord(pos + 1)
		return int(last - pos), r.Time, err
	}
	n, err := tx.OutboxLen()
	if err != nil || n == 0 {
		return n, time.Time{}, err
	}
	var oldest time.Time
	err = tx.Outbox(0, 1, func(seq, _ uint64) error {
		r, _, err := tx.JournalRecord(seq)
		oldest = r.Time
		return err
	})
	return n, oldest, err
}
