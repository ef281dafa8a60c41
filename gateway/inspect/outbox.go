package inspect

import (
	"errors"
	"time"

	"ecardgw/store"
)

var errFirst = errors.New("first found")

// Outbox counts the records waiting for the forwarder and returns the
// journal time of the oldest, inside a read transaction (for /status and
// `ecardgw store check`). oldest is zero when the outbox is empty.
func Outbox(tx *store.Tx) (records int, oldest time.Time, err error) {
	var first uint64
	err = tx.Outbox(0, 0, func(seq, _ uint64) error {
		if records == 0 {
			first = seq
		}
		records++
		return nil
	})
	if err != nil || records == 0 {
		return records, time.Time{}, err
	}
	err = tx.JournalSince(first-1, func(r *store.Record) error {
		oldest = r.Time
		return errFirst
	})
	if errors.Is(err, errFirst) {
		err = nil
	}
	return records, oldest, err
}
